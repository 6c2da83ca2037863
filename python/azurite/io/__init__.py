"""Collections in and out of open formats: Parquet, Arrow IPC and JSON Lines.

The record layout and the header every file carries are described in ``docs/formats.md``
(:mod:`azurite.io.layout` builds them). :func:`export_collection` writes a collection in
pages, :func:`import_collection` loads a file or table into a collection atomically, and
:func:`load_into_chroma` loads an exported file into a chromadb client;
:mod:`azurite.io.chroma` imports a chromadb directory. The ``_async`` siblings do the same
for the collections of an asynchronous client, awaiting its engine.

pyarrow is an optional dependency (``pip install azurite[arrow]``). The names below are
imported on first use, so that ``azurite.io.commands`` (the CLI) loads without it and a
missing pyarrow is one clear ImportError.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from azurite.io.exporting import (
        export_collection,
        export_collection_async,
        to_arrow,
        to_arrow_async,
    )
    from azurite.io.importing import import_collection, import_into, import_into_async
    from azurite.io.layout import FORMAT_VERSION, Header
    from azurite.io.to_chroma import load_into_chroma

_HOMES = {
    "export_collection": "exporting",
    "export_collection_async": "exporting",
    "to_arrow": "exporting",
    "to_arrow_async": "exporting",
    "import_collection": "importing",
    "import_into": "importing",
    "import_into_async": "importing",
    "FORMAT_VERSION": "layout",
    "Header": "layout",
    "load_into_chroma": "to_chroma",
}

#: What a missing pyarrow raises.
PYARROW_MISSING = "Export and import need pyarrow: pip install azurite[arrow]"


def require_pyarrow() -> None:
    try:
        importlib.import_module("pyarrow")
    except ImportError:
        raise ImportError(PYARROW_MISSING) from None


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'azurite.io' has no attribute {name!r}")
    require_pyarrow()
    return getattr(importlib.import_module(f"azurite.io.{home}"), name)


__all__ = [
    "FORMAT_VERSION",
    "Header",
    "export_collection",
    "export_collection_async",
    "import_collection",
    "import_into",
    "import_into_async",
    "load_into_chroma",
    "to_arrow",
    "to_arrow_async",
]
