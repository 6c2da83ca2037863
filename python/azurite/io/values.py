"""Metadata values as JSON that keeps their types: the form of JSON Lines records and of
the collection metadata in a header.

JSON keeps strings, bools and int64 integers apart by itself, and a float is always written
with a fraction or an exponent (``1.0``), so it reads back as a float. What JSON cannot
write is tagged with ``#type``, as chromadb's wire format tags sparse vectors: a sparse
vector is chromadb's ``{"#type": "sparse_vector", "indices", "values", "tokens"}``, and an
infinite float (which Azurite's metadata accepts) is ``{"#type": "float", "value":
"inf"}`` (or ``"-inf"``). Float32 values (vectors, sparse values) are written as the
float64 of the same value, whose shortest form reads back to the very same float32.
"""

from __future__ import annotations

import math
from typing import Any

import orjson

from azurite.base_types import SparseVector

TYPE_KEY = "#type"
SPARSE_TYPE = "sparse_vector"
FLOAT_TYPE = "float"


def _encode_float(value: float) -> Any:
    if math.isfinite(value):
        return value
    return {TYPE_KEY: FLOAT_TYPE, "value": "nan" if math.isnan(value) else str(value)}


def encode_value(value: Any) -> Any:
    """``value`` (a metadata value or a metadata dict) in its JSON form."""
    if isinstance(value, float):
        return _encode_float(value)
    if isinstance(value, dict):
        return {key: encode_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [encode_value(item) for item in value]
    if isinstance(value, SparseVector):
        encoded: dict[str, Any] = {
            TYPE_KEY: SPARSE_TYPE,
            "indices": value.indices,
            "values": [float(item) for item in value.values],
        }
        if value.labels is not None:
            encoded["tokens"] = value.labels
        return encoded
    return value


def decode_value(value: Any) -> Any:
    """The value :func:`encode_value` encoded."""
    if isinstance(value, dict):
        tag = value.get(TYPE_KEY)
        if tag == SPARSE_TYPE:
            return SparseVector(
                indices=list(value["indices"]),
                values=[float(item) for item in value["values"]],
                labels=value.get("tokens"),
            )
        if tag == FLOAT_TYPE:
            return float(value["value"])
        if tag is not None:
            raise ValueError(f"unknown tagged value {tag!r}")
        return {key: decode_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode_value(item) for item in value]
    return value


def dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode()
