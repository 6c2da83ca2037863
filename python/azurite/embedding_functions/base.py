"""The embedding function protocol (chromadb 1.x) and the registry of known functions.

An embedding function turns documents (or images) into vectors. Functions that can name
and describe themselves (``name()``, ``get_config()``, ``build_from_config()``) are stored
with a collection by name and config, and rebuilt from the registry when the collection is
opened again; others are "legacy" and must be passed every time.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Generic, TypeVar, Union, overload

import numpy as np
import tenacity

from azurite.api import validation

Document = str
Documents = list[Document]
Image = np.ndarray
Images = list[Image]
Embeddable = Union[Documents, Images]
Embedding = np.ndarray
Embeddings = list[Embedding]
Space = str

D = TypeVar("D", contravariant=True)
L = TypeVar("L", covariant=True)

ALL_SPACES: list[Space] = ["cosine", "l2", "ip"]


def normalized_output(output: Any) -> Embeddings:
    """What every embedding function returns: a list of 1-D numeric numpy arrays."""
    if output is None:
        raise ValueError("Embedding function returned None instead of embeddings")
    embeddings = validation.normalize_embeddings(output)
    if embeddings is None:
        raise ValueError(f"Expected embeddings to be a list of vectors, got {output}")
    return validation.validate_embeddings(embeddings)


def _with_checked_output(call: Callable[..., Any]) -> Callable[..., Embeddings]:
    @functools.wraps(call)
    def checked(self: Any, input: Any) -> Embeddings:
        return normalized_output(call(self, input))

    checked.__azurite_checked__ = True  # type: ignore[attr-defined]
    return checked


class EmbeddingFunction(Generic[D]):
    """Base class of embedding functions.

    Subclasses implement ``__call__(self, input)``; whatever they return (lists of
    numbers or arrays) is normalised to a list of numpy arrays and validated. To be
    stored with a collection and rebuilt later, they also implement ``name``,
    ``get_config`` and ``build_from_config`` and are registered with
    :func:`register_embedding_function`.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        call = cls.__dict__.get("__call__")
        if call is not None and not getattr(call, "__azurite_checked__", False):
            cls.__call__ = _with_checked_output(call)  # type: ignore[method-assign]

    def __call__(self, input: D) -> Embeddings:
        raise NotImplementedError("Embedding functions implement __call__(self, input)")

    def embed_query(self, input: D) -> Embeddings:
        """Embeds query inputs; functions with a separate query mode override it."""
        return self(input)

    def embed_with_retries(self, input: D, **retry_kwargs: Any) -> Embeddings:
        """Calls the function under ``tenacity.retry(**retry_kwargs)``, as chromadb does:
        with no arguments, tenacity's defaults retry every exception at once and without
        end; ``stop=``, ``wait=``, ``retry=``, ``reraise=`` ... bound it."""
        embeddings: Embeddings = tenacity.retry(**retry_kwargs)(self.__call__)(input)
        return embeddings

    @staticmethod
    def name() -> str:
        return NotImplemented  # type: ignore[no-any-return]

    def get_config(self) -> dict[str, Any]:
        return NotImplemented  # type: ignore[no-any-return]

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> EmbeddingFunction[Any]:
        return NotImplemented  # type: ignore[no-any-return]

    def is_legacy(self) -> bool:
        """True when the function cannot be stored by name and config."""
        return (
            self.name() is NotImplemented
            or self.get_config() is NotImplemented
            or self.build_from_config(self.get_config()) is NotImplemented
        )

    def default_space(self) -> Space:
        return "l2"

    def supported_spaces(self) -> list[Space]:
        return list(ALL_SPACES)

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        """Checks a stored config before the function is rebuilt from it."""

    def validate_config_update(
        self, old_config: dict[str, Any], new_config: dict[str, Any]
    ) -> None:
        """Refuses configuration changes the function cannot follow."""


class DataLoader(Generic[L]):
    """Loads the items that URIs point to (e.g. images from files)."""

    def __call__(self, uris: list[str | None]) -> L:
        raise NotImplementedError


known_embedding_functions: dict[str, type[EmbeddingFunction[Any]]] = {}

_EF = TypeVar("_EF", bound=type)


@overload
def register_embedding_function(ef_class: _EF) -> _EF: ...


@overload
def register_embedding_function(ef_class: None = None) -> Callable[[_EF], _EF]: ...


def register_embedding_function(ef_class: _EF | None = None) -> _EF | Callable[[_EF], _EF]:
    """Makes ``ef_class.name()`` known, so stored configs can rebuild it, as chromadb's
    does: used as ``@register_embedding_function``, ``@register_embedding_function()`` or
    called with the class; a class registered under a name already known replaces it;
    any failure of ``name()`` is a ValueError."""

    def register(cls: _EF) -> _EF:
        try:
            known_embedding_functions[cls.name()] = cls  # type: ignore[attr-defined]
        except Exception as error:
            raise ValueError(f"Failed to register embedding function: {error}") from error
        return cls

    return register if ef_class is None else register(ef_class)


def registered_class(name: str) -> type[EmbeddingFunction[Any]]:
    """The class registered as ``name``, refused as chromadb refuses an unknown one."""
    cls = known_embedding_functions.get(name)
    if cls is None:
        raise ValueError(
            f"Embedding function {name} not found. Add @register_embedding_function "
            "decorator to the class definition."
        )
    return cls


def config_to_embedding_function(entry: dict[str, Any]) -> EmbeddingFunction[Any] | None:
    """Rebuilds the function recorded in a collection configuration, ``None`` for a
    legacy (unnamed) one."""
    if entry.get("type") == "legacy" or entry.get("name") is None:
        return None
    name = entry["name"]
    cls = registered_class(name)
    config = entry.get("config") or {}
    try:
        cls.validate_config(config)
        return cls.build_from_config(config)
    except Exception as error:
        raise ValueError(
            f"Could not build embedding function {name} from config {config}: {error}"
        ) from error
