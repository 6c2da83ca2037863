"""How a collection records and calls its embedding function.

The function's identity is stored in the collection configuration the way Chroma stores
it (``{"type": "known", "name": ..., "config": ...}`` or ``{"type": "legacy"}``), so that
databases and clients agree on it, and a collection opened without a function embeds with
the one rebuilt from that record. Calling it turns documents into vectors before they
reach the core.
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any

import numpy as np

from azurite.embedding_functions import (
    DefaultEmbeddingFunction,
    config_to_embedding_function,
)
from azurite.embedding_functions.base import normalized_output

NO_EMBEDDING_FUNCTION_MESSAGE = (
    "You must provide an embedding function to compute embeddings."
    "https://docs.trychroma.com/guides/embeddings"
)

#: The default argument of the client methods: Chroma's all-MiniLM-L6-v2. Creating it
#: loads nothing; the model is obtained on the first embedding.
DEFAULT_EMBEDDING_FUNCTION = DefaultEmbeddingFunction()


def _call_optional(function: Any, method: str) -> Any:
    implementation = getattr(function, method, None)
    if implementation is None:
        return NotImplemented
    try:
        return implementation()
    except (NotImplementedError, TypeError):
        return NotImplemented


def name_of(function: Any) -> Any:
    """``function.name()``, or ``NotImplemented`` for a function that has none."""
    return _call_optional(function, "name")


def is_legacy(function: Any) -> bool:
    """A function that cannot name and describe itself is stored as ``legacy``."""
    return name_of(function) is NotImplemented or (
        _call_optional(function, "get_config") is NotImplemented
    )


def configuration_entry(function: Any) -> dict[str, Any] | None:
    """The configuration entry that records `function` with a collection. The function's
    class becomes known by its name, as in Chroma, so the entry can be rebuilt later in
    this process."""
    if function is None:
        return None
    if is_legacy(function):
        return {"type": "legacy"}
    name = function.name()
    if hasattr(type(function), "build_from_config"):
        from azurite.embedding_functions import known_embedding_functions

        known_embedding_functions.setdefault(name, type(function))
    return {"type": "known", "name": name, "config": function.get_config()}


def default_space(function: Any) -> str | None:
    space = _call_optional(function, "default_space")
    return None if space is NotImplemented else space


def validate_signature(function: Any) -> None:
    """Chroma accepts only objects whose ``__call__`` is ``(self, input)``: a plain
    function or lambda is refused when the collection is created."""
    if function is None:
        return
    call = type(function).__call__ if callable(function) else None
    parameters = list(inspect.signature(call).parameters) if call is not None else []
    if parameters != ["self", "input"]:
        raise ValueError(
            "Expected EmbeddingFunction.__call__ to have the following signature: "
            "odict_keys(['self', 'input']), got "
            f"odict_keys({parameters!r})\nPlease see "
            "https://docs.trychroma.com/guides/embeddings for details of the "
            "EmbeddingFunction interface.\nPlease note the recent change to the "
            "EmbeddingFunction interface: https://docs.trychroma.com/deployment/migration"
            "#migration-to-0.4.16---november-7,-2023 \n"
        )


def check_conflict_on_create(function: Any, configured: Any) -> None:
    """An argument and a configured function that name different models conflict, unless
    the argument is just the default."""
    if function is None or configured is None:
        return
    name, configured_name = name_of(function), name_of(configured)
    if name != "default" and name != configured_name:
        raise ValueError(
            "Multiple embedding functions provided. Please provide only one. Embedding "
            f"function conflict: {name} vs {configured_name}"
        )


def check_conflict_on_get(function: Any, persisted: dict[str, Any] | None) -> None:
    """A function passed when opening a collection must have the persisted name (the
    default and ``None`` never conflict; a different config of the same name is fine)."""
    if function is None or persisted is None:
        return
    name, persisted_name = name_of(function), persisted.get("name")
    if name != "default" and persisted_name is not None and persisted_name != name:
        raise ValueError(
            "An embedding function already exists in the collection configuration, and a "
            "new one is provided. If this is intentional, please embed documents "
            f"separately. Embedding function conflict: new: {name} vs persisted: "
            f"{persisted_name}"
        )


def configuration_update_entry(persisted: dict[str, Any] | None, function: Any) -> Any:
    """The entry to store when ``modify(configuration={"embedding_function": function})``
    is called on a collection whose stored entry is `persisted`, as chromadb decides it:
    with no known function stored (none or legacy), `function` is recorded; a legacy
    `function` leaves a known stored entry as it is, with a DeprecationWarning; a function
    of another name is refused; one of the same name checks the change with its
    ``validate_config_update(old_config, new_config)``."""
    entry = configuration_entry(function)
    if entry is None:
        return persisted
    if persisted is None or persisted.get("type") != "known":
        return entry
    if entry["type"] != "known":
        warnings.warn(
            "cannot update legacy embedding function config", DeprecationWarning, stacklevel=2
        )
        return persisted
    if persisted.get("name") != entry["name"]:
        raise ValueError(
            "Cannot update embedding function: incompatible types "
            f"({persisted.get('name')} vs {entry['name']})"
        )
    check = getattr(function, "validate_config_update", None)
    if check is not None:
        check(persisted.get("config") or {}, entry["config"])
    return entry


def function_from_configuration(entry: dict[str, Any] | None) -> Any:
    """The function a stored configuration entry names, or ``None`` (none or legacy)."""
    if entry is None:
        return None
    return config_to_embedding_function(entry)


def embed(function: Any, inputs: list[Any], *, is_query: bool) -> list[np.ndarray]:
    """Runs the embedding function and checks what it returns."""
    if function is None:
        raise ValueError(NO_EMBEDDING_FUNCTION_MESSAGE)
    embed_query = getattr(function, "embed_query", None) if is_query else None
    output = embed_query(inputs) if embed_query is not None else function(inputs)
    return normalized_output(output)


__all__ = [
    "DEFAULT_EMBEDDING_FUNCTION",
    "DefaultEmbeddingFunction",
    "configuration_entry",
    "embed",
]
