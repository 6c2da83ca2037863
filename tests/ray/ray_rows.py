"""The rows the Ray tests write (a vector, a document and metadata of every plain kind)
and the form in which they compare what a collection holds with what was written."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import ray

from azurite.io.records import from_batch
from azurite.ray import read_collection

DIMENSION = 8
METADATA_COLUMNS = ["author", "serial", "score", "published", "tags", "weights", "edition"]
#: Each id with its vector's bytes, its document and its metadata.
Stored = dict[str, tuple[bytes, str, dict[str, Any]]]


def rows_table(count: int, start: int = 0) -> pa.Table:
    """``count`` rows from row ``start`` on, with a vector, a document and metadata of
    every plain kind: integers beyond 2^53, floats (some whole), booleans, lists, and a
    key some rows lack."""
    numbers = np.arange(start, start + count)
    rng = np.random.default_rng(11 + start)
    vectors = rng.standard_normal((count, DIMENSION)).astype(np.float32)
    vectors[0, 0] = -0.0
    return pa.table(
        {
            "id": [f"row-{n}" for n in numbers],
            "text": [f"document {n}" for n in numbers],
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), DIMENSION),
            "author": [f"author {n % 13}" for n in numbers],
            "serial": pa.array([2**60 + int(n) for n in numbers], pa.int64()),
            "score": [float(n) / 7 for n in numbers],
            "published": [bool(n % 2) for n in numbers],
            "tags": [["a", f"t{n % 5}"] for n in numbers],
            "weights": [[0.5, float(n)] for n in numbers],
            "edition": [int(n) if n % 3 else None for n in numbers],
        }
    )


def expected_records(table: pa.Table) -> Stored:
    """The records ``table``'s rows are written as (a null is a key the record lacks)."""
    vectors = table.column("vector").combine_chunks().flatten().to_numpy()
    vectors = vectors.reshape(-1, DIMENSION)
    rows = table.select(METADATA_COLUMNS).to_pylist()
    return {
        identifier: (
            vectors[row].tobytes(),
            document,
            {key: value for key, value in rows[row].items() if value is not None},
        )
        for row, (identifier, document) in enumerate(
            zip(table.column("id").to_pylist(), table.column("text").to_pylist())
        )
    }


def read_back(target: Any, name: str) -> Stored:
    """The collection ``name`` of a directory or server, read as a Ray dataset."""
    dataset = read_collection(target, name)
    records = from_batch(pa.concat_tables(ray.get(dataset.to_arrow_refs())), "the dataset")
    assert records.embeddings is not None and records.documents and records.metadatas
    assert len(set(records.ids)) == len(records.ids)
    return {
        identifier: (vector.tobytes(), document, metadata)
        for identifier, vector, document, metadata in zip(
            records.ids, records.embeddings, records.documents, records.metadatas
        )
    }
