"""Short and long forms: the reliability tests run a short form by default; their long forms
are marked ``soak`` and run with ``pytest -m soak tests/hostile tests/load``."""

from __future__ import annotations

from pathlib import Path

import pytest


def deselect_soak_unless_selected(
    config: pytest.Config, items: list[pytest.Item], directory: Path
) -> None:
    """Without ``-m``, the ``soak`` tests under ``directory`` are deselected (their short
    forms are separate tests, so nothing is skipped)."""
    if config.getoption("markexpr"):
        return
    soak = [
        item
        for item in items
        if item.get_closest_marker("soak") is not None and directory in item.path.parents
    ]
    if soak:
        config.hook.pytest_deselected(items=soak)
        items[:] = [item for item in items if item not in soak]
