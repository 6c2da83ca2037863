"""Request bodies in, response bodies out: Chroma's API v2 JSON forms.

Decoding checks only the *shape* of a request (the types Chroma's server deserialises
into); everything about the content (names, metadata keys, dimensions, filters,
configuration) is checked by the engine, exactly as for the embedded client.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import orjson
from starlette.responses import Response

from azurite import _core
from azurite.api.engine import CollectionModel
from azurite.server.errors import invalid_argument, unprocessable

INCLUDE_VALUES = ("distances", "documents", "embeddings", "metadatas", "uris")
GET_INCLUDE = ["documents", "metadatas"]
QUERY_INCLUDE = ["documents", "metadatas", "distances"]
#: Limits, offsets and result counts are unsigned 32-bit integers in Chroma's API types,
#: as in the engine.
U32_MAX = 2**32 - 1
_METADATA_SCALARS = (str, int, float, bool)
_INVALID_CLAUSE = {
    "where": "Invalid where clause",
    "where_document": "Invalid where document clause",
}


class JsonResponse(Response):
    """orjson-encoded JSON; numpy arrays (the engine's vectors) are written directly, as
    the shortest decimal that reads back as the same float32."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)


def parse_json(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise invalid_argument(f"Failed to parse the request body as JSON: {error}") from None


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


class Body:
    """A request body that must be a JSON object; typed access to its fields."""

    def __init__(self, data: Any) -> None:
        if not isinstance(data, dict):
            raise unprocessable(f"invalid type: {_type_name(data)}, expected a JSON object")
        self._data = data

    def raw(self, key: str) -> Any:
        return self._data.get(key)

    def required(self, key: str) -> Any:
        if key not in self._data:
            raise unprocessable(f"missing field `{key}`")
        return self._data[key]

    def string(self, key: str) -> str | None:
        value = self._data.get(key)
        if value is not None and not isinstance(value, str):
            raise unprocessable(f"{key}: invalid type: {_type_name(value)}, expected a string")
        return value

    def required_string(self, key: str) -> str:
        value = self.required(key)
        if not isinstance(value, str):
            raise unprocessable(f"{key}: invalid type: {_type_name(value)}, expected a string")
        return value

    def boolean(self, key: str) -> bool:
        value = self._data.get(key, False)
        if not isinstance(value, bool):
            raise unprocessable(f"{key}: invalid type: {_type_name(value)}, expected a boolean")
        return value

    def non_negative_integer(self, key: str) -> int | None:
        """An optional unsigned 32-bit integer: a limit, an offset or a number of results."""
        value = self._data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise unprocessable(
                f"{key}: invalid type: {_type_name(value)}, expected an unsigned integer"
            )
        if value < 0:
            raise unprocessable(
                f"{key}: invalid value: integer `{value}`, expected an unsigned integer"
            )
        if value > U32_MAX:
            raise unprocessable(f"{key}: invalid value: integer `{value}`, expected u32")
        return value

    def mapping(self, key: str) -> dict[str, Any] | None:
        value = self._data.get(key)
        if value is not None and not isinstance(value, dict):
            raise unprocessable(f"{key}: invalid type: {_type_name(value)}, expected a map")
        return value

    def metadata(self, key: str, *, allow_null_values: bool) -> dict[str, Any] | None:
        """A collection's metadata; ``allow_null_values`` where None deletes a key."""
        value = self._data.get(key)
        if value is not None:
            _check_metadata(value, key, allow_null_values)
        return value

    def strings(self, key: str, *, required: bool = False, nullable_items: bool = False) -> Any:
        value = self.required(key) if required else self._data.get(key)
        if value is None:
            if required:
                raise unprocessable(f"{key}: invalid type: null, expected a sequence")
            return None
        if not isinstance(value, list):
            raise unprocessable(f"{key}: invalid type: {_type_name(value)}, expected a sequence")
        for position, item in enumerate(value):
            if not isinstance(item, str) and not (nullable_items and item is None):
                raise unprocessable(
                    f"{key}[{position}]: invalid type: {_type_name(item)}, expected a string"
                )
        return value

    def filter_json(self, key: str) -> str | None:
        """A ``where`` or ``where_document`` clause as the engine takes it. Any JSON value
        reaches the engine, which refuses one that is not a clause (an empty object, a
        list, a string) with "Invalid where clause" (400), as Chroma's server does."""
        clause = self._data.get(key)
        if clause is None:
            return None
        try:
            return json.dumps(clause)
        except RecursionError:
            # Nested deeper than Python's stack allows, and so far deeper than the
            # engine's own limit: refused as the engine refuses any clause too deep.
            raise invalid_argument(_INVALID_CLAUSE[key]) from None

    def include(self, default: list[str]) -> list[str]:
        value = self._data.get("include")
        if value is None:
            return list(default)
        if not isinstance(value, list):
            raise unprocessable(f"include: invalid type: {_type_name(value)}, expected a sequence")
        for position, item in enumerate(value):
            if item not in INCLUDE_VALUES:
                expected = ", ".join(f"`{name}`" for name in INCLUDE_VALUES)
                raise unprocessable(
                    f"include[{position}]: unknown variant `{item}`, expected one of {expected}"
                )
        return value

    def metadatas(self, *, allow_null_values: bool) -> list[dict[str, Any] | None] | None:
        value = self._data.get("metadatas")
        if value is None:
            return None
        if not isinstance(value, list):
            raise unprocessable(
                f"metadatas: invalid type: {_type_name(value)}, expected a sequence"
            )
        for position, metadata in enumerate(value):
            if metadata is not None:
                _check_metadata(metadata, f"metadatas[{position}]", allow_null_values)
        return value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_metadata_list(items: list[Any]) -> bool:
    """A list of strings, of booleans or of numbers (ints and floats mix into floats)."""
    return (
        all(isinstance(item, str) for item in items)
        or all(isinstance(item, bool) for item in items)
        or all(_is_number(item) for item in items)
    )


def _check_metadata(metadata: Any, where: str, allow_null_values: bool) -> None:
    if not isinstance(metadata, dict):
        raise unprocessable(f"{where}: invalid type: {_type_name(metadata)}, expected a map")
    for key, value in metadata.items():
        if value is None and allow_null_values:
            continue
        if isinstance(value, _METADATA_SCALARS):
            continue
        if isinstance(value, list):
            if not value:
                # The engine's own rule and words, which the embedded client gives too.
                raise invalid_argument("Empty lists are not allowed as metadata values")
            if _is_metadata_list(value):
                continue
        raise unprocessable(
            f"{where}.{key}: data did not match any variant of untagged enum MetadataValue"
        )


# ---- embeddings


def _base64_vector(text: str) -> np.ndarray:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise invalid_argument(f"Base64 decoding error: {error}") from None
    if len(raw) % 4:
        raise invalid_argument(
            f"Base64 decoding error: byte length {len(raw)} is not a multiple of 4"
        )
    vector = np.frombuffer(raw, dtype="<f4")
    if not np.isfinite(vector).all():
        raise invalid_argument("Base64 decoding error: embedding contains a non-finite value")
    return vector.astype(np.float32)


def _number_vector(row: Any, where: str) -> np.ndarray:
    if not isinstance(row, list) or not all(
        isinstance(x, (int, float)) and not isinstance(x, bool) for x in row
    ):
        raise unprocessable(f"{where}: expected a sequence of numbers or a base64 string")
    return np.asarray(row, dtype=np.float32)


def _stack(vectors: list[np.ndarray]) -> np.ndarray:
    if len({vector.shape[0] for vector in vectors}) > 1:
        raise invalid_argument("Inconsistent dimensions in provided embeddings")
    if not vectors:
        return np.zeros((0, 0), np.float32)
    return np.ascontiguousarray(np.stack(vectors), dtype=np.float32)


def embeddings(body: Body, key: str, *, required: bool, allow_base64: bool = True) -> Any:
    """The embeddings of a request as one float32 matrix (None when absent). Each entry is a
    list of numbers or, for writes, a base64 string of little-endian float32 bytes."""
    value = body.required(key) if required else body.raw(key)
    if value is None:
        if required:
            raise unprocessable(f"{key}: invalid type: null, expected a sequence")
        return None
    if not isinstance(value, list):
        raise unprocessable(f"{key}: invalid type: {_type_name(value)}, expected a sequence")
    if not required and value and all(row is None for row in value):
        return None
    vectors = []
    for position, row in enumerate(value):
        where = f"{key}[{position}]"
        if isinstance(row, str) and allow_base64:
            vectors.append(_base64_vector(row))
        elif row is None:
            raise invalid_argument(f"{where}: an embedding cannot be null among non-null ones")
        else:
            vectors.append(_number_vector(row, where))
    return _stack(vectors)


# ---- responses


#: HNSW settings a Chroma schema always lists; those the configuration leaves out show
#: what the engine gives a collection with no configuration.
_SCHEMA_HNSW_KEYS = (
    "ef_construction",
    "max_neighbors",
    "ef_search",
    "num_threads",
    "batch_size",
    "sync_threshold",
    "resize_factor",
)


def _enabled(on: bool, config: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"enabled": on, "config": config if config is not None else {}}


def schema(configuration: dict[str, Any]) -> dict[str, Any]:
    """The collection schema Chroma's clients read (they need it, for instance, to change
    a configuration): the vector index described by the configuration, inverted indexes
    on every metadata type and full-text search on documents, which is what Azurite
    indexes."""
    hnsw = configuration.get("hnsw") or {}
    defaults = _core.hnsw_defaults()
    vector_index: dict[str, Any] = {"space": hnsw.get("space", defaults["space"])}
    if configuration.get("embedding_function") is not None:
        vector_index["embedding_function"] = configuration["embedding_function"]
    vector_index["hnsw"] = {key: hnsw.get(key, defaults[key]) for key in _SCHEMA_HNSW_KEYS}
    return {
        "defaults": {
            "string": {
                "fts_index": _enabled(False),
                "string_inverted_index": _enabled(True),
            },
            "float_list": {"vector_index": _enabled(False, vector_index)},
            "sparse_vector": {
                "sparse_vector_index": _enabled(
                    False, {"embedding_function": {"type": "unknown"}, "bm25": False}
                )
            },
            "int": {"int_inverted_index": _enabled(True)},
            "float": {"float_inverted_index": _enabled(True)},
            "bool": {"bool_inverted_index": _enabled(True)},
        },
        "keys": {
            "#embedding": {
                "float_list": {
                    "vector_index": _enabled(True, {**vector_index, "source_key": "#document"})
                }
            },
            "#document": {
                "string": {
                    "fts_index": _enabled(True),
                    "string_inverted_index": _enabled(False),
                }
            },
        },
    }


def collection(model: CollectionModel) -> dict[str, Any]:
    """The engine's collection record in the form Chroma's clients read."""
    configuration = json.loads(model["configuration_json"])
    return {
        "id": model["id"],
        "name": model["name"],
        "configuration_json": configuration,
        "schema": schema(configuration),
        "metadata": model["metadata"],
        "dimension": model["dimension"],
        "tenant": model["tenant"],
        "database": model["database"],
        "log_position": 0,
        "version": 0,
    }


def get_result(columns: Mapping[str, object], include: list[str]) -> dict[str, Any]:
    return {
        "ids": columns["ids"],
        **{
            field: columns.get(field) if field in include else None
            for field in ("embeddings", "documents", "uris", "metadatas")
        },
        "include": include,
    }


def query_result(results: Sequence[Mapping[str, object]], include: list[str]) -> dict[str, Any]:
    def column(field: str) -> list[object] | None:
        return [result[field] for result in results] if field in include else None

    return {
        "ids": [result["ids"] for result in results],
        "embeddings": column("embeddings"),
        "documents": column("documents"),
        "uris": column("uris"),
        "metadatas": column("metadatas"),
        "distances": column("distances"),
        "include": include,
    }
