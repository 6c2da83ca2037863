"""Eight threads mixing add, upsert, update, delete, get, query and count on one collection of
a PersistentClient, each checking its own writes as it goes.

Each thread owns a range of ids that no other thread touches and keeps a model of it (the
embedding, metadata and document of each live id). Chroma's semantics give the model's
next state after every call: add skips ids that exist, update skips ids that do not,
upsert writes both, metadata is merged key by key. Invariants checked while the others
write:

* after each write, ``get`` of the thread's ids returns exactly the model (live ids with
  their embedding, metadata and document; deleted ids absent);
* a query filtered to the thread's records with the embedding of one of its live records
  finds that record first, at distance 0 (exact scan);
* an unfiltered query (HNSW) never returns a deleted or stale record of the thread: every
  returned id of the thread is live, with the model's document and metadata;
* no call raises;
* at the end, ``count()`` equals the sum of the models, and after the client is reopened
  every record of every model is there.

The short form runs for ``AZURITE_LOAD_SECONDS`` (default 3) per test; the ``soak`` form
for ``AZURITE_LOAD_SOAK_SECONDS`` (default 60).
"""

from __future__ import annotations

import os
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import azurite

THREADS = 8
IDS_PER_THREAD = 120
DIMENSION = 16
SHORT_SECONDS = float(os.environ.get("AZURITE_LOAD_SECONDS", "3"))
SOAK_SECONDS = float(os.environ.get("AZURITE_LOAD_SOAK_SECONDS", "60"))
OPERATIONS = ("add", "upsert", "update", "delete", "get", "query", "query_graph", "count")


@dataclass
class Record:
    embedding: list[float]
    metadata: dict[str, Any]
    document: str


@dataclass
class Worker:
    """One thread: its id range, its model and what it did."""

    index: int
    seconds: float
    collection: Any
    rng: random.Random = field(init=False)
    model: dict[str, Record] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OPERATIONS, 0))
    error: BaseException | None = None
    version: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.index)

    def id(self, i: int) -> str:
        return f"t{self.index}-{i}"

    def some_ids(self) -> list[str]:
        return [self.id(i) for i in self.rng.sample(range(IDS_PER_THREAD), self.rng.randint(1, 8))]

    def vector(self) -> list[float]:
        # float32-exact values, so that what comes back compares equal.
        return [float(np.float32(self.rng.uniform(-1, 1))) for _ in range(DIMENSION)]

    def new_record(self) -> Record:
        self.version += 1
        return Record(
            self.vector(),
            {"owner": self.index, "version": self.version, "tag": self.rng.choice("abc")},
            f"doc {self.index} {self.version}",
        )

    # ---- writes, each followed by the model's update and a check

    def add(self) -> None:
        ids = self.some_ids()
        records = [self.new_record() for _ in ids]
        self.collection.add(
            ids=ids,
            embeddings=[r.embedding for r in records],
            metadatas=[r.metadata for r in records],
            documents=[r.document for r in records],
        )
        for id_, record in zip(ids, records):
            self.model.setdefault(id_, record)
        self.check(ids)

    def upsert(self) -> None:
        ids = self.some_ids()
        records = [self.new_record() for _ in ids]
        self.collection.upsert(
            ids=ids,
            embeddings=[r.embedding for r in records],
            metadatas=[r.metadata for r in records],
            documents=[r.document for r in records],
        )
        for id_, record in zip(ids, records):
            old = self.model.get(id_)
            merged = {**old.metadata, **record.metadata} if old else record.metadata
            self.model[id_] = Record(record.embedding, merged, record.document)
        self.check(ids)

    def update(self) -> None:
        ids = self.some_ids()
        self.version += 1
        patch = {"version": self.version, "updated": True}
        self.collection.update(ids=ids, metadatas=[patch] * len(ids))
        for id_ in ids:
            if id_ in self.model:
                old = self.model[id_]
                self.model[id_] = Record(old.embedding, {**old.metadata, **patch}, old.document)
        self.check(ids)

    def delete(self) -> None:
        ids = self.some_ids()
        self.collection.delete(ids=ids)
        for id_ in ids:
            self.model.pop(id_, None)
        self.check(ids)

    # ---- reads

    def check(self, ids: list[str]) -> None:
        got = self.collection.get(ids=ids, include=["embeddings", "metadatas", "documents"])
        found = {
            id_: Record([float(x) for x in embedding], metadata, document)
            for id_, embedding, metadata, document in zip(
                got["ids"], got["embeddings"], got["metadatas"], got["documents"]
            )
        }
        expected = {id_: self.model[id_] for id_ in ids if id_ in self.model}
        assert found == expected, f"thread {self.index}: get disagrees with the model"

    def get(self) -> None:
        self.check(self.some_ids())

    def query(self) -> None:
        if not self.model:
            return
        id_ = self.rng.choice(sorted(self.model))
        result = self.collection.query(
            query_embeddings=[self.model[id_].embedding],
            n_results=3,
            where={"owner": self.index},
            include=["distances"],
        )
        assert result["ids"][0][0] == id_, f"thread {self.index}: {id_} not found first"
        assert result["distances"][0][0] == 0.0

    def query_graph(self) -> None:
        result = self.collection.query(
            query_embeddings=[self.vector()], n_results=20, include=["metadatas", "documents"]
        )
        for id_, metadata, document in zip(
            result["ids"][0], result["metadatas"][0], result["documents"][0]
        ):
            if id_.startswith(f"t{self.index}-"):
                live = self.model.get(id_)
                assert live is not None, f"thread {self.index}: deleted {id_} returned"
                assert (metadata, document) == (live.metadata, live.document)

    def count(self) -> None:
        assert 0 <= self.collection.count() <= THREADS * IDS_PER_THREAD

    def run(self, start: threading.Barrier) -> None:
        weights = (3, 3, 2, 2, 3, 2, 2, 1)
        try:
            start.wait()
            deadline = time.monotonic() + self.seconds
            while time.monotonic() < deadline:
                operation = self.rng.choices(OPERATIONS, weights)[0]
                getattr(self, operation)()
                self.counts[operation] += 1
        except BaseException as error:
            self.error = error


def run_load(path: Path, seconds: float) -> dict[str, Any]:
    client = azurite.PersistentClient(path)
    collection = client.create_collection("load", embedding_function=None)
    workers = [Worker(i, seconds, collection) for i in range(THREADS)]
    start = threading.Barrier(THREADS)
    threads = [threading.Thread(target=w.run, args=(start,)) for w in workers]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    for worker in workers:
        if worker.error is not None:
            raise worker.error
    model = {id_: record for w in workers for id_, record in w.model.items()}
    assert collection.count() == len(model)
    client.close()
    azurite.SharedSystemClient.clear_system_cache()

    reopened = azurite.PersistentClient(path)
    stored = reopened.get_collection("load", embedding_function=None).get(
        include=["embeddings", "metadatas", "documents"]
    )
    after = {
        id_: Record([float(x) for x in embedding], metadata, document)
        for id_, embedding, metadata, document in zip(
            stored["ids"], stored["embeddings"], stored["metadatas"], stored["documents"]
        )
    }
    reopened.close()
    assert after == model
    operations = sum(sum(w.counts.values()) for w in workers)
    return {"operations": operations, "seconds": elapsed, "records": len(model)}


def report(figures: dict[str, Any]) -> None:
    print(
        f"\n{THREADS} threads, {figures['seconds']:.1f} s: {figures['operations']} operations "
        f"({figures['operations'] / figures['seconds']:.0f}/s), {figures['records']} records"
    )


def test_threads_mixing_reads_and_writes(tmp_path: Path, no_open_systems: None) -> None:
    report(run_load(tmp_path / "db", SHORT_SECONDS))


@pytest.mark.soak
def test_threads_mixing_reads_and_writes_soak(tmp_path: Path, no_open_systems: None) -> None:
    report(run_load(tmp_path / "db", SOAK_SECONDS))
