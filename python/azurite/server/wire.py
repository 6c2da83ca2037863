"""Request bodies in, response bodies out: Chroma's API v2 JSON forms.

Decoding checks only the *shape* of a request (the types Chroma's server deserialises
into); everything about the content (names, metadata keys, dimensions, filters,
configuration) is checked by the engine, exactly as for the embedded client.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import orjson
from starlette.responses import Response

from azurite.api.engine import CollectionModel
from azurite.base_types import SPARSE_VECTOR_TYPE_VALUE, TYPE_KEY, serialize_metadata
from azurite.server.errors import HttpError, invalid_argument, unprocessable

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


#: Numbers serde_json refuses where Python's parsers refuse them too, and its words.
_OUT_OF_RANGE = re.compile(r"-?[0-9]+(\.[0-9]+)?[eE][+-]?[0-9]+")
_NOT_JSON_NUMBERS = ("NaN", "Infinity")
_SENTINEL = "\x00azurite: the refused number\x00"


def parse_json(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        detail = _refused_number(raw, error.pos) or str(error)
        raise invalid_argument(f"Failed to parse the request body as JSON: {detail}") from None


def _refused_number(raw: bytes, position: int) -> str | None:
    """Chroma's words for a number beyond float range (``1e999``) or a bare ``NaN`` in an
    otherwise valid body: serde_json's message after the path of the value."""
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        return None
    rest = text[position:]
    number = _OUT_OF_RANGE.match(rest)
    if number is not None:
        token, detail = number.group(), "number out of range"
    else:
        token = next((word for word in _NOT_JSON_NUMBERS if rest.startswith(word)), "")
        detail = "expected value"
    if not token:
        return None
    try:
        document = orjson.loads(
            text[:position] + json.dumps(_SENTINEL) + text[position + len(token) :]
        )
    except orjson.JSONDecodeError:
        return None
    path = _path_to(document, _SENTINEL)
    return f"{path}: {detail}" if path else detail


def _path_to(value: Any, target: str, path: str = "") -> str | None:
    """The serde path (``a.b[0]``) of ``target`` within a parsed document."""
    if isinstance(value, str):
        return path if value == target else None
    children: Any = ()
    if isinstance(value, dict):
        children = ((f"{path}.{key}" if path else key, child) for key, child in value.items())
    elif isinstance(value, list):
        children = ((f"{path}[{index}]", child) for index, child in enumerate(value))
    for child_path, child in children:
        found = _path_to(child, target, child_path)
        if found is not None:
            return found
    return None


def unexpected(value: Any) -> str:
    """A JSON value as serde names it in "invalid type" errors, which Chroma's server
    returns as they are."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean `{'true' if value else 'false'}`"
    if isinstance(value, int):
        return f"integer `{value}`"
    if isinstance(value, float):
        shown = repr(value)
        return f"floating point `{shown if '.' in shown or 'e' in shown else shown + '.0'}`"
    if isinstance(value, str):
        return f"string {json.dumps(value, ensure_ascii=False)}"
    return "sequence" if isinstance(value, list) else "map"


def invalid_type(where: str, value: Any, expected: str) -> HttpError:
    return unprocessable(f"{where}: invalid type: {unexpected(value)}, expected {expected}")


def unsigned(where: str, value: Any, expected: str = "u32") -> int:
    """An unsigned integer of Rust type ``expected`` (u32 or usize)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_type(where, value, expected)
    if value < 0 or value > (U32_MAX if expected == "u32" else 2**64 - 1):
        raise unprocessable(f"{where}: invalid value: integer `{value}`, expected {expected}")
    return value


#: The request types of Chroma's server, by the name its errors give them, with the number
#: of fields of those that serde would also read from a JSON array.
PAYLOADS: dict[str, int | None] = {
    "CreateTenantPayload": 1,
    "UpdateTenantPayload": 1,
    "CreateDatabasePayload": 1,
    "CreateCollectionPayload": 5,
    "UpdateCollectionPayload": 3,
    "AddCollectionRecordsPayload": 5,
    "UpdateCollectionRecordsPayload": 5,
    "UpsertCollectionRecordsPayload": 5,
    "GetRequestPayload": None,
    "QueryRequestPayload": None,
    "DeleteCollectionRecordsPayload": None,
    "SearchRequestPayload": 2,
    "ForkCollectionPayload": 1,
}


class Body:
    """A request body that must be a JSON object; typed access to its fields."""

    def __init__(self, data: Any, payload: str) -> None:
        if not isinstance(data, dict):
            fields = PAYLOADS[payload]
            if isinstance(data, list) and fields is not None:
                plural = "element" if fields == 1 else "elements"
                raise unprocessable(
                    f"invalid length {len(data)}, expected struct {payload} with {fields} {plural}"
                )
            raise unprocessable(f"invalid type: {unexpected(data)}, expected struct {payload}")
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
            raise invalid_type(key, value, "a string")
        return value

    def required_string(self, key: str) -> str:
        value = self.required(key)
        if not isinstance(value, str):
            raise invalid_type(key, value, "a string")
        return value

    def boolean(self, key: str) -> bool:
        value = self._data.get(key, False)
        if not isinstance(value, bool):
            raise invalid_type(key, value, "a boolean")
        return value

    def non_negative_integer(self, key: str) -> int | None:
        """An optional unsigned 32-bit integer: a limit, an offset or a number of results."""
        value = self._data.get(key)
        return None if value is None else unsigned(key, value)

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
            raise invalid_type(key, value, "a sequence")
        for position, item in enumerate(value):
            if not isinstance(item, str) and not (nullable_items and item is None):
                raise invalid_type(f"{key}[{position}]", item, "a string")
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
            raise invalid_type("include", value, "a sequence")
        for position, item in enumerate(value):
            if not isinstance(item, str):
                # What Chroma's server answers: its include list reads strings only.
                raise invalid_argument(
                    f"Failed to parse the request body as JSON: include[{position}]: expected value"
                )
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
            raise invalid_type("metadatas", value, "a sequence")
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
        raise invalid_type(where, metadata, "a map")
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
        if _is_sparse_vector(value):
            # Chroma reads a sparse vector with or without its tag; the engine wants it.
            value[TYPE_KEY] = SPARSE_VECTOR_TYPE_VALUE
            continue
        enum = "UpdateMetadataValue" if allow_null_values else "MetadataValue"
        raise unprocessable(
            f"{where}.{key}: data did not match any variant of untagged enum {enum}"
        )


def _is_sparse_vector(value: Any) -> bool:
    """Chroma's sparse vector form: ``indices`` (u32) and ``values`` (numbers) lists,
    optional ``tokens`` (strings), and, if present, the tag ``"#type": "sparse_vector"``."""
    if not isinstance(value, dict) or value.get(TYPE_KEY, SPARSE_VECTOR_TYPE_VALUE) != (
        SPARSE_VECTOR_TYPE_VALUE
    ):
        return False
    if not set(value) <= {TYPE_KEY, "indices", "values", "tokens"}:
        return False
    indices, values, tokens = value.get("indices"), value.get("values"), value.get("tokens")
    return (
        isinstance(indices, list)
        and all(
            isinstance(i, int) and not isinstance(i, bool) and 0 <= i <= U32_MAX for i in indices
        )
        and isinstance(values, list)
        and all(_is_number(x) for x in values)
        and (
            tokens is None or (isinstance(tokens, list) and all(isinstance(t, str) for t in tokens))
        )
    )


def metadata_key_problem(metadata: dict[str, Any] | None) -> str | None:
    """What is wrong with a collection metadata's keys, in Chroma's words, if anything."""
    for key in metadata or {}:
        if not key:
            return "Metadata key cannot be empty"
        if key.startswith(("#", "$")):
            return f"Metadata key cannot start with '#' or '$': {key}"
    return None


# ---- collection configuration

#: The vector index settings of Chroma's configuration types, in the order its errors list
#: them, each with the Rust type it deserialises into ("space" is an enum).
_HNSW: dict[str, str] = {
    "space": "space",
    "ef_construction": "usize",
    "ef_search": "usize",
    "max_neighbors": "usize",
    "num_threads": "usize",
    "resize_factor": "f64",
    "sync_threshold": "usize",
    "batch_size": "usize",
}
_SPANN: dict[str, str] = {
    "search_nprobe": "u32",
    "write_nprobe": "u32",
    "space": "space",
    "ef_construction": "usize",
    "ef_search": "usize",
    "max_neighbors": "usize",
    "reassign_neighbor_count": "u32",
    "split_threshold": "u32",
    "merge_threshold": "u32",
}
_UPDATE_HNSW = (
    "ef_search",
    "max_neighbors",
    "num_threads",
    "resize_factor",
    "sync_threshold",
    "batch_size",
)
_UPDATE_SPANN = ("search_nprobe", "ef_search")
_SPACES = ("l2", "cosine", "ip")
_EMBEDDING_FUNCTION_TYPES = ("legacy", "known", "unknown")


def _one_of(names: Sequence[str]) -> str:
    quoted = [f"`{name}`" for name in names]
    if len(quoted) == 2:
        return f"expected {quoted[0]} or {quoted[1]}"
    return "expected one of " + ", ".join(quoted)


def _index_settings(where: str, value: Any, struct: str, fields: dict[str, str]) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        raise invalid_type(where, value, f"struct {struct}")
    for key, setting in value.items():
        at = f"{where}.{key}"
        if key not in fields:
            raise unprocessable(f"{at}: unknown field `{key}`, {_one_of(list(fields))}")
        if setting is None:
            continue
        kind = fields[key]
        if kind == "space":
            if not isinstance(setting, str):
                raise invalid_type(at, setting, "space")
            if setting not in _SPACES:
                raise unprocessable(f"{at}: unknown variant `{setting}`, {_one_of(_SPACES)}")
        elif kind == "f64":
            if isinstance(setting, bool) or not isinstance(setting, (int, float)):
                raise invalid_type(at, setting, "f64")
        else:
            unsigned(at, setting, kind)


def _embedding_function(where: str, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        raise invalid_type(where, value, "internally tagged enum EmbeddingFunctionConfiguration")
    if "type" not in value:
        raise unprocessable(f"{where}: missing field `type`")
    kind = value["type"]
    if not isinstance(kind, str) or kind not in _EMBEDDING_FUNCTION_TYPES:
        if not isinstance(kind, str):
            raise invalid_type(f"{where}.type", kind, "variant identifier")
        raise unprocessable(
            f"{where}.type: unknown variant `{kind}`, {_one_of(_EMBEDDING_FUNCTION_TYPES)}"
        )
    if kind == "known":
        for field in ("name", "config"):
            if field not in value:
                raise unprocessable(f"{where}: missing field `{field}`")


def configuration(body: Body, key: str, *, update: bool) -> dict[str, Any] | None:
    """A collection configuration checked against the shape of Chroma's configuration
    types, so that a misspelt or mistyped setting gets the 422 Chroma's server gives; the
    engine checks the values themselves."""
    value = body.raw(key)
    struct = "UpdateCollectionConfiguration" if update else "CollectionConfiguration"
    if value is None:
        return None
    if isinstance(value, list):
        raise unprocessable(
            f"{key}: invalid length {len(value)}, expected struct {struct} with 3 elements"
        )
    if not isinstance(value, dict):
        raise invalid_type(key, value, f"struct {struct}")
    hnsw = {name: _HNSW[name] for name in _UPDATE_HNSW} if update else _HNSW
    spann = {name: _SPANN[name] for name in _UPDATE_SPANN} if update else _SPANN
    prefix = "Update" if update else ""
    _index_settings(f"{key}.hnsw", value.get("hnsw"), f"{prefix}HnswConfiguration", hnsw)
    _index_settings(f"{key}.spann", value.get("spann"), f"{prefix}SpannConfiguration", spann)
    _embedding_function(f"{key}.embedding_function", value.get("embedding_function"))
    return value


#: Chroma's Schema type and its two parts, as serde expects them: a struct (read from an
#: array too, hence its field count) or a map.
_SCHEMA_SHAPES: dict[str, tuple[str, int | None]] = {
    "schema": ("struct Schema", 4),
    "schema.defaults": ("struct ValueTypes", 6),
    "schema.keys": ("a map", None),
}


def _schema_part(where: str, value: Any) -> None:
    expected, fields = _SCHEMA_SHAPES[where]
    if isinstance(value, list) and fields is not None:
        raise unprocessable(
            f"{where}: invalid length {len(value)}, expected {expected} with {fields} elements"
        )
    if not isinstance(value, dict):
        raise invalid_type(where, value, expected)


def schema(body: Body) -> dict[str, Any] | None:
    """A collection schema with the shape of Chroma's Schema type; the engine reconciles
    it with the configuration and checks the rest."""
    value = body.raw("schema")
    if value is None:
        return None
    _schema_part("schema", value)
    checked: dict[str, Any] = value
    for part in ("defaults", "keys"):
        if part in checked:
            _schema_part(f"schema.{part}", checked[part])
    return checked


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


def _number_vector(row: Any, where: str, *, in_payload: bool) -> np.ndarray:
    """A list of numbers. Chroma's write payload is an untagged enum (lists of numbers or
    base64 strings), whose error names the whole field; a query reads f32 lists."""
    if not isinstance(row, list):
        raise _not_a_payload(where) if in_payload else invalid_type(where, row, "a sequence")
    for position, x in enumerate(row):
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            if in_payload:
                raise _not_a_payload(where)
            raise invalid_type(f"{where}[{position}]", x, "f32")
    return np.asarray(row, dtype=np.float32)


def _not_a_payload(key: str) -> HttpError:
    return unprocessable(
        f"{key}: data did not match any variant of untagged enum EmbeddingsPayload"
    )


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
    # Writes read Chroma's EmbeddingsPayload (base64 strings or lists); queries f32 lists.
    payload = allow_base64
    if value is None:
        if required:
            raise invalid_type(key, value, "a sequence")
        return None
    if not isinstance(value, list):
        raise _not_a_payload(key) if payload else invalid_type(key, value, "a sequence")
    if not required and value and all(row is None for row in value):
        return None
    if (
        payload
        and any(isinstance(row, str) for row in value)
        and any(isinstance(row, list) for row in value)
    ):
        # Chroma's payload is all base64 strings or all lists of numbers, never a mix.
        raise _not_a_payload(key)
    vectors = []
    for position, row in enumerate(value):
        where = f"{key}[{position}]"
        if isinstance(row, str) and allow_base64:
            vectors.append(_base64_vector(row))
        elif row is None:
            if required:
                raise _not_a_payload(key)
            raise invalid_argument(f"{where}: an embedding cannot be null among non-null ones")
        else:
            vectors.append(_number_vector(row, key if payload else where, in_payload=payload))
    return _stack(vectors)


# ---- responses


def collection(model: CollectionModel) -> dict[str, Any]:
    """The engine's collection record in the form Chroma's clients read."""
    return {
        "id": model["id"],
        "name": model["name"],
        "configuration_json": json.loads(model["configuration_json"]),
        "schema": json.loads(model["schema_json"]),
        "metadata": serialize_metadata(model["metadata"]),
        "dimension": model["dimension"],
        "tenant": model["tenant"],
        "database": model["database"],
        "log_position": 0,
        "version": 0,
    }


def _metadatas_json(metadatas: Any) -> Any:
    return None if metadatas is None else [serialize_metadata(m) for m in metadatas]


def get_result(columns: Mapping[str, object], include: list[str]) -> dict[str, Any]:
    result = {
        "ids": columns["ids"],
        **{
            field: columns.get(field) if field in include else None
            for field in ("embeddings", "documents", "uris", "metadatas")
        },
        "include": include,
    }
    result["metadatas"] = _metadatas_json(result["metadatas"])
    return result


def search_result(columns: Mapping[str, Any]) -> dict[str, Any]:
    """The engine's search columns as Chroma's ``SearchResponse``: sparse vectors in the
    metadata in their tagged transport form, as the other routes send them, so that
    clients read them back as ``SparseVector``s."""
    return {**columns, "metadatas": [_metadatas_json(m) for m in columns["metadatas"]]}


def query_result(results: Sequence[Mapping[str, object]], include: list[str]) -> dict[str, Any]:
    def column(field: str) -> list[object] | None:
        return [result[field] for result in results] if field in include else None

    return {
        "ids": [result["ids"] for result in results],
        "embeddings": column("embeddings"),
        "documents": column("documents"),
        "uris": column("uris"),
        "metadatas": None
        if "metadatas" not in include
        else [_metadatas_json(result["metadatas"]) for result in results],
        "distances": column("distances"),
        "include": include,
    }
