"""Collections holding every kind of metadata value and edge case, and the exact
comparison of two collections' records (types of values, bits of floats and vectors)."""

from __future__ import annotations

import math
import struct
from typing import Any

import numpy as np

from azurite import SparseVector

DIMENSION = 5

#: One record per edge case: every metadata type, arrays of each, sparse vectors with and
#: without tokens, a key holding different types in different records, records without
#: metadata, empty and unicode strings, the int64 bounds, float extremes and infinities.
EDGE_METADATAS: list[dict[str, Any] | None] = [
    {"s": "plain", "i": 1, "f": 1.0, "b": True},
    {"s": "", "i": 2**63 - 1, "f": -1.5e308, "b": False},
    {"s": "ünïcødé ☃ 𝄞 \x00 nul", "i": -(2**63), "f": 5e-324},
    {"f": math.inf, "g": -math.inf},
    {"as": ["a", "", "ü"], "ai": [0, -(2**63), 2**63 - 1], "af": [0.1, -2.5, 1e-300]},
    {"ab": [True, False, True], "one": [7]},
    {"sp": SparseVector(indices=[0, 3, 4294967295], values=[0.5, -1.25, 3.4e38])},
    {"sp": SparseVector(indices=[2], values=[1.0], labels=["token"])},
    {"sp": SparseVector(indices=[], values=[])},
    {"mixed": "text"},
    {"mixed": 3},
    {"mixed": 3.0},
    {"mixed": True},
    {"mixed": ["x", "y"]},
    {"mixed": [1.5]},
    None,
    {"b": 1, "i": True},
    {"key with spaces.and.dots": "v", "ключ": 0.25},
]


def edge_records(seed: int = 0, dimension: int = DIMENSION) -> dict[str, Any]:
    """The columns of an ``add`` of the edge records."""
    rows = len(EDGE_METADATAS)
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((rows, dimension)).astype(np.float32)
    vectors[0, :5] = [-0.0, 0.0, np.finfo(np.float32).max, np.finfo(np.float32).tiny, 1e-45]
    documents: list[str | None] = [f"document {row}" for row in range(rows)]
    documents[1], documents[2], documents[3] = "", "ünïcødé ☃ 𝄞", None
    uris: list[str | None] = [None] * rows
    uris[0], uris[4] = "s3://bucket/a", ""
    return {
        "ids": [f"id-{row}" if row != 5 else "ïd ☃" for row in range(rows)],
        "embeddings": vectors,
        "metadatas": EDGE_METADATAS,
        "documents": documents,
        "uris": uris,
    }


def finite(records: dict[str, Any]) -> dict[str, Any]:
    """The edge records but the one holding infinities, which Chroma's JSON wire cannot
    carry."""
    keep = [row for row, metadata in enumerate(EDGE_METADATAS) if "g" not in (metadata or {})]
    return {name: [column[row] for row in keep] for name, column in records.items()}


def typed(value: Any) -> Any:
    """``value`` with every leaf paired with its type, floats by their bits, so that
    equality is exact: 1 != 1.0 != True, -0.0 != 0.0."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return ["list", [typed(item) for item in value]]
    if isinstance(value, SparseVector):
        return [
            "sparse",
            list(value.indices),
            [struct.pack("<f", item) for item in value.values],
            value.labels,
        ]
    if isinstance(value, float):
        return ["float", struct.pack("<d", value)]
    return [type(value).__name__, value]


def all_records(collection: Any) -> dict[str, Any]:
    """Every record of ``collection`` as the engine returns it, comparable exactly."""
    columns = collection._engine.get(
        collection._model["id"], include=["embeddings", "documents", "uris", "metadatas"]
    )
    vectors = columns["embeddings"]
    return {
        "ids": columns["ids"],
        "documents": columns["documents"],
        "uris": columns["uris"],
        "metadatas": typed(columns["metadatas"]),
        "vector_bits": vectors.view(np.uint32).tolist() if vectors is not None else None,
    }


def records_of(records: Any) -> dict[str, Any]:
    """An ``azurite.io.records.Records`` in the form of :func:`all_records`."""
    return {
        "ids": records.ids,
        "documents": records.documents,
        "uris": records.uris,
        "metadatas": typed(records.metadatas),
        "vector_bits": records.embeddings.view(np.uint32).tolist(),
    }
