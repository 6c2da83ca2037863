"""The whole selection of chromadb's suite (marker ``chroma_suite_full``) runs only when asked
for with ``-m chroma_suite_full``; the plain test command runs its short form."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "chroma_suite_full" in (config.getoption("markexpr") or ""):
        return
    kept = [item for item in items if item.get_closest_marker("chroma_suite_full") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept
