"""The checked-in outcomes of chromadb's suite and the comparison every run is held to.

``reference/<form>-<server>.json`` holds each selected test's outcome against ``chroma run``
and ``azurite run``; ``known_failures.json`` names, per form, the tests that pass against
``chroma run`` but not against Azurite, each with its reason. A run of Azurite is correct
when it selects the same tests as the reference and every test that passes against
``chroma run`` passes, except exactly the known failures.

The tests of Chroma Cloud features that Azurite runs with their distributed-only skip lifted
(``chroma_suite.selection.CLOUD_FEATURE_TESTS``) stay skipped against ``chroma run``, which
refuses those features, so its outcome is no reference for them: each must pass against
Azurite, except exactly the ones ``known_differences.json`` names per form with the reason.
"""

from __future__ import annotations

import json
from pathlib import Path

from chroma_suite.runner import Outcomes
from chroma_suite.selection import lifted_outcome

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "reference"
KNOWN_FAILURES = HERE / "known_failures.json"
KNOWN_DIFFERENCES = HERE / "known_differences.json"


def reference_path(form: str, server: str) -> Path:
    return REFERENCE / f"{form}-{server}.json"


def load_reference(form: str, server: str) -> Outcomes:
    outcomes: Outcomes = json.loads(reference_path(form, server).read_text())
    return outcomes


def load_known_failures(form: str) -> dict[str, str]:
    known: dict[str, dict[str, str]] = json.loads(KNOWN_FAILURES.read_text())
    return known[form]


def load_known_differences(form: str) -> dict[str, str]:
    known: dict[str, dict[str, str]] = json.loads(KNOWN_DIFFERENCES.read_text())
    return known[form]


def lifted_in(outcomes: Outcomes, form: str) -> set[str]:
    """The tests of ``outcomes`` that run with their distributed-only skip lifted in ``form``."""
    return {test for test in outcomes if lifted_outcome(test, form)}


def passes_on(outcomes: Outcomes) -> set[str]:
    return {test for test, result in outcomes.items() if result["outcome"] == "passed"}


def differences(
    chroma: Outcomes,
    azurite: Outcomes,
    known_failures: dict[str, str],
    known_differences: dict[str, str],
    form: str,
) -> list[str]:
    """Every way ``azurite``'s run of ``form`` departs from ``chroma``'s beyond the known
    failures, and every lifted test that does not pass beyond the known differences."""
    problems = [
        f"not in the reference selection: {test}" for test in sorted(azurite.keys() - chroma.keys())
    ]
    problems += [f"missing from the run: {test}" for test in sorted(chroma.keys() - azurite.keys())]
    for test in sorted(passes_on(chroma) & azurite.keys()):
        result = azurite[test]
        if result["outcome"] != "passed" and test not in known_failures:
            problems.append(
                f"{result['outcome']} (passes on chroma run): {test}: {result.get('message', '')}"
            )
    for test in sorted(known_failures):
        if test not in passes_on(chroma):
            problems.append(f"known failure that does not pass on chroma run: {test}")
        elif test in passes_on(azurite):
            problems.append(f"known failure that now passes (remove it from the list): {test}")
    lifted = lifted_in(azurite, form)
    for test in sorted(lifted - passes_on(azurite) - known_differences.keys()):
        result = azurite[test]
        problems.append(
            f"{result['outcome']} (Chroma Cloud feature, skip lifted): {test}: "
            f"{result.get('message', '')}"
        )
    for test in sorted(known_differences):
        if test not in lifted:
            problems.append(f"known difference that is not a lifted test of this run: {test}")
        elif test in passes_on(azurite):
            problems.append(f"known difference that now passes (remove it from the list): {test}")
    return problems
