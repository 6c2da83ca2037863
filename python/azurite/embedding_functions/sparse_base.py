"""The sparse embedding function protocol (chromadb 1.x) and the registry of known sparse
functions.

A sparse embedding function turns documents into :class:`~azurite.api.types.SparseVector`
values (ascending indices with their weights) for a sparse vector index. Like dense
functions, those that name and describe themselves are stored with a collection's schema by
name and config and rebuilt from :data:`sparse_known_embedding_functions` when it is opened.
"""

from __future__ import annotations

import functools
import importlib
from abc import abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, overload, runtime_checkable

import tenacity

from azurite.base_types import SparseVector, SparseVectors, validate_sparse_vectors

D = TypeVar("D", contravariant=True)


def import_package(module: str, install: str) -> Any:
    """The imported `module`, or chromadb's ValueError saying which package to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ValueError(
            f"The {install} python package is not installed. Please install it with "
            f"`pip install {install}`"
        ) from None


def _with_checked_output(call: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(call)
    def checked(self: Any, input: Any) -> Any:
        output = call(self, input)
        if output is None:
            raise ValueError("Sparse embedding function returned None instead of vectors")
        return validate_sparse_vectors(output)

    checked.__azurite_checked__ = True  # type: ignore[attr-defined]
    return checked


@runtime_checkable
class SparseEmbeddingFunction(Protocol[D]):
    """Base class of sparse embedding functions.

    Subclasses implement ``__call__(self, input)`` returning one ``SparseVector`` per
    input (the result is checked), and ``name``, ``get_config`` and
    ``build_from_config`` so a schema can store and rebuild them; they are registered with
    :func:`register_sparse_embedding_function`.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        call = cls.__dict__.get("__call__")
        if call is not None and not getattr(call, "__azurite_checked__", False):
            cls.__call__ = _with_checked_output(call)  # type: ignore[method-assign]

    @abstractmethod
    def __call__(self, input: D) -> SparseVectors: ...

    def embed_query(self, input: D) -> SparseVectors:
        """Embeds query inputs; functions with a separate query mode override it."""
        return self(input)

    def embed_with_retries(self, input: D, **retry_kwargs: Any) -> SparseVectors:
        """Calls the function under ``tenacity.retry(**retry_kwargs)``, as chromadb does."""
        vectors: SparseVectors = tenacity.retry(**retry_kwargs)(self.__call__)(input)
        return vectors

    @abstractmethod
    def __init__(self, *args: Any, **kwargs: Any) -> None: ...

    @staticmethod
    @abstractmethod
    def name() -> str: ...

    @staticmethod
    @abstractmethod
    def build_from_config(config: dict[str, Any]) -> SparseEmbeddingFunction[Any]: ...

    @abstractmethod
    def get_config(self) -> dict[str, Any]: ...

    def validate_config_update(
        self, old_config: dict[str, Any], new_config: dict[str, Any]
    ) -> None:
        """Refuses configuration changes the function cannot follow."""

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        """Checks a stored config before the function is rebuilt from it."""


def sorted_sparse_vector(
    indices: Sequence[int], values: Sequence[float], labels: Sequence[str] | None = None
) -> SparseVector:
    """A ``SparseVector`` from entries in any order: sorted by index, labels kept beside
    their entries (a repeated index is refused by ``SparseVector`` itself)."""
    order = sorted(range(len(indices)), key=indices.__getitem__)
    return SparseVector(
        indices=[indices[i] for i in order],
        values=[values[i] for i in order],
        labels=None if labels is None or not order else [labels[i] for i in order],
    )


#: The JSON types of chromadb's configuration schemas, as Python checks. A bool is not a
#: number in JSON Schema, and an integral float is an integer.
_JSON_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda value: isinstance(value, str),
    "boolean": lambda value: isinstance(value, bool),
    "integer": lambda value: (
        (isinstance(value, int) and not isinstance(value, bool))
        or (isinstance(value, float) and value.is_integer())
    ),
    "number": lambda value: isinstance(value, (int, float)) and not isinstance(value, bool),
    "array": lambda value: isinstance(value, (list, tuple)),
    "object": lambda value: isinstance(value, dict),
    "null": lambda value: value is None,
}


@dataclass(frozen=True)
class ConfigField:
    """One property of a function's configuration schema: its JSON types, the values it
    may take (`choices`), the JSON type of its items (arrays) or of its values (objects),
    and the keys an object may hold with their choices."""

    types: tuple[str, ...]
    choices: tuple[Any, ...] | None = None
    items: tuple[str, ...] | None = None
    keys: dict[str, tuple[str, ...]] | None = None


def check_config(
    schema: str,
    config: Any,
    fields: dict[str, ConfigField],
    required: tuple[str, ...] = (),
) -> None:
    """Checks `config` the way chromadb validates it against its JSON schema named
    `schema` (known properties only, their types, choices and required keys), with a
    ValueError in chromadb's words."""

    def refuse(message: str, path: str = "") -> None:
        at = f" at path '{path}'" if path else ""
        raise ValueError(f"Config validation failed for schema '{schema}': {message}{at}")

    if not isinstance(config, dict):
        refuse(f"{config!r} is not of type 'object'")
    for key in required:
        if key not in config:
            refuse(f"'{key}' is a required property")
    unknown = [key for key in config if key not in fields]
    if unknown:
        listed = ", ".join(repr(key) for key in unknown)
        verb = "was" if len(unknown) == 1 else "were"
        refuse(f"Additional properties are not allowed ({listed} {verb} unexpected)")
    for key, value in config.items():
        spec = fields[key]
        if not any(_JSON_TYPES[kind](value) for kind in spec.types):
            refuse(f"{value!r} is not of type {', '.join(map(repr, spec.types))}", key)
        if spec.choices is not None and value not in spec.choices:
            refuse(f"{value!r} is not one of {list(spec.choices)!r}", key)
        if spec.items is not None and isinstance(value, (list, tuple, dict)):
            members = value.items() if isinstance(value, dict) else enumerate(value)
            for position, item in members:
                if not any(_JSON_TYPES[kind](item) for kind in spec.items):
                    expected = ", ".join(map(repr, spec.items))
                    refuse(f"{item!r} is not of type {expected}", f"{key}/{position}")
        if spec.keys is not None and isinstance(value, dict):
            for inner, inner_value in value.items():
                if inner not in spec.keys:
                    refuse(f"Additional properties are not allowed ({inner!r} was unexpected)", key)
                if inner_value not in spec.keys[inner]:
                    refuse(
                        f"{inner_value!r} is not one of {list(spec.keys[inner])!r}",
                        f"{key}/{inner}",
                    )


sparse_known_embedding_functions: dict[str, type[SparseEmbeddingFunction[Any]]] = {}

_EF = TypeVar("_EF", bound=type)


@overload
def register_sparse_embedding_function(ef_class: _EF) -> _EF: ...


@overload
def register_sparse_embedding_function(ef_class: None = None) -> Callable[[_EF], _EF]: ...


def register_sparse_embedding_function(
    ef_class: _EF | None = None,
) -> _EF | Callable[[_EF], _EF]:
    """Makes ``ef_class.name()`` known to schemas that store sparse functions, as
    chromadb's does: a decorator with or without parentheses, or a call with the class; a
    name already known is replaced; any failure of ``name()`` is a ValueError."""

    def register(cls: _EF) -> _EF:
        try:
            sparse_known_embedding_functions[cls.name()] = cls  # type: ignore[attr-defined]
        except Exception as error:
            raise ValueError(f"Failed to register sparse embedding function: {error}") from error
        return cls

    return register if ef_class is None else register(ef_class)
