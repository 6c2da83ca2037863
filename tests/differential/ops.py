"""Seeded sequences of Chroma API calls, and a runner that records what a client makes of them.

`generate_sequence(seed)` builds a list of `Call`s from the seed alone: it keeps a rough model of
each collection (which ids were written, which metadata keys exist and their types) only to make
the calls interesting — it never looks at what a system answered. `run_sequence(module, calls)`
replays the calls on `chromadb` or `azurite` and returns one normalised `Observation` per call,
so that two systems can be compared call by call (see test_against_chromadb.py).
"""

from __future__ import annotations

import copy
import math
import random
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

CLIENT = "client"
"""`Call.target` for calls made on the client rather than on a collection."""

INVALID_PREFIX = "invalid:"

SPACES = ("l2", "cosine", "ip")
SCALAR_TYPES = ("int", "float", "str", "bool")
ARRAY_TYPES = ("int[]", "float[]", "str[]", "bool[]")
KEY_NAMES = ("a", "b", "c", "d", "e", "f")

# Small value pools so that equality filters and repeated values actually hit records.
VALUES_BY_TYPE: dict[str, tuple[Any, ...]] = {
    "int": (-3, -1, 0, 1, 2, 3, 5, 8),
    "float": (-2.5, -1.0, 0.0, 0.25, 0.5, 1.5, 2.0, 3.75),
    "str": ("red", "green", "blue", "Red", "", "a b", "naïve", "100%"),
    "bool": (True, False),
}
DOCUMENT_WORDS = (
    "hello", "Hello", "world", "WORLD", "foo_bar", "100%", "cat", "Cat", "a\\b", "dog", "naïve",
)  # fmt: skip
CONTAINS_OPERANDS = (*DOCUMENT_WORDS, "ell", "o w", "_", "%", "at", "\\", "zzz")
REGEX_PATTERNS = (
    "^h",
    "(?i)hello",
    "o\\s+w",
    "[0-9]+",
    "cat$",
    "C.t",
    "(?i)c(?-i)at",
    "^$",
    "é?",
)
NAME_WORDS = ("alpha", "beta", "gamma", "delta", "omega")
ODD_IDS = ("with space", "ünïcode", "a/b%c", "x.y+z", "-")

INCLUDE_FOR_GET = ("documents", "embeddings", "metadatas", "uris")
INCLUDE_FOR_QUERY = (*INCLUDE_FOR_GET, "distances")

# Methods whose results are compared; the coverage test checks every one of them is generated.
VALID_METHODS = (
    "create_collection", "get_collection", "get_or_create_collection", "list_collections",
    "count_collections", "add", "get", "query", "update", "upsert", "delete", "peek", "count",
    "modify",
)  # fmt: skip


@dataclass(frozen=True)
class Call:
    """One API call, described as data so that it can be replayed on any client module."""

    target: str  # CLIENT, or the slot of a collection returned by an earlier call
    method: str
    kwargs: dict[str, Any]
    kind: str  # the method name for a valid call, "invalid:<what is wrong>" otherwise
    # Python-side validation messages and messages the spec quotes verbatim must match exactly;
    # messages with set order, UUIDs or third-party (serde, SQLite) wording only by class name.
    compare_message: bool = False
    store_as: str | None = None  # slot that receives the Collection this call returns

    def expression(self, limit: int | None = None) -> str:
        """The call as a Python expression, optionally clipped to `limit` characters."""
        arguments = ", ".join(
            f"{name}={python_literal(value)}" for name, value in self.kwargs.items()
        )
        text = f"{self.target}.{self.method}({arguments})"
        return text if limit is None or len(text) <= limit else text[:limit] + "…"

    def describe(self, limit: int | None = None) -> str:
        return f"{self.expression(limit)}  # {self.kind}"


Observation = tuple[Any, ...]
"""("ok", normalised result) or ("error", exception class name, message or None)."""


def python_literal(value: Any) -> str:
    """Source text that rebuilds `value`, numpy arrays included (used by reports and scripts)."""
    if isinstance(value, np.ndarray):
        return f"np.array({python_literal(value.tolist())}, dtype=np.{value.dtype})"
    if isinstance(value, float) and not math.isfinite(value):
        return f"float('{value}')"
    if isinstance(value, list):
        return "[" + ", ".join(python_literal(item) for item in value) + "]"
    if isinstance(value, dict):
        items = (f"{python_literal(key)}: {python_literal(item)}" for key, item in value.items())
        return "{" + ", ".join(items) + "}"
    return repr(value)


# --------------------------------------------------------------------------------------------
# Generator-side model
# --------------------------------------------------------------------------------------------


@dataclass
class CollectionModel:
    """What the generator believes about one collection; approximate by design (see module doc)."""

    slot: str
    name: str
    dim: int
    key_types: dict[str, str]
    live_ids: list[str] = field(default_factory=list)
    vectors: list[list[float]] = field(default_factory=list)
    dimension_fixed: bool = False


class SequenceGenerator:
    """Builds one call sequence from a seed."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.np_rng = np.random.default_rng(seed)
        self.calls: list[Call] = []
        self.collections: list[CollectionModel] = []
        self.next_id = 0
        self.next_name = 0
        self.invalid_builders = self._invalid_builders()

    # -- sequence ---------------------------------------------------------------------------

    def generate(self) -> list[Call]:
        for _ in range(self.rng.randint(1, 2)):
            self._create_collection()
        for _ in range(self.rng.randint(15, 40)):
            if self.rng.random() < 0.27:
                self._invalid_call()
            else:
                self._valid_call()
        return self.calls

    def _valid_call(self) -> None:
        builders: list[tuple[Callable[[CollectionModel], None], int]] = [
            (self._add, 6),
            (self._get, 5),
            (self._query, 6),
            (self._update, 3),
            (self._upsert, 3),
            (self._delete, 3),
            (self._peek, 1),
            (self._count, 1),
            (self._modify, 1),
            (self._get_collection, 1),
            (self._get_or_create_existing, 1),
            (self._list_collections, 1),
        ]
        build = self.rng.choices([b for b, _ in builders], weights=[w for _, w in builders])[0]
        model = self.rng.choice(self.collections)
        if not model.live_ids and build not in (self._modify, self._get_collection):
            build = self._add  # nothing stored yet: reads would only ever see empty results
        build(model)

    def _emit(self, target: str, method: str, **kwargs: Any) -> None:
        self.calls.append(Call(target, method, kwargs, method))

    def _emit_invalid(
        self,
        target: str,
        method: str,
        what: str,
        *,
        compare_message: bool = True,
        **kwargs: Any,
    ) -> None:
        self.calls.append(Call(target, method, kwargs, INVALID_PREFIX + what, compare_message))

    # -- names, ids, values -----------------------------------------------------------------

    def _fresh_name(self) -> str:
        self.next_name += 1
        return f"{self.rng.choice(NAME_WORDS)}-{self.next_name}"

    def _fresh_id(self) -> str:
        self.next_id += 1
        if self.rng.random() < 0.05:
            return f"{self.rng.choice(ODD_IDS)}{self.next_id}"
        return f"id{self.next_id}"

    def _ids_for_write(self, model: CollectionModel, count: int, overlap: float) -> list[str]:
        """Distinct ids, each an existing one with probability `overlap`, else a fresh one."""
        ids: list[str] = []
        for _ in range(count):
            candidates = [i for i in model.live_ids if i not in ids]
            if candidates and self.rng.random() < overlap:
                ids.append(self.rng.choice(candidates))
            else:
                ids.append(self._fresh_id())
        return ids

    def _existing_ids(self, model: CollectionModel, most: int) -> list[str]:
        return self.rng.sample(model.live_ids, self.rng.randint(1, min(most, len(model.live_ids))))

    def _scalar(self, type_name: str) -> Any:
        return self.rng.choice(VALUES_BY_TYPE[type_name])

    def _metadata_value(self, type_name: str) -> Any:
        if type_name.endswith("[]"):
            element = type_name[:-2]
            return [self._scalar(element) for _ in range(self.rng.randint(1, 3))]
        return self._scalar(type_name)

    def _metadata(self, model: CollectionModel, allow_none_values: bool) -> dict[str, Any] | None:
        if self.rng.random() < 0.15:
            return None
        keys = self.rng.sample(list(model.key_types), self.rng.randint(1, len(model.key_types)))
        metadata = {key: self._metadata_value(model.key_types[key]) for key in keys}
        if self.rng.random() < 0.03:
            # Stored-value quirks, as in chromadb: a NaN float disappears, an int beyond
            # i64 becomes a float. Only on keys of that type, to keep one type per key.
            for key in keys:
                if model.key_types[key] == "float":
                    metadata[key] = float("nan")
                elif model.key_types[key] == "int":
                    metadata[key] = 2**63
        if allow_none_values and self.rng.random() < 0.3:
            metadata[self.rng.choice(keys)] = None  # update/upsert: None deletes the key
        return metadata

    def _document(self) -> str | None:
        roll = self.rng.random()
        if roll < 0.1:
            return None
        if roll < 0.13:
            return ""
        return " ".join(self.rng.choice(DOCUMENT_WORDS) for _ in range(self.rng.randint(1, 4)))

    def _vector(self, model: CollectionModel) -> list[float]:
        roll = self.rng.random()
        if roll < 0.12 and model.vectors:
            return list(self.rng.choice(model.vectors))  # duplicate vectors make distance ties
        if roll < 0.15:
            return [0.0] * model.dim  # cosine treats a zero vector specially
        if roll < 0.35:
            return [self.rng.choice((-1.0, -0.5, 0.0, 0.5, 1.0)) for _ in range(model.dim)]
        return [round(float(x), 4) for x in self.np_rng.uniform(-1.0, 1.0, model.dim)]

    def _embeddings_argument(self, vectors: list[list[float]]) -> Any:
        """The same vectors in one of the input shapes the API accepts."""
        shape = self.rng.choice(("lists", "lists", "array2d", "list_of_arrays", "ints"))
        if len(vectors) == 1 and self.rng.random() < 0.25:
            single = vectors[0]
            return np.asarray(single, dtype=np.float32) if self.rng.random() < 0.5 else single
        if shape == "array2d":
            return np.asarray(vectors, dtype=self.rng.choice((np.float32, np.float64)))
        if shape == "list_of_arrays":
            dtype = self.rng.choice((np.float32, np.float64, np.float16))
            return [np.asarray(v, dtype=dtype) for v in vectors]
        if shape == "ints":
            rounded = [[round(x) for x in v] for v in vectors]
            dtype = self.rng.choice((None, np.int32, np.int64))
            return rounded if dtype is None else np.asarray(rounded, dtype=dtype)
        return vectors

    def _remember_vectors(self, model: CollectionModel, vectors: list[list[float]]) -> None:
        model.vectors.extend(vectors)
        model.dimension_fixed = True

    # -- valid calls ------------------------------------------------------------------------

    def _create_collection(self) -> None:
        slot = f"c{len(self.collections)}"
        model = CollectionModel(
            slot=slot,
            name=self._fresh_name(),
            dim=self.rng.randint(2, 8),
            key_types={
                key: self.rng.choice(SCALAR_TYPES + SCALAR_TYPES + ARRAY_TYPES)
                for key in self.rng.sample(KEY_NAMES, self.rng.randint(3, 5))
            },
        )
        self.collections.append(model)
        kwargs: dict[str, Any] = {"name": model.name, "embedding_function": None}
        space = self.rng.choice(SPACES)
        style = self.rng.choice(("configuration", "legacy_metadata", "default"))
        metadata: dict[str, Any] = {"owner": "tests"} if self.rng.random() < 0.4 else {}
        if style == "configuration":
            kwargs["configuration"] = {"hnsw": {"space": space}}
        elif style == "legacy_metadata":
            metadata["hnsw:space"] = space
        if metadata:
            kwargs["metadata"] = metadata
        self.calls.append(
            Call(CLIENT, "create_collection", kwargs, "create_collection", store_as=slot)
        )

    def _add(self, model: CollectionModel) -> None:
        count = self.rng.randint(5, 15) if not model.live_ids else self.rng.randint(1, 6)
        ids = self._ids_for_write(model, count, overlap=0.25)
        vectors = [self._vector(model) for _ in ids]
        kwargs: dict[str, Any] = {
            "ids": ids,
            "embeddings": self._embeddings_argument(vectors),
        }
        if self.rng.random() < 0.85:
            kwargs["metadatas"] = [self._metadata(model, allow_none_values=False) for _ in ids]
        if self.rng.random() < 0.85:
            kwargs["documents"] = [self._document() for _ in ids]
        self._maybe_unwrap_single(kwargs)
        self._emit(model.slot, "add", **kwargs)
        model.live_ids.extend(i for i in ids if i not in model.live_ids)
        self._remember_vectors(model, vectors)

    def _maybe_unwrap_single(self, kwargs: dict[str, Any]) -> None:
        """One-record calls sometimes pass bare values instead of one-element lists."""
        if len(kwargs["ids"]) != 1 or self.rng.random() < 0.6:
            return
        for name in ("ids", "metadatas", "documents"):
            value = kwargs.get(name)
            if isinstance(value, list) and value[0] is not None:
                kwargs[name] = value[0]

    def _write_kwargs(self, model: CollectionModel, ids: list[str]) -> dict[str, Any]:
        """Arguments shared by update and upsert: any subset of embeddings/metadatas/documents."""
        kwargs: dict[str, Any] = {"ids": ids}
        if self.rng.random() < 0.6:
            vectors = [self._vector(model) for _ in ids]
            kwargs["embeddings"] = self._embeddings_argument(vectors)
            self._remember_vectors(model, vectors)
        if self.rng.random() < 0.7:
            kwargs["metadatas"] = [self._metadata(model, allow_none_values=True) for _ in ids]
        if "embeddings" in kwargs and self.rng.random() < 0.6:
            kwargs["documents"] = [self._document() for _ in ids]
        return kwargs

    def _update(self, model: CollectionModel) -> None:
        ids = self._existing_ids(model, 4)
        if self.rng.random() < 0.2:
            ids.append(self._fresh_id())  # updating a missing id is silently ignored
        self._emit(model.slot, "update", **self._write_kwargs(model, ids))

    def _upsert(self, model: CollectionModel) -> None:
        ids = self._ids_for_write(model, self.rng.randint(1, 4), overlap=0.5)
        kwargs = self._write_kwargs(model, ids)
        if "embeddings" not in kwargs:  # without an embedding function upsert needs vectors
            vectors = [self._vector(model) for _ in ids]
            kwargs["embeddings"] = self._embeddings_argument(vectors)
            self._remember_vectors(model, vectors)
        self._emit(model.slot, "upsert", **kwargs)
        model.live_ids.extend(i for i in ids if i not in model.live_ids)

    def _get(self, model: CollectionModel) -> None:
        kwargs: dict[str, Any] = {}
        if self.rng.random() < 0.3:
            ids = self._existing_ids(model, 5)
            if self.rng.random() < 0.3:
                ids.append(self._fresh_id())
            kwargs["ids"] = ids[0] if len(ids) == 1 and self.rng.random() < 0.3 else ids
        kwargs.update(self._filters(model))
        if self.rng.random() < 0.3:
            kwargs["limit"] = self.rng.randint(0, 8)
        if self.rng.random() < 0.3:
            kwargs["offset"] = self.rng.randint(0, 6)
        if self.rng.random() < 0.7:
            kwargs["include"] = self._include_subset(INCLUDE_FOR_GET)
        self._emit(model.slot, "get", **kwargs)

    def _query(self, model: CollectionModel) -> None:
        vectors = [self._vector(model) for _ in range(self.rng.randint(1, 3))]
        kwargs: dict[str, Any] = {
            "query_embeddings": self._embeddings_argument(vectors),
            "n_results": self.rng.randint(1, 12),
        }
        if self.rng.random() < 0.15:
            kwargs["ids"] = self._existing_ids(model, 6)
        kwargs.update(self._filters(model))
        if "ids" in kwargs and "where" in kwargs and self.rng.random() < 0.3:
            kwargs["ids"].append(self._fresh_id())  # dropped silently when a filter is given
        if self.rng.random() < 0.7:
            kwargs["include"] = self._include_subset(INCLUDE_FOR_QUERY)
        self._emit(model.slot, "query", **kwargs)

    def _delete(self, model: CollectionModel) -> None:
        kwargs: dict[str, Any] = {}
        if self.rng.random() < 0.5:
            kwargs["ids"] = self._existing_ids(model, 3)
            if self.rng.random() < 0.2:
                kwargs["ids"].append(self._fresh_id())  # still counted in "deleted"
        if "ids" not in kwargs or self.rng.random() < 0.3:
            filters = self._filters(model, probability=1.0)
            kwargs.update(filters)
            if filters and self.rng.random() < 0.4:
                kwargs["limit"] = self.rng.randint(0, 4)
        self._emit(model.slot, "delete", **kwargs)
        if "where" not in kwargs and "where_document" not in kwargs:
            model.live_ids = [i for i in model.live_ids if i not in kwargs["ids"]]

    def _peek(self, model: CollectionModel) -> None:
        kwargs = {"limit": self.rng.randint(1, 12)} if self.rng.random() < 0.6 else {}
        self._emit(model.slot, "peek", **kwargs)

    def _count(self, model: CollectionModel) -> None:
        self._emit(model.slot, "count")

    def _modify(self, model: CollectionModel) -> None:
        kwargs: dict[str, Any] = {}
        if self.rng.random() < 0.5:
            model.name = self._fresh_name()
            kwargs["name"] = model.name
        if self.rng.random() < 0.25:
            parameter = self.rng.choice(("ef_search", "max_neighbors"))
            kwargs["configuration"] = {"hnsw": {parameter: self.rng.randint(8, 200)}}
        if not kwargs or self.rng.random() < 0.5:
            kwargs["metadata"] = {
                "owner": self.rng.choice(NAME_WORDS),
                "rev": self.next_name,
            }
        self._emit(model.slot, "modify", **kwargs)

    def _get_collection(self, model: CollectionModel) -> None:
        self.calls.append(
            Call(
                CLIENT,
                "get_collection",
                {"name": model.name, "embedding_function": None},
                "get_collection",
                store_as=model.slot,
            )
        )

    def _get_or_create_existing(self, model: CollectionModel) -> None:
        # The existing collection comes back unchanged: the new metadata is ignored.
        self._emit(
            CLIENT,
            "get_or_create_collection",
            name=model.name,
            metadata={"ignored": True},
            embedding_function=None,
        )

    def _list_collections(self, model: CollectionModel) -> None:
        self._emit(CLIENT, self.rng.choice(("list_collections", "count_collections")))

    def _include_subset(self, choices: Sequence[str]) -> list[str]:
        return self.rng.sample(list(choices), self.rng.randint(0, len(choices)))

    # -- filters ----------------------------------------------------------------------------

    def _filters(self, model: CollectionModel, probability: float = 0.5) -> dict[str, Any]:
        """where and/or where_document, each present with roughly `probability`."""
        filters: dict[str, Any] = {}
        if self.rng.random() < probability:
            filters["where"] = self._where(model, depth=0)
        if self.rng.random() < probability * 0.6:
            filters["where_document"] = self._where_document(depth=0)
        if probability >= 1.0 and not filters:
            filters["where"] = self._where(model, depth=0)
        return filters

    def _where(self, model: CollectionModel, depth: int) -> dict[str, Any]:
        if depth < 2 and self.rng.random() < 0.3:
            operator = self.rng.choice(("$and", "$or"))
            return {
                operator: [self._where(model, depth + 1) for _ in range(self.rng.randint(2, 3))]
            }
        roll = self.rng.random()
        if roll < 0.05:
            operator = self.rng.choice(("$contains", "$not_contains"))
            return {"#document": {operator: self.rng.choice(CONTAINS_OPERANDS)}}
        if roll < 0.1:
            # A key no record has: $ne / $nin / $not_contains then match everything.
            operator = self.rng.choice(("$eq", "$ne", "$nin", "$not_contains", "$gt"))
            operand = [1, 2] if operator == "$nin" else 1
            return {"zz": {operator: operand}}
        key = self.rng.choice(list(model.key_types))
        return {key: self._condition(model.key_types[key])}

    def _condition(self, type_name: str) -> Any:
        """A condition on a key of `type_name`; a bare value is the $eq shorthand."""
        if type_name.endswith("[]"):
            element = type_name[:-2]
            if self.rng.random() < 0.8:
                operator = self.rng.choice(("$contains", "$not_contains"))
                return {operator: self._scalar(element)}
            # Scalar operators never see array values: $eq misses and $ne matches.
            return {self.rng.choice(("$eq", "$ne")): self._scalar(element)}
        operators = ["shorthand", "$eq", "$ne", "$in", "$nin"]
        if type_name in ("int", "float"):
            operators += ["$gt", "$gte", "$lt", "$lte"] * 2
        if self.rng.random() < 0.1:
            operators += ["$contains", "$not_contains"]  # never matches a scalar value
        operator = self.rng.choice(operators)
        if operator in ("$in", "$nin"):
            return {operator: self._operand_list(type_name)}
        operand = self._operand(type_name)
        return operand if operator == "shorthand" else {operator: operand}

    def _operand(self, type_name: str) -> Any:
        # Float operands are never used on int keys: chromadb truncates them toward zero
        # and azurite deliberately compares numerically. Int operands on float keys are fine.
        if type_name == "float" and self.rng.random() < 0.3:
            return self._scalar("int")
        return self._scalar(type_name)

    def _operand_list(self, type_name: str) -> list[Any]:
        values = self.rng.sample(VALUES_BY_TYPE[type_name], self.rng.randint(1, 2))
        if type_name == "bool":
            return values
        return [*values, self._scalar(type_name)] if self.rng.random() < 0.3 else values

    def _where_document(self, depth: int) -> dict[str, Any]:
        if depth < 2 and self.rng.random() < 0.25:
            operator = self.rng.choice(("$and", "$or"))
            return {operator: [self._where_document(depth + 1) for _ in range(2)]}
        operator = self.rng.choice(
            ("$contains", "$not_contains", "$contains", "$regex", "$not_regex")
        )
        if operator.endswith("regex"):
            return {operator: self.rng.choice(REGEX_PATTERNS)}
        return {operator: self.rng.choice(CONTAINS_OPERANDS)}

    # -- invalid calls ----------------------------------------------------------------------

    def _invalid_call(self) -> None:
        model = self.rng.choice(self.collections)
        kind = self.rng.choice([k for k in self.invalid_builders if self._applicable(k, model)])
        self.invalid_builders[kind](model, kind)

    def _applicable(self, kind: str, model: CollectionModel) -> bool:
        if kind == "embeddings_wrong_dimension":
            # A wrong-length vector on a collection without a dimension would succeed and fix
            # the dimension to the wrong value, turning every later valid write into an error.
            return model.dimension_fixed
        if kind == "query_unknown_id":
            return bool(model.live_ids)  # with an empty collection the id is not the problem
        if kind == "rename_to_existing":
            return len(self.collections) > 1
        return True

    def _invalid_builders(self) -> dict[str, Callable[[CollectionModel, str], None]]:
        """Every invalid-call kind and the method that builds a call of that kind."""
        kinds_by_builder: dict[Callable[[CollectionModel, str], None], Sequence[str]] = {
            self._bad_ids: (
                "ids_not_str", "ids_empty_string", "ids_empty_list", "ids_duplicate",
                "ids_bare_int",
            ),
            self._bad_embeddings: (
                "embeddings_nan", "embeddings_infinite", "embeddings_inconsistent_lengths",
                "embeddings_strings", "embeddings_bools", "embeddings_empty_list",
                "embeddings_empty_vector", "embeddings_uint8", "embeddings_count_mismatch",
            ),
            self._wrong_dimension: ("embeddings_wrong_dimension",),
            self._bad_metadata: (*INVALID_METADATA, "metadatas_count_mismatch",
                "document_not_str", "upsert_without_embeddings",
            ),
            self._bad_where: tuple(INVALID_WHERE),
            self._bad_where_document: tuple(INVALID_WHERE_DOCUMENT),
            self._bad_read: (
                "include_bare_string", "include_none", "include_unknown_item",
                "get_include_distances", "get_include_data", "n_results_zero",
                "n_results_negative", "n_results_float", "query_without_input",
                "delete_without_arguments", "delete_limit_without_filter",
                "delete_limit_negative", "delete_limit_bool", "get_negative_limit",
                "get_negative_offset",
            ),
            self._query_unknown_id: ("query_unknown_id",),
            self._bad_collection_call: (
                "create_existing", "get_unknown_collection", "delete_unknown_collection",
                "create_empty_metadata", "create_metadata_hash_key", "create_bad_legacy_space",
                "create_unknown_legacy_key", "create_bad_configured_space",
                "create_unknown_configuration_key", "modify_space", "modify_empty_metadata",
                "modify_bad_name", "modify_configuration_space", "rename_to_existing",
                "stale_collection",
            ),
            self._bad_name: tuple(f"name_{kind}" for kind in INVALID_NAMES),
        }  # fmt: skip
        return {kind: build for build, kinds in kinds_by_builder.items() for kind in kinds}

    def _valid_record_kwargs(self, model: CollectionModel, count: int) -> dict[str, Any]:
        ids = [self._fresh_id() for _ in range(count)]
        return {"ids": ids, "embeddings": [self._vector(model) for _ in ids]}

    def _bad_ids(self, model: CollectionModel, kind: str) -> None:
        method = self.rng.choice(("add", "upsert", "update", "get", "delete"))
        kwargs = self._valid_record_kwargs(model, 2)
        if method in ("get", "delete"):
            del kwargs["embeddings"]
        ids = kwargs["ids"]
        if kind == "ids_not_str":
            ids[1] = 7
        elif kind == "ids_empty_string":
            method = self.rng.choice(("add", "upsert"))  # rejected by the store, not by Python
            kwargs = self._valid_record_kwargs(model, 2)
            kwargs["ids"][0] = ""
        elif kind == "ids_empty_list":
            kwargs = {"ids": []}
        elif kind == "ids_duplicate":
            ids[1] = ids[0]  # one duplicated id keeps the message deterministic
        elif kind == "ids_bare_int":
            kwargs["ids"] = 42
            if "embeddings" in kwargs:
                kwargs["embeddings"] = kwargs["embeddings"][0]
        self._emit_invalid(model.slot, method, kind, **kwargs)

    def _bad_embeddings(self, model: CollectionModel, kind: str) -> None:
        method = self.rng.choice(("add", "upsert", "update", "query"))
        vectors: Any = [self._vector(model) for _ in range(2)]
        if kind in ("embeddings_nan", "embeddings_infinite"):
            # Writes only: chromadb does not check query vectors and answers arbitrary hits with
            # NaN or infinite distances, so a query would pin down nothing.
            method = self.rng.choice(("add", "upsert", "update"))
            vectors[1][0] = float("nan") if kind == "embeddings_nan" else float("-inf")
        elif kind == "embeddings_inconsistent_lengths":
            vectors[1] = vectors[1] + [0.5]
        elif kind == "embeddings_strings":
            vectors = [["x"] * model.dim, ["y"] * model.dim]
        elif kind == "embeddings_bools":
            vectors = [[True] * model.dim, [False] * model.dim]
        elif kind == "embeddings_empty_list":
            vectors = []
        elif kind == "embeddings_empty_vector":
            vectors = [[], []]
        elif kind == "embeddings_uint8":
            vectors = np.ones((2, model.dim), dtype=np.uint8)
        elif kind == "embeddings_count_mismatch":
            method = self.rng.choice(("add", "upsert", "update"))
            vectors = vectors[:1]
        if method == "query":
            self._emit_invalid(model.slot, "query", kind, query_embeddings=vectors, n_results=3)
            return
        ids = [self._fresh_id() for _ in range(2)]
        self._emit_invalid(model.slot, method, kind, ids=ids, embeddings=vectors)

    def _wrong_dimension(self, model: CollectionModel, kind: str) -> None:
        method = self.rng.choice(("add", "upsert", "update", "query"))
        wrong = model.dim + self.rng.choice((-1, 1))
        vectors = [[0.5] * wrong for _ in range(self.rng.randint(1, 2))]
        if method == "query":
            self._emit_invalid(model.slot, "query", kind, query_embeddings=vectors, n_results=2)
            return
        ids = [self._fresh_id() for _ in vectors]
        self._emit_invalid(model.slot, method, kind, ids=ids, embeddings=vectors)

    def _bad_metadata(self, model: CollectionModel, kind: str) -> None:
        method = self.rng.choice(("add", "upsert", "update"))
        kwargs = self._valid_record_kwargs(model, 2)
        key, type_name = next(iter(model.key_types.items()))
        good = {key: self._metadata_value(type_name)}
        if kind in INVALID_METADATA:
            if kind == "metadata_none_value_on_add":
                method = "add"  # None values are legal (key deletion) in update and upsert
            kwargs["metadatas"] = [good, INVALID_METADATA[kind]]
        elif kind == "metadatas_count_mismatch":
            kwargs["metadatas"] = [good]
        elif kind == "document_not_str":
            kwargs["documents"] = ["fine", 5]
        elif kind == "upsert_without_embeddings":
            method = "upsert"
            del kwargs["embeddings"]
            kwargs["metadatas"] = [good, good]
        # Messages that list field names in Python set order differ from run to run.
        compare = kind != "upsert_without_embeddings"
        self._emit_invalid(model.slot, method, kind, compare_message=compare, **kwargs)

    def _bad_where(self, model: CollectionModel, kind: str) -> None:
        self._emit_filtered_read(model, kind, where=INVALID_WHERE[kind])

    def _bad_where_document(self, model: CollectionModel, kind: str) -> None:
        where_document = INVALID_WHERE_DOCUMENT[kind]
        # The regex compiler's own error text (after the spec's prefix) is not ours to pin.
        compare = kind != "where_document_bad_regex"
        self._emit_filtered_read(model, kind, where_document=where_document, compare=compare)

    def _emit_filtered_read(
        self, model: CollectionModel, kind: str, compare: bool = True, **filters: Any
    ) -> None:
        method = self.rng.choice(("get", "query", "delete"))
        kwargs = dict(filters)
        if method == "query":
            kwargs["query_embeddings"] = [self._vector(model)]
            kwargs["n_results"] = 3
        self._emit_invalid(model.slot, method, kind, compare_message=compare, **kwargs)

    def _bad_read(self, model: CollectionModel, kind: str) -> None:
        query = {"query_embeddings": [self._vector(model)], "n_results": 3}
        calls: dict[str, tuple[str, dict[str, Any]]] = {
            "include_bare_string": (
                self.rng.choice(("get", "query")),
                {"include": "documents"},
            ),
            "include_none": (self.rng.choice(("get", "query")), {"include": None}),
            "include_unknown_item": (
                self.rng.choice(("get", "query")),
                {"include": ["ids"]},
            ),
            "get_include_distances": ("get", {"include": ["documents", "distances"]}),
            "get_include_data": ("get", {"include": ["data"]}),
            "n_results_zero": ("query", {"n_results": 0}),
            "n_results_negative": ("query", {"n_results": -2}),
            "n_results_float": ("query", {"n_results": 1.5}),
            "query_without_input": ("query", {"n_results": 3}),
            "delete_without_arguments": ("delete", {}),
            "delete_limit_without_filter": ("delete", {"ids": ["id1"], "limit": 1}),
            "delete_limit_negative": ("delete", {"where": {"zz": 1}, "limit": -1}),
            "delete_limit_bool": ("delete", {"where": {"zz": 1}, "limit": True}),
            "get_negative_limit": ("get", {"limit": -1}),
            "get_negative_offset": ("get", {"offset": -2}),
        }
        method, kwargs = calls[kind]
        if method == "query" and kind != "query_without_input":
            kwargs = {**query, **kwargs}
        self._emit_invalid(model.slot, method, kind, **kwargs)

    def _query_unknown_id(self, model: CollectionModel, kind: str) -> None:
        ids = [self.rng.choice(model.live_ids), "never-stored"]
        self._emit_invalid(
            model.slot, "query", kind, query_embeddings=[self._vector(model)], ids=ids
        )

    def _bad_name(self, model: CollectionModel, kind: str) -> None:
        name = INVALID_NAMES[kind.removeprefix("name_")]
        if self.rng.random() < 0.7:
            self._emit_invalid(
                CLIENT, "create_collection", kind, name=name, embedding_function=None
            )
        else:
            self._emit_invalid(model.slot, "modify", kind, name=name)

    def _bad_collection_call(self, model: CollectionModel, kind: str) -> None:
        fresh = self._fresh_name()
        create: dict[str, Any] = {"name": fresh, "embedding_function": None}
        calls: dict[str, tuple[str, str, dict[str, Any], bool]] = {
            "create_existing": (CLIENT, "create_collection", {**create, "name": model.name}, True),
            "get_unknown_collection": (
                CLIENT, "get_collection", {"name": "missing-" + fresh, "embedding_function": None}, True,
            ),
            "delete_unknown_collection": (CLIENT, "delete_collection", {"name": "missing-" + fresh}, True),
            "create_empty_metadata": (CLIENT, "create_collection", {**create, "metadata": {}}, True),
            "create_metadata_hash_key": (CLIENT, "create_collection", {**create, "metadata": {"#k": 1}}, True),
            "create_bad_legacy_space": (
                CLIENT, "create_collection", {**create, "metadata": {"hnsw:space": "hamming"}}, True,
            ),
            "create_unknown_legacy_key": (
                CLIENT, "create_collection", {**create, "metadata": {"hnsw:foo": 1}}, True,
            ),
            # serde's wording ("at line 1 column 24") is an implementation detail.
            "create_bad_configured_space": (
                CLIENT, "create_collection", {**create, "configuration": {"hnsw": {"space": "dot"}}}, False,
            ),
            "create_unknown_configuration_key": (
                CLIENT, "create_collection", {**create, "configuration": {"hnsw": {"foo": 1}}}, False,
            ),
            "modify_space": (model.slot, "modify", {"metadata": {"hnsw:space": "ip"}}, True),
            "modify_empty_metadata": (model.slot, "modify", {"metadata": {}}, True),
            "modify_bad_name": (model.slot, "modify", {"name": "no"}, True),
            "modify_configuration_space": (
                model.slot, "modify", {"configuration": {"hnsw": {"space": "ip"}}}, False,
            ),
            # The message is SQLite's UNIQUE-constraint text, an implementation detail.
            "rename_to_existing": (
                model.slot, "modify",
                {"name": next(m.name for m in self.collections if m is not model)}
                if len(self.collections) > 1 else {}, False,
            ),
        }  # fmt: skip
        if kind == "stale_collection":
            self._stale_collection(model, fresh)
            return
        target, method, kwargs, compare = calls[kind]
        self._emit_invalid(target, method, kind, compare_message=compare, **kwargs)

    def _stale_collection(self, model: CollectionModel, name: str) -> None:
        """Use a Collection object after its collection was deleted."""
        self.calls.append(
            Call(
                CLIENT,
                "create_collection",
                {"name": name, "embedding_function": None},
                "create_collection",
                store_as="stale",
            )
        )
        self._emit(CLIENT, "delete_collection", name=name)
        method, kwargs = self.rng.choice(
            (
                ("count", {}),
                ("get", {}),
                ("add", {"ids": ["x"], "embeddings": [[1.0, 2.0]]}),
            )
        )
        # The message names the collection by UUID, which differs between runs.
        self._emit_invalid("stale", method, "stale_collection", compare_message=False, **kwargs)


INVALID_METADATA: dict[str, Any] = {
    "metadata_empty_dict": {},
    "metadata_reserved_key": {"chroma:document": "x"},
    "metadata_non_str_key": {3: "x"},
    "metadata_nested_dict": {"a": {"b": 1}},
    "metadata_empty_list": {"a": []},
    "metadata_mixed_list": {"a": [1, "x"]},
    "metadata_int_float_list": {"a": [1, 2.5]},
    "metadata_none_value_on_add": {"a": None, "b": 1},
    # The next two pass Python validation and are rejected by the store.
    "metadata_dollar_key": {"$a": 1},
    "metadata_empty_key": {"": 1},
    "metadata_not_dict": "not-a-dict",
}

INVALID_WHERE: dict[str, Any] = {
    "where_not_dict": "a",
    "where_empty": {},
    "where_two_keys": {"a": 1, "b": 2},
    "where_key_not_str": {1: 2},
    "where_top_level_contains": {"$contains": "x"},
    "where_value_none": {"a": None},
    "where_value_list": {"a": [1, 2]},
    "where_logical_not_list": {"$and": {"a": 1}},
    "where_logical_one_item": {"$or": [{"a": 1}]},
    "where_unknown_logical": {"$not": [{"a": 1}, {"b": 2}]},
    "where_operator_two_keys": {"a": {"$gt": 1, "$lt": 3}},
    "where_compare_string": {"a": {"$gt": "x"}},
    "where_in_not_list": {"a": {"$in": 1}},
    "where_document_key_not_str": {"#document": {"$contains": 1}},
    "where_contains_list": {"a": {"$contains": [1]}},
    "where_unknown_operator": {"a": {"$like": 1}},
    "where_regex_operator": {"a": {"$regex": "x"}},
    "where_operand_none": {"a": {"$eq": None}},
    "where_in_empty": {"a": {"$nin": []}},
    "where_in_mixed": {"a": {"$in": [1, "x"]}},
    "where_in_int_float": {"a": {"$in": [1, 1.5]}},
    # The next three pass Python validation and are rejected by the store's parser.
    "where_compare_bool": {"a": {"$gte": True}},
    "where_eq_list": {"a": {"$eq": [1]}},
    "where_in_int_bool": {"a": {"$in": [1, True]}},
}

INVALID_WHERE_DOCUMENT: dict[str, Any] = {
    "where_document_not_dict": "hello",
    "where_document_empty": {},
    "where_document_unknown_operator": {"$like": "x"},
    "where_document_logical_not_list": {"$and": {"$contains": "x"}},
    "where_document_logical_one_item": {"$or": [{"$contains": "x"}]},
    "where_document_operand_not_str": {"$contains": 1},
    "where_document_operand_empty": {"$not_contains": ""},
    "where_document_bad_regex": {"$regex": "(unclosed"},
}

INVALID_NAMES: dict[str, str] = {
    "too_short": "ab",
    "bad_first_char": "-abc",
    "bad_char": "abc!def",
    "double_period": "abc..def",
    "ip_address": "10.0.0.1",
    "two_topologies": "abc+def+ghi",
    "too_long": "a" * 513,
}


def generate_sequence(seed: int) -> list[Call]:
    return SequenceGenerator(seed).generate()


def all_invalid_kinds() -> set[str]:
    return {INVALID_PREFIX + kind for kind in SequenceGenerator(0).invalid_builders}


# --------------------------------------------------------------------------------------------
# Runner
# --------------------------------------------------------------------------------------------


def open_fresh_client(module: ModuleType) -> Any:
    """An empty in-memory client of `module` (chromadb or azurite).

    Every EphemeralClient of a process shares one database, and a client with other settings
    than the open one is refused with ValueError; other tests may have left such a client, so
    the cache is cleared and the client opened again.
    """
    settings = module.Settings(allow_reset=True, anonymized_telemetry=False)
    try:
        client = module.EphemeralClient(settings=settings)
    except ValueError:
        _shared_system_client(module).clear_system_cache()
        client = module.EphemeralClient(settings=settings)
    client.reset()
    return client


def _shared_system_client(module: ModuleType) -> Any:
    exported = getattr(module, "SharedSystemClient", None)
    return exported if exported is not None else module.api.client.SharedSystemClient


#: Azurite's own exception classes, each a subclass of the chromadb class that chromadb
#: raises for the same case (see azurite.errors).
AZURITE_ONLY_ERRORS = {"AlreadyExistsError", "CorruptionError", "DatabaseLockedError"}


def _chromadb_class_name(error_type: type[BaseException]) -> str:
    """The class chromadb code would catch: Azurite's own subclasses count as their base."""
    return next(c.__name__ for c in error_type.__mro__ if c.__name__ not in AZURITE_ONLY_ERRORS)


def run_sequence(module: ModuleType, calls: Sequence[Call]) -> list[Observation]:
    client = open_fresh_client(module)
    slots: dict[str, Any] = {}
    observations = [_observe(client, slots, call) for call in calls]
    return observations


def _observe(client: Any, slots: dict[str, Any], call: Call) -> Observation:
    target = client if call.target == CLIENT else slots.get(call.target)
    if target is None:  # the call that should have created this collection failed
        return ("error", "MissingCollectionSlot", None)
    # Arguments are copied because one Call is replayed on several systems.
    kwargs = copy.deepcopy(call.kwargs)
    try:
        # Warnings are not part of what is compared; ignoring them also keeps a strict pytest
        # filterwarnings setting from turning them into exceptions inside the call.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = getattr(target, call.method)(**kwargs)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:  # PyO3 panics derive from BaseException
        message = str(error) if call.compare_message else None
        return ("error", _chromadb_class_name(type(error)), message)
    if call.store_as is not None:
        slots[call.store_as] = result
    normalised = normalise_result(call.method, result, target, client)
    if call.method == "query" and "distances" not in normalised["present"]:
        _attach_rank_distances(target, copy.deepcopy(call.kwargs), normalised)
    if call.method == "query":
        normalised[EXACT_HITS] = _exact_hits(target, copy.deepcopy(call.kwargs), normalised)
    return ("ok", normalised)


def _attach_rank_distances(
    collection: Any, kwargs: dict[str, Any], normalised: dict[str, Any]
) -> None:
    """Repeat a query that did not ask for distances, to learn them.

    Results may order tied distances either way, so the comparison needs every hit's distance
    to tell a tie from a wrong order. Queries do not change state, so asking again is harmless.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = collection.query(**{**kwargs, "include": ["distances"]})
    for hits, ids, distances in zip(normalised["hits"], again["ids"], again["distances"]):
        if [hit["id"] for hit in hits] != list(ids):
            raise AssertionError(
                f"the same query answered {list(ids)} after {[h['id'] for h in hits]}"
            )
        for hit, distance in zip(hits, distances):
            hit[RANK_DISTANCE] = distance


def _exact_hits(
    collection: Any, kwargs: dict[str, Any], normalised: dict[str, Any]
) -> list[list[dict[str, Any]]] | None:
    """The exact answer to a query, by brute force over the records the collection returns
    for the query's filters, shaped like the normalised hits.

    chromadb's HNSW index is approximate: now and then it misses a neighbour even in a
    collection of twenty records. An exact engine must not fail for being right, so the
    comparison also accepts the reference system's exact answer.
    """
    filters = {name: kwargs[name] for name in ("ids", "where", "where_document") if name in kwargs}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            records = collection.get(
                **filters, include=["embeddings", "documents", "metadatas", "uris"]
            )
    except Exception:  # get validates some filters differently; then there is no exact answer
        return None
    ids = records["ids"]
    queries = np.atleast_2d(np.asarray(kwargs["query_embeddings"], dtype=np.float32))
    if not ids:
        return [[] for _ in queries]
    stored = np.asarray(records["embeddings"], dtype=np.float64)
    space = _space_of(collection)
    fields = [name for name in normalised["present"] if name != "distances"]
    distance_key = "distances" if "distances" in normalised["present"] else RANK_DISTANCE
    answers = []
    for query in queries.astype(np.float64):
        distances = _distances(space, stored, query)
        best = np.argsort(distances, kind="stable")[: kwargs.get("n_results", 10)]
        answers.append(
            [
                {
                    "id": ids[row],
                    distance_key: float(distances[row]),
                    **{name: _record_field(records, name, row) for name in fields},
                }
                for row in best
            ]
        )
    return answers


def _record_field(records: Any, name: str, row: int) -> Any:
    value = records[name][row]
    return np.asarray(value).tolist() if name == "embeddings" else value


def _space_of(collection: Any) -> str:
    hnsw = (collection.configuration_json or {}).get("hnsw") or {}
    return hnsw.get("space") or "l2"


def _distances(space: str, stored: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Chroma's distances: squared l2, 1 - dot, and cosine on normalised vectors."""
    if space == "l2":
        return np.sum((stored - query) ** 2, axis=1)
    if space == "ip":
        return 1.0 - stored @ query
    stored_units = stored / (np.linalg.norm(stored, axis=1, keepdims=True) + 1e-30)
    query_unit = query / (np.linalg.norm(query) + 1e-30)
    return 1.0 - stored_units @ query_unit


def normalise_result(method: str, result: Any, target: Any, client: Any) -> Any:
    """Plain Python data for a method's result; floats stay floats, compared with tolerance."""
    if method in ("get", "peek"):
        return _normalise_get(result)
    if method == "query":
        return _normalise_query(result)
    if method in ("create_collection", "get_collection", "get_or_create_collection"):
        return _describe_collection(result)
    if method == "list_collections":
        # Listing order is by collection UUID, i.e. random.
        return sorted(collection.name for collection in result)
    if method == "modify":
        # The stored state, read back fresh: chromadb's own Collection object keeps a stale
        # configuration after modify(configuration=...), which its get_collection does not.
        stored = client.get_collection(target.name, embedding_function=None)
        return {"returned": result, "collection": _describe_collection(stored)}
    return result


def _describe_collection(collection: Any) -> dict[str, Any]:
    return {
        "name": collection.name,
        "metadata": collection.metadata,
        "configuration_json": collection.configuration_json,
    }


def _normalise_get(result: Any) -> dict[str, Any]:
    normalised = dict(result)
    normalised["embeddings"] = _normalise_embeddings(result["embeddings"])
    normalised["keys"] = sorted(result.keys())
    return normalised


def _normalise_embeddings(embeddings: Any) -> Any:
    """Container type, dtype and values: `get` returns a 2-D float64 ndarray, as chromadb does."""
    if embeddings is None:
        return None
    if isinstance(embeddings, np.ndarray):
        return {
            "type": "ndarray",
            "dtype": str(embeddings.dtype),
            "values": embeddings.tolist(),
        }
    return {
        "type": type(embeddings).__name__,
        "values": [np.asarray(e).tolist() for e in embeddings],
    }


RANK_DISTANCE = "rank_distance"
"""Hit key holding the distance learnt by repeating a query that did not include distances."""

EXACT_HITS = "exact_hits"
"""Query-result key holding the brute-force answer computed from the collection's own records."""

QUERY_FIELDS = ("distances", "documents", "metadatas", "embeddings", "uris", "data")


def _normalise_query(result: Any) -> dict[str, Any]:
    """Query results as per-query lists of hits, one dict per returned id.

    Hits keep only the fields that were returned; ties are resolved later by the comparison.
    """
    present = [name for name in QUERY_FIELDS if result.get(name) is not None]
    hits_per_query = []
    for position, ids in enumerate(result["ids"]):
        hits = []
        for rank, record_id in enumerate(ids):
            hit: dict[str, Any] = {"id": record_id}
            for name in present:
                value = result[name][position][rank]
                hit[name] = np.asarray(value).tolist() if name == "embeddings" else value
            hits.append(hit)
        hits_per_query.append(hits)
    embedding_containers = None
    if result.get("embeddings") is not None:
        embedding_containers = [_container_kind(e) for e in result["embeddings"]]
    return {
        "keys": sorted(result.keys()),
        "included": result.get("included"),
        "present": present,
        "embedding_containers": embedding_containers,
        "hits": hits_per_query,
    }


def _container_kind(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"ndarray[{value.dtype}]"
    return type(value).__name__


def replay_script(calls: Sequence[Call], module_name: str) -> str:
    """A standalone script that makes `calls` on `module_name` and prints every outcome.

    Run it once with chromadb and once with azurite and diff the outputs to study a failure.
    """
    lines = [
        "import numpy as np",
        f"import {module_name}",
        "",
        "",
        "def run(index, action):",
        "    try:",
        "        result = action()",
        "    except Exception as error:",
        "        print(index, 'error', type(error).__name__, error)",
        "        return None",
        "    print(index, 'ok', result)",
        "    return result",
        "",
        "",
        f"client = {module_name}.EphemeralClient(",
        f"    settings={module_name}.Settings(allow_reset=True, anonymized_telemetry=False)",
        ")",
        "client.reset()",
    ]
    for index, call in enumerate(calls):
        statement = f"run({index}, lambda: {call.expression()})  # {call.kind}"
        lines.append(f"{call.store_as} = {statement}" if call.store_as else statement)
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    if len(sys.argv) not in (2, 3):
        sys.exit("usage: python tests/differential/ops.py SEED [chromadb|azurite]")
    module_argument = sys.argv[2] if len(sys.argv) == 3 else "chromadb"
    print(replay_script(generate_sequence(int(sys.argv[1])), module_argument), end="")
