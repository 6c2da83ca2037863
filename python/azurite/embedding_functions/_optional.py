"""Importing optional packages with a message that says what to install."""

from __future__ import annotations

import importlib
from typing import Any


def require(module: str, install: str, purpose: str) -> Any:
    """The imported `module`, or a ValueError naming the ``pip install`` to run."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ValueError(
            f"{purpose} needs the {module} python package. Please install it with "
            f"`pip install {install}`"
        ) from None
