"""Re-records the reference outcomes of chromadb's suite and the list of known failures.

    make chroma-suite-record                       # the short form (what CI compares with)
    make chroma-suite-record RECORD_ARGS="--server azurite"   # keep chroma run's reference
    make chroma-suite-record RECORD_ARGS="--form full"        # the full selection (hours)

Each run starts a fresh server. A test that passes against ``chroma run`` but not against
Azurite keeps the reason already written for it in ``known_failures.json``; a new one gets
its failure message prefixed with ``UNEXPLAINED:``, to be replaced by its cause. Tests that
pass now leave the list. ``known_differences.json`` is kept the same way for the tests of
Chroma Cloud features run with their skip lifted that do not pass against Azurite. The
per-file counts are printed for the issue note.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

from chroma_suite.expected import (
    KNOWN_DIFFERENCES,
    KNOWN_FAILURES,
    REFERENCE,
    lifted_in,
    load_reference,
    passes_on,
    reference_path,
)
from chroma_suite.runner import FORMS, SERVERS, Outcomes, run_suite

OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")


def per_file(outcomes: Outcomes) -> dict[str, Counter[str]]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for test, result in outcomes.items():
        counts[test.split("::")[0]][result["outcome"]] += 1
    return counts


def table(form: str, chroma: Outcomes, azurite: Outcomes) -> str:
    header = " | ".join(f"{server} {outcome}" for server in SERVERS for outcome in OUTCOMES)
    lines = [f"{form} form: file | {header}"]
    counts = {"chroma": per_file(chroma), "azurite": per_file(azurite)}
    files = sorted(counts["chroma"].keys() | counts["azurite"].keys())
    for name in [*files, "total"]:
        cells = []
        for server in SERVERS:
            per = counts[server]
            total = sum((per[f] for f in files), Counter()) if name == "total" else per[name]
            cells += [str(total[outcome]) for outcome in OUTCOMES]
        lines.append(f"{name} | {' | '.join(cells)}")
    return "\n".join(lines)


def update_list(path: Path, form: str, failing: list[str], azurite: Outcomes) -> None:
    """Sets ``path``'s list for ``form`` to ``failing``, keeping the reasons already written."""
    known: dict[str, dict[str, str]] = json.loads(path.read_text()) if path.exists() else {}
    previous = known.get(form, {})
    known[form] = {
        test: previous.get(test) or f"UNEXPLAINED: {azurite[test].get('message', '')}"
        for test in failing
    }
    path.write_text(json.dumps(known, indent=1, sort_keys=True) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--form", choices=[*FORMS, "all"], default="short")
    parser.add_argument("--server", choices=[*SERVERS, "both"], default="both")
    arguments = parser.parse_args()
    forms = FORMS if arguments.form == "all" else (arguments.form,)
    servers = SERVERS if arguments.server == "both" else (arguments.server,)
    REFERENCE.mkdir(exist_ok=True)
    for form in forms:
        for server in servers:
            with tempfile.TemporaryDirectory() as directory:
                outcomes = run_suite(server, form, Path(directory))
            reference_path(form, server).write_text(
                json.dumps(outcomes, indent=1, sort_keys=True) + "\n"
            )
        chroma, azurite = load_reference(form, "chroma"), load_reference(form, "azurite")
        update_list(KNOWN_FAILURES, form, sorted(passes_on(chroma) - passes_on(azurite)), azurite)
        update_list(
            KNOWN_DIFFERENCES, form, sorted(lifted_in(azurite, form) - passes_on(azurite)), azurite
        )
        print(table(form, chroma, azurite))


if __name__ == "__main__":
    main()
