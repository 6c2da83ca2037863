"""How a collection records and calls its embedding function.

The function's identity is stored in the collection configuration the way Chroma stores
it (``{"type": "known", "name": ..., "config": ...}`` or ``{"type": "legacy"}``), so that
databases and clients agree on it. Calling it turns documents into vectors before they
reach the core.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from azurite.api import validation

NO_EMBEDDING_FUNCTION_MESSAGE = (
    "You must provide an embedding function to compute embeddings."
    "https://docs.trychroma.com/guides/embeddings"
)


class DefaultEmbeddingFunctionMarker:
    """Stands for Chroma's default embedding function (all-MiniLM-L6-v2) in collection
    configurations. Collections that use it record ``{"type": "known", "name": "default"}``
    and the ``l2`` space exactly as Chroma does; computing embeddings with it needs the
    model runtime, which this build does not bundle, so such collections take explicit
    embeddings."""

    def name(self) -> str:
        return "default"

    def get_config(self) -> dict[str, Any]:
        return {}

    def default_space(self) -> str:
        return "l2"

    def supported_spaces(self) -> list[str]:
        return ["cosine", "l2", "ip"]

    def __call__(self, input: Any) -> Any:
        raise ValueError(
            "The default embedding function (all-MiniLM-L6-v2) is not available in this build "
            "of Azurite: pass embeddings explicitly or give the collection an "
            "embedding_function."
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DefaultEmbeddingFunctionMarker)

    def __hash__(self) -> int:
        return hash(DefaultEmbeddingFunctionMarker)


DEFAULT_EMBEDDING_FUNCTION = DefaultEmbeddingFunctionMarker()


def _call_optional(function: Any, method: str) -> Any:
    implementation = getattr(function, method, None)
    if implementation is None:
        return NotImplemented
    try:
        return implementation()
    except (NotImplementedError, TypeError):
        return NotImplemented


def is_legacy(function: Any) -> bool:
    """A function that cannot name and describe itself is stored as ``legacy``."""
    return _call_optional(function, "name") is NotImplemented or (
        _call_optional(function, "get_config") is NotImplemented
    )


def configuration_entry(function: Any) -> dict[str, Any] | None:
    """The configuration entry that records `function` with a collection."""
    if function is None:
        return None
    if is_legacy(function):
        return {"type": "legacy"}
    return {"type": "known", "name": function.name(), "config": function.get_config()}


def default_space(function: Any) -> str | None:
    space = _call_optional(function, "default_space")
    return None if space is NotImplemented else space


def embed(function: Any, inputs: list, *, is_query: bool) -> list[np.ndarray]:
    """Runs the embedding function and checks what it returns."""
    if function is None:
        raise ValueError(NO_EMBEDDING_FUNCTION_MESSAGE)
    embed_query = getattr(function, "embed_query", None) if is_query else None
    output = embed_query(inputs) if embed_query is not None else function(inputs)
    embeddings = validation.normalize_embeddings(output)
    if embeddings is None:
        raise ValueError(f"Expected embeddings to be a list of vectors, got {output}")
    return validation.validate_embeddings(embeddings)
