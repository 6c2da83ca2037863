"""An import returns once its records are stored; the graph of the new collection is
built afterwards by the database's background index builder. Meanwhile searches find
every record (scanned exactly), and once built the graph holds each record once and is
persisted with the collection."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

import azurite
from azurite.io import export_collection, import_collection

ROWS, DIMENSION = 3_000, 16


def assert_each_found_by_its_vector(collection: azurite.Collection, vectors: np.ndarray) -> None:
    sample = list(range(0, ROWS, 97))
    found = collection.query(query_embeddings=vectors[sample], n_results=1)
    assert [ids[0] for ids in found["ids"]] == [f"r{i}" for i in sample]


def test_the_graph_of_an_import_is_built_in_the_background_and_persisted(
    tmp_path: Path,
) -> None:
    vectors = np.random.default_rng(5).standard_normal((ROWS, DIMENSION)).astype(np.float32)
    client = azurite.PersistentClient(path=str(tmp_path / "db"))
    source = client.create_collection("source", embedding_function=None)
    source.add(
        ids=[f"r{i}" for i in range(ROWS)],
        embeddings=vectors,
        metadatas=[{"n": i} for i in range(ROWS)],
    )
    file = tmp_path / "source.parquet"
    export_collection(source, file)

    copy = import_collection(client, file, name="copy", batch_size=500)
    stats = copy.index_stats()
    assert stats["live"] == ROWS
    # Whatever the builder has done by now, every record is in the graph or pending.
    assert stats["points"] - stats["tombstones"] + stats["pending"] == ROWS
    assert_each_found_by_its_vector(copy, vectors)

    deadline = time.monotonic() + 120
    while copy.index_stats()["pending"] > 0:
        assert time.monotonic() < deadline, f"the builder stalled: {copy.index_stats()}"
        time.sleep(0.05)
    stats = copy.index_stats()
    assert (stats["points"], stats["tombstones"], stats["pending"]) == (ROWS, 0, 0)
    assert_each_found_by_its_vector(copy, vectors)
    client.close()

    reopened = azurite.PersistentClient(path=str(tmp_path / "db")).get_collection("copy")
    stats = reopened.index_stats()
    assert (stats["points"], stats["pending"]) == (ROWS, 0)
    assert_each_found_by_its_vector(reopened, vectors)
