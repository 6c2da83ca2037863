"""A pytest plugin that writes each test's outcome, by node id, to a JSON file.

Loaded with `-p record_outcomes` into an integration's own pytest run; the file named by
AZURITE_OUTCOMES_FILE then maps every collected test to passed, failed, skipped, xfailed or
xpassed (a test whose setup or teardown fails counts as failed, as pytest counts an error),
gives the message of each failure, and tells which module `chromadb` was and where its Client came from, so the caller can
check that the run used Azurite.
"""

from __future__ import annotations

import json
import os
import sys

import pytest

OUTCOMES_FILE_VARIABLE = "AZURITE_OUTCOMES_FILE"

_outcomes: dict[str, str] = {}
_failure_messages: dict[str, str] = {}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        _outcomes[item.nodeid] = "not run"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if hasattr(report, "wasxfail"):
        _outcomes[report.nodeid] = "xfailed" if report.skipped else "xpassed"
    elif report.failed:
        _outcomes[report.nodeid] = "failed"
        crash = getattr(report.longrepr, "reprcrash", None)
        _failure_messages.setdefault(
            report.nodeid, crash.message if crash else str(report.longrepr)
        )
    elif report.skipped:
        _outcomes[report.nodeid] = "skipped"
    elif report.passed and report.when == "call" and _outcomes[report.nodeid] != "failed":
        _outcomes[report.nodeid] = "passed"


def pytest_sessionfinish(session: pytest.Session) -> None:
    chromadb = sys.modules["chromadb"]
    record = {
        "outcomes": _outcomes,
        "failure_messages": _failure_messages,
        "chromadb": chromadb.__name__,
        "client_factory": chromadb.Client.__module__,
    }
    with open(os.environ[OUTCOMES_FILE_VARIABLE], "w", encoding="utf-8") as out:
        json.dump(record, out, indent=1, sort_keys=True)
