"""A pytest plugin for the run of chromadb's own test suite (loaded with ``-p``).

It adapts the suite to this pytest, keeps the selection (the tests that talk to the server
under test), sets the Hypothesis profile of the form being run and writes every test's
outcome to the JSON file named by ``AZURITE_SUITE_OUTCOMES``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import hypothesis
import pytest
from _pytest.nodes import Node
from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

from chroma_suite.selection import (
    CLOUD_FEATURE_TESTS,
    SUITE_ROOT,
    excluded_file_reason,
    excluded_reason,
    lifted,
    test_name,
)

try:
    from _pytest.nodeid import coerce_node_id
except ImportError:  # pytest 8, whose items still have the attribute the suite sets
    pass
else:

    def _node_id(node: Node) -> str:
        return node.nodeid

    def _set_node_id(node: Node, nodeid: str) -> None:
        node._id = coerce_node_id(nodeid)

    # chromadb 1.5.9's conftest renames every item through ``item._nodeid``, the attribute
    # of pytest 8 that pytest 9 replaced by a structured id.
    Node._nodeid = property(_node_id, _set_node_id)  # type: ignore[attr-defined]

#: The form being run: ``short`` caps every test at a few Hypothesis examples, ``full`` keeps
#: the suite's own counts (its default ``fast`` preset and each test's explicit settings).
FORM = os.environ["AZURITE_SUITE_FORM"]
#: ``azurite`` or ``chroma``: only against Azurite are the Chroma Cloud feature tests lifted.
SERVER = os.environ["AZURITE_SUITE_SERVER"]
SHORT_MAX_EXAMPLES = 3
SHORT_STATEFUL_STEPS = 10


def _run_settings(base: hypothesis.settings) -> hypothesis.settings:
    # The same examples on every run and against both servers, so that outcomes compare; a
    # failure is not shrunk (minutes per failing test), the outcome is all that is kept.
    fixed = hypothesis.settings(
        base,
        derandomize=True,
        database=None,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.reuse, hypothesis.Phase.generate],
    )
    if FORM == "full":
        return fixed
    return hypothesis.settings(
        fixed,
        max_examples=min(fixed.max_examples, SHORT_MAX_EXAMPLES),
        stateful_step_count=min(fixed.stateful_step_count, SHORT_STATEFUL_STEPS),
    )


def pytest_plugin_registered(plugin: object) -> None:
    """The suite's conftest loads its Hypothesis profile when it is imported; the run's
    settings are loaded right after, before any test module reads them."""
    if getattr(plugin, "__file__", None) == str(SUITE_ROOT / "conftest.py"):
        hypothesis.settings.register_profile("azurite-suite", _run_settings(hypothesis.settings()))
        hypothesis.settings.load_profile("azurite-suite")


_outcomes: dict[str, dict[str, str]] = {}


def pytest_configure(config: pytest.Config) -> None:
    """chromadb's default embedding function finds its model files in a scratch cache
    directory (``onnx/`` in it) instead of downloading them to the user's home."""
    cache = Path(config.rootpath) / "chroma-model-cache"
    cache.mkdir(exist_ok=True)
    if not (cache / "onnx").exists():
        (cache / "onnx").symlink_to(os.environ["AZURITE_SUITE_MODEL_DIR"], target_is_directory=True)
    ONNXMiniLM_L6_V2.DOWNLOAD_PATH = cache


def pytest_ignore_collect(collection_path: Path) -> bool | None:
    if not collection_path.is_relative_to(SUITE_ROOT):
        return None
    relative = collection_path.relative_to(SUITE_ROOT).as_posix()
    return True if excluded_file_reason(relative) else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    kept, dropped = [], []
    for item in items:
        if excluded_reason(item, FORM):
            dropped.append(item)
        else:
            _fix_explicit_settings(item)
            if SERVER == "azurite" and lifted(test_name(item), FORM):
                _lift_distributed_only_skips(item, CLOUD_FEATURE_TESTS[test_name(item)])
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = kept


def _fix_explicit_settings(item: pytest.Item) -> None:
    """Tests with their own ``@settings`` (many set ``max_examples``) get the run's settings
    over them; Hypothesis reads a test's settings from this attribute when the test runs."""
    test = getattr(item, "obj", None)
    explicit = getattr(test, "_hypothesis_internal_use_settings", None)
    if isinstance(explicit, hypothesis.settings):
        test._hypothesis_internal_use_settings = _run_settings(explicit)  # type: ignore[union-attr]


def _lift_distributed_only_skips(item: pytest.Item, reasons: tuple[str, ...]) -> None:
    """Removes the ``skipif`` marks of ``item`` with these reasons, one each; any other mark
    (another skip, an xfail) stays. pytest evaluates skip marks from the item's own markers
    when the test is set up, so the test function and its module stay as chromadb ships them."""
    for reason in reasons:
        marks = [
            mark
            for mark in item.own_markers
            if mark.name == "skipif" and mark.kwargs.get("reason") == reason
        ]
        if len(marks) != 1:
            raise pytest.UsageError(
                f"{item.nodeid} is listed as a Chroma Cloud feature test skipped with "
                f"{reason!r}, but it has {len(marks)} skip marks with that reason"
            )
        item.own_markers.remove(marks[0])


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """One outcome per test: the first phase that did not pass decides it (a failed set-up
    or tear-down is an ``error``, as pytest counts it)."""
    if report.when == "call":
        outcome = report.outcome
        if hasattr(report, "wasxfail"):
            outcome = "xpassed" if report.passed else "xfailed"
    elif report.failed:
        outcome = "error"
    elif report.skipped:
        outcome = "skipped"
    else:
        _outcomes.setdefault(report.nodeid, {"outcome": "passed"})
        return
    recorded = _outcomes.setdefault(report.nodeid, {"outcome": "passed"})
    if recorded["outcome"] == "passed" and outcome != "passed":
        recorded["outcome"] = outcome
        message = _summary(report)
        recorded["message"] = message.splitlines()[0] if message else ""


def _summary(report: pytest.TestReport) -> str:
    if report.longrepr is None:  # an unexpected pass: the reason it was expected to fail
        return str(getattr(report, "wasxfail", ""))
    if isinstance(report.longrepr, tuple):  # a skip: (file, line, reason)
        return report.longrepr[2]
    crash = getattr(report.longrepr, "reprcrash", None)
    return crash.message if crash is not None else str(report.longrepr)


def pytest_sessionfinish(session: pytest.Session, exitstatus: Any) -> None:
    with open(os.environ["AZURITE_SUITE_OUTCOMES"], "w", encoding="utf-8") as output:
        json.dump(_outcomes, output, indent=1, sort_keys=True)
