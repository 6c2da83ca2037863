"""Hostile-input tests: short forms by default, long forms with ``pytest -m soak``."""

from __future__ import annotations

from pathlib import Path

import pytest

from hostile.soak import deselect_soak_unless_selected


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    deselect_soak_unless_selected(config, items, Path(__file__).parent)
