"""The importer of the kill tests, run as its own process: it stages an import into
``books``, writes it in batches (printing ``batch <n>`` once each is acknowledged), and in
``publish`` mode publishes it after ``BATCHES`` batches, prints ``published`` and goes on
writing another collection until it is killed. The data is drawn from fixed seeds, so
that the test can replay the same import in memory to know what it must find."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from azurite._core import Database

TENANT, DATABASE = "default_tenant", "default_database"
TARGET = "books"
DIMENSION = 8
BATCH = 50
#: Batches written before a publish.
BATCHES = 6


def fill_target(db: Database) -> str:
    """Creates the collection the import goes into, with records of every field."""
    target = db.create_collection(TENANT, DATABASE, TARGET, '{"hnsw": {"sync_threshold": 40}}')
    rng = np.random.default_rng(1)
    db.add(
        target["id"],
        [f"b{i}" for i in range(200)],
        rng.normal(size=(200, DIMENSION)).astype(np.float32),
        [{"i": i, "kind": "old", "ok": i % 2 == 0} for i in range(200)],
        [f"book {i}" for i in range(200)],
        [f"file:///b{i}" for i in range(200)],
    )
    return str(target["id"])


def write_batch(db: Database, staging: str, n: int) -> None:
    """Batch ``n`` of the import: new vectors and metadata for a stretch of the target's
    records and new records; every third batch also deletes two of the old ones."""
    rng = np.random.default_rng(100 + n)
    ids = [f"b{i}" for i in range(n * 20, n * 20 + 20)] + [f"n{n}-{i}" for i in range(BATCH - 20)]
    db.upsert(
        staging,
        ids,
        rng.normal(size=(BATCH, DIMENSION)).astype(np.float32),
        [{"i": n, "kind": "new", "score": float(j) / 3} for j in range(BATCH)],
        [f"imported {n}/{j}" for j in range(BATCH)],
    )
    if n % 3 == 2:
        db.delete(staging, [f"b{150 + n}", f"b{151 + n}"])


def stage(db: Database) -> str:
    return str(db.stage_import(TENANT, DATABASE, TARGET)["id"])


def state(db: Database, collection: str) -> dict[str, Any]:
    """Everything a get returns, in plain values."""
    got = db.get(collection, include=["embeddings", "documents", "metadatas", "uris"])
    return {
        "ids": got["ids"],
        "embeddings": [[float(x) for x in e] for e in got["embeddings"]],
        "documents": got["documents"],
        "metadatas": got["metadatas"],
        "uris": got["uris"],
    }


def main(path: str, mode: str) -> None:
    db = Database(path)
    staging = stage(db)
    n = 0
    while mode == "write" or n < BATCHES:
        write_batch(db, staging, n)
        print(f"batch {n}", flush=True)
        n += 1
    db.publish_imports([staging])
    print("published", flush=True)
    other = db.create_collection(TENANT, DATABASE, "other")
    while True:
        write_batch(db, str(other["id"]), n)
        n += 1


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
