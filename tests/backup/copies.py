"""What the backup tests check of a copy, and the numbered batches they write."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import azurite

DIMENSION = 16
BATCH = 25
#: Small, so that snapshots and graph journal frames are written while the load runs.
SYNC_THRESHOLD = 60
LOADED = ("even", "odd")


def batch_ids(n: int) -> list[str]:
    return [f"{n}-{j}" for j in range(BATCH)]


def batch_vectors(n: int) -> np.ndarray:
    return np.random.default_rng(n).normal(size=(BATCH, DIMENSION)).astype(np.float32)


def batch_metadatas(n: int) -> list[dict[str, Any]]:
    return [{"batch": n, "j": j} for j in range(BATCH)]


def write_batch(client: Any, n: int) -> None:
    """Batch ``n`` goes to one of two collections in turn, so that a prefix of the
    batches is one across collections too."""
    collection = client.get_collection(LOADED[n % 2])
    collection.add(
        ids=batch_ids(n),
        embeddings=batch_vectors(n),
        metadatas=batch_metadatas(n),
        documents=[f"document {i}" for i in batch_ids(n)],
    )


def create_loaded(client: Any) -> None:
    for name in LOADED:
        client.create_collection(
            name,
            embedding_function=None,
            configuration={"hnsw": {"sync_threshold": SYNC_THRESHOLD}},
        )


def held_batches(client: Any) -> int:
    """How many batches the copy holds, after checking that they are exactly batches
    0..n-1, each whole and as written."""
    got: dict[int, dict[str, Any]] = {}
    for name in LOADED:
        records = client.get_collection(name).get(include=["embeddings", "metadatas", "documents"])
        for id_, vector, metadata, document in zip(
            records["ids"],
            records["embeddings"],
            records["metadatas"],
            records["documents"],
        ):
            n, j = map(int, id_.split("-"))
            assert LOADED[n % 2] == name
            assert metadata == {"batch": n, "j": j}
            assert document == f"document {id_}"
            got.setdefault(n, {})[id_] = vector
    batches = len(got)
    assert sorted(got) == list(range(batches)), "the copy is not a prefix of the writes"
    for n, vectors in got.items():
        assert sorted(vectors) == sorted(batch_ids(n)), f"batch {n} is torn"
        expected = batch_vectors(n)
        for j, id_ in enumerate(batch_ids(n)):
            np.testing.assert_array_equal(vectors[id_], expected[j])
    return batches


def open_warnings(path: Path, caplog: pytest.LogCaptureFixture) -> list[str]:
    """The warnings of opening ``path`` (a collection loaded from the record store, writes
    replayed or cut: what a copy must never need)."""
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        azurite.PersistentClient(path).close()
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def assert_opens_from_snapshots(path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The copy opens without a warning, and every collection with records has its
    segment snapshot: an open loads a collection from the store only without a usable
    snapshot, and says so for one that has a snapshot file."""
    # Read before the open, which writes snapshots of its own at close.
    snapshots = {p.stem for p in (path / "index").glob("*.seg")}
    assert open_warnings(path, caplog) == []
    client = azurite.PersistentClient(path)
    try:
        for collection in all_collections(client):
            if collection.count():
                assert str(collection.id) in snapshots, collection.name
    finally:
        client.close()


def all_collections(client: Any) -> list[Any]:
    """The collections of every database of the default tenant."""
    admin = azurite.AdminClient(client.get_settings())
    found = []
    for database in admin.list_databases():
        client.set_database(database["name"])
        found += client.list_collections()
    client.set_database(azurite.DEFAULT_DATABASE)
    return found


EVERYTHING: Any = ["embeddings", "metadatas", "documents", "uris"]


def assert_same_records(copied: Any, original: Any) -> None:
    """Both collections hold the same records, in the same order, bit for bit."""
    a, b = copied.get(include=EVERYTHING), original.get(include=EVERYTHING)
    assert a["ids"] == b["ids"]
    for column in ("metadatas", "documents", "uris"):
        assert a[column] == b[column], column
    assert len(a["embeddings"]) == len(b["embeddings"])
    for x, y in zip(a["embeddings"], b["embeddings"]):
        np.testing.assert_array_equal(x, y)
