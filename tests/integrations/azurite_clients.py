"""A pytest plugin that keeps the real chromadb importable but makes every client Azurite's.

Loaded with `-p azurite_clients`: the package under test imports chromadb's own modules
(types, configuration, embedding functions), while every client its tests build and pass
with `client=`, and every client the package builds for itself, is an Azurite client.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import chromadb
import chromadb.config

import azurite
import azurite.config

CLIENT_FACTORIES = (
    "Client",
    "EphemeralClient",
    "PersistentClient",
    "HttpClient",
    "AsyncHttpClient",
    "CloudClient",
    "AdminClient",
)


def _azurite_settings(value: Any) -> Any:
    """chromadb's Settings, as the tests build them, carried over to Azurite's by field."""
    if isinstance(value, chromadb.config.Settings):
        return azurite.config.Settings(**value.model_dump(exclude_unset=True))
    return value


def _taking_chromadb_settings(factory: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(factory)
    def build(*args: Any, **kwargs: Any) -> Any:
        args = tuple(_azurite_settings(arg) for arg in args)
        kwargs = {key: _azurite_settings(value) for key, value in kwargs.items()}
        return factory(*args, **kwargs)

    return build


for _name in CLIENT_FACTORIES:
    setattr(chromadb, _name, _taking_chromadb_settings(getattr(azurite, _name)))
