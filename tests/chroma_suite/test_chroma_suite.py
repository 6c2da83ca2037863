"""chromadb 1.5.9's own test suite against ``azurite run``, held to ``chroma run``'s outcomes.

The short form (3 Hypothesis examples, derandomized) runs with every test command and is
compared with the outcomes recorded against ``chroma run``; the whole selection with the
suite's own example counts runs with ``-m chroma_suite_full`` against both servers, side
by side. In both, chromadb's tests of the Chroma Cloud features Azurite implements run
against Azurite with their distributed-only skip lifted and must pass. ``make
chroma-suite-record`` re-records the reference, the known failures and known differences.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chroma_suite.expected import (
    differences,
    load_known_differences,
    load_known_failures,
    load_reference,
)
from chroma_suite.runner import run_suite


def test_short_form_passes_what_chroma_run_passes(tmp_path: Path) -> None:
    azurite = run_suite("azurite", "short", tmp_path)
    problems = differences(
        load_reference("short", "chroma"),
        azurite,
        load_known_failures("short"),
        load_known_differences("short"),
        "short",
    )
    assert not problems, "\n".join(problems)


@pytest.mark.chroma_suite_full
def test_full_selection_passes_what_chroma_run_passes(tmp_path: Path) -> None:
    (tmp_path / "chroma").mkdir()
    (tmp_path / "azurite").mkdir()
    chroma = run_suite("chroma", "full", tmp_path / "chroma")
    azurite = run_suite("azurite", "full", tmp_path / "azurite")
    problems = differences(
        chroma, azurite, load_known_failures("full"), load_known_differences("full"), "full"
    )
    assert not problems, "\n".join(problems)
