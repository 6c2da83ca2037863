"""The comparison a run of chromadb's suite is held to, on hand-written outcomes: the ordinary
tests against chroma run's outcomes, the lifted Chroma Cloud feature tests on their own."""

from __future__ import annotations

from chroma_suite.expected import differences
from chroma_suite.runner import Outcomes

ORDINARY = "api/test_api.py::test_add[integration][single-region]"
GROUP_BY = "property/test_add.py::test_search_group_by[classic-integration][single-region]"
# Lifted in the full form only (its short form would wait out a compaction timeout).
SEARCH_FILTER = "property/test_filtering.py::test_filterable_metadata_search[classic-integration][single-region]"
SKIPPED = {
    "outcome": "skipped",
    "message": "Skipped: GroupBy is only supported in distributed mode",
}
PASSED = {"outcome": "passed"}
FAILED = {"outcome": "failed", "message": "AssertionError: ids differ"}


def test_a_lifted_test_must_pass_though_chroma_run_skips_it() -> None:
    chroma: Outcomes = {ORDINARY: PASSED, GROUP_BY: SKIPPED}
    assert differences(chroma, {ORDINARY: PASSED, GROUP_BY: PASSED}, {}, {}, "short") == []
    assert differences(chroma, {ORDINARY: PASSED, GROUP_BY: FAILED}, {}, {}, "short") == [
        f"failed (Chroma Cloud feature, skip lifted): {GROUP_BY}: AssertionError: ids differ"
    ]
    assert differences(chroma, {ORDINARY: PASSED, GROUP_BY: SKIPPED}, {}, {}, "short") == [
        f"skipped (Chroma Cloud feature, skip lifted): {GROUP_BY}: {SKIPPED['message']}"
    ]


def test_a_known_difference_excuses_only_a_lifted_test_that_does_not_pass() -> None:
    chroma: Outcomes = {ORDINARY: PASSED, GROUP_BY: SKIPPED}
    known = {GROUP_BY: "waits for a compaction"}
    assert differences(chroma, {ORDINARY: PASSED, GROUP_BY: FAILED}, {}, known, "short") == []
    assert differences(chroma, {ORDINARY: PASSED, GROUP_BY: PASSED}, {}, known, "short") == [
        f"known difference that now passes (remove it from the list): {GROUP_BY}"
    ]
    assert differences(
        chroma, {ORDINARY: FAILED, GROUP_BY: PASSED}, {}, {ORDINARY: "x"}, "short"
    ) == [
        f"failed (passes on chroma run): {ORDINARY}: AssertionError: ids differ",
        f"known difference that is not a lifted test of this run: {ORDINARY}",
    ]


def test_a_test_lifted_in_the_full_form_only_is_ordinary_in_the_short_form() -> None:
    skipped_by_chromadb = {"outcome": "skipped", "message": "Skipped: Search API only available"}
    chroma: Outcomes = {SEARCH_FILTER: skipped_by_chromadb}
    assert differences(chroma, {SEARCH_FILTER: skipped_by_chromadb}, {}, {}, "short") == []
    assert differences(chroma, {SEARCH_FILTER: skipped_by_chromadb}, {}, {}, "full") == [
        f"skipped (Chroma Cloud feature, skip lifted): {SEARCH_FILTER}: "
        "Skipped: Search API only available"
    ]
    assert (
        differences(chroma, {SEARCH_FILTER: FAILED}, {}, {SEARCH_FILTER: "timeout"}, "full") == []
    )
