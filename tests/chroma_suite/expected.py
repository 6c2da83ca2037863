"""The checked-in outcomes of chromadb's suite and the comparison every run is held to.

``reference/<form>-<server>.json`` holds each selected test's outcome against ``chroma run``
and ``azurite run``; ``known_failures.json`` names, per form, the tests that pass against
``chroma run`` but not against Azurite, each with its reason. A run of Azurite is correct
when it selects the same tests as the reference and every test that passes against
``chroma run`` passes, except exactly the known failures.
"""

from __future__ import annotations

import json
from pathlib import Path

from chroma_suite.runner import Outcomes

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "reference"
KNOWN_FAILURES = HERE / "known_failures.json"


def reference_path(form: str, server: str) -> Path:
    return REFERENCE / f"{form}-{server}.json"


def load_reference(form: str, server: str) -> Outcomes:
    outcomes: Outcomes = json.loads(reference_path(form, server).read_text())
    return outcomes


def load_known_failures(form: str) -> dict[str, str]:
    known: dict[str, dict[str, str]] = json.loads(KNOWN_FAILURES.read_text())
    return known[form]


def passes_on(outcomes: Outcomes) -> set[str]:
    return {test for test, result in outcomes.items() if result["outcome"] == "passed"}


def differences(chroma: Outcomes, azurite: Outcomes, known: dict[str, str]) -> list[str]:
    """Every way ``azurite``'s run departs from ``chroma``'s beyond the ``known`` failures."""
    problems = [
        f"not in the reference selection: {test}" for test in sorted(azurite.keys() - chroma.keys())
    ]
    problems += [f"missing from the run: {test}" for test in sorted(chroma.keys() - azurite.keys())]
    for test in sorted(passes_on(chroma) & azurite.keys()):
        result = azurite[test]
        if result["outcome"] != "passed" and test not in known:
            problems.append(
                f"{result['outcome']} (passes on chroma run): {test}: {result.get('message', '')}"
            )
    for test in sorted(known):
        if test not in passes_on(chroma):
            problems.append(f"known failure that does not pass on chroma run: {test}")
        elif test in passes_on(azurite):
            problems.append(f"known failure that now passes (remove it from the list): {test}")
    return problems
