"""The process that the crash tests kill: it writes to a persistent database in a loop and
journals every call in an acknowledgement log.

Usage: ``python crash_worker.py DIR JOURNAL SEED DURABILITY``.

For each call it appends, fsync'd, an *intent* line (the full call: kind, ids, vectors,
metadata, documents) before calling, and an *ack* line after the call returned. The test
that kills it therefore knows every acknowledged write, and the one call that may have
been in flight, whose effect must then be all there or not there at all.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import numpy as np

import azurite

#: name -> (records at the start, most records, largest call). The large collection is
#: larger than the sets queries scan exactly, so queries walk its HNSW graph; the small
#: one has its segment snapshot rewritten every few calls (when a quarter changed), and a
#: graph journal frame every two changes, so that kills land during those writes too. The
#: sparse one also holds a sparse vector per record under a key with a sparse index, which
#: its snapshots persist beside the graph.
DIMENSION = 8
COLLECTIONS = {"crash": (2_200, 2_800, 60), "small": (120, 300, 20), "sparse": (400, 700, 30)}
CONFIGURATION = {"hnsw": {"sync_threshold": 2, "space": "l2"}}
SPARSE_COLLECTION = "sparse"
SPARSE_KEY = "terms"
SPARSE_DIMENSIONS = 300


def sparse_schema() -> azurite.Schema:
    """The other collections' configuration, said in a schema (a collection takes one or
    the other), with a sparse index."""
    vector_index = azurite.VectorIndexConfig(
        space="l2", hnsw=azurite.HnswIndexConfig(sync_threshold=2)
    )
    return (
        azurite.Schema()
        .create_index(config=vector_index)
        .create_index(config=azurite.SparseVectorIndexConfig(), key=SPARSE_KEY)
    )


def sparse_terms(rng: np.random.Generator) -> dict[str, list[Any]]:
    """A sparse vector as the journal writes it: a few of a small vocabulary of
    dimensions (so that queries find many rows), positive float32-exact values."""
    count = int(rng.integers(1, 8))
    indices = sorted(int(i) for i in rng.choice(SPARSE_DIMENSIONS, size=count, replace=False))
    values = [float(v) for v in rng.uniform(0.1, 2.0, size=count).astype(np.float32)]
    return {"indices": indices, "values": values}


def to_call_metadata(metadata: dict[str, Any] | None) -> dict[str, Any] | None:
    if metadata is None or not isinstance(metadata.get(SPARSE_KEY), dict):
        return metadata
    return {**metadata, SPARSE_KEY: azurite.SparseVector(**metadata[SPARSE_KEY])}


class Journal:
    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.n = 0

    def write(self, entry: dict[str, Any]) -> None:
        os.write(self.fd, (json.dumps(entry) + "\n").encode())
        os.fsync(self.fd)

    def call(self, collection: Any, op: str, **arguments: Any) -> None:
        self.n += 1
        self.write({"n": self.n, "collection": collection.name, "op": op, **arguments})
        call_arguments = dict(arguments)
        if "embeddings" in call_arguments:
            call_arguments["embeddings"] = np.asarray(
                call_arguments["embeddings"], dtype=np.float32
            )
        if "metadatas" in call_arguments:
            call_arguments["metadatas"] = [to_call_metadata(m) for m in call_arguments["metadatas"]]
        getattr(collection, op)(**call_arguments)
        self.write({"ack": self.n})


def vectors(rng: np.random.Generator, n: int) -> list[list[float]]:
    # float32 values written as JSON floats read back bit-exactly.
    return [[float(x) for x in row] for row in rng.normal(size=(n, DIMENSION)).astype(np.float32)]


class Writer:
    """Random calls on one collection, journaled."""

    def __init__(self, journal: Journal, collection: Any, seed: str, rng: np.random.Generator):
        self.journal = journal
        self.collection = collection
        self.seed = seed
        self.rng = rng
        self.initial, self.most, self.largest = COLLECTIONS[collection.name]
        self.live = set(collection.get(include=[])["ids"])
        self.fresh = 0
        self.sparse = collection.name == SPARSE_COLLECTION

    def metadata(self, tag: str | None, v: int, update: bool = False) -> dict[str, Any]:
        """A record's metadata; in the sparse collection with a new sparse vector, or now
        and then (updates only) ``None``, which removes the record from the sparse index."""
        metadata: dict[str, Any] = {"v": v, "tag": tag}
        if self.sparse:
            removed = update and self.rng.random() < 0.2
            metadata[SPARSE_KEY] = None if removed else sparse_terms(self.rng)
        return metadata

    def new_ids(self, n: int) -> list[str]:
        self.fresh += n
        return [f"s{self.seed}-n{self.fresh - n + i}" for i in range(n)]

    def pick(self, n: int) -> list[str]:
        existing = sorted(self.live)
        return [
            str(i) for i in self.rng.choice(existing, size=min(n, len(existing)), replace=False)
        ]

    def fill(self) -> None:
        if self.live:
            return
        ids = [f"s{self.seed}-{i}" for i in range(self.initial)]
        self.journal.call(
            self.collection,
            "add",
            ids=ids,
            embeddings=vectors(self.rng, self.initial),
            metadatas=[self.metadata("initial", i) for i in range(self.initial)],
            documents=[f"document {i}" for i in range(self.initial)],
        )
        self.live.update(ids)

    def step(self) -> None:
        rng, call = self.rng, self.journal.call
        n = int(rng.integers(1, self.largest))
        kind = rng.choice(["add", "upsert", "update", "delete"], p=[0.3, 0.25, 0.25, 0.2])
        if kind == "delete" or (kind == "add" and len(self.live) > self.most):
            chosen = self.pick(n)
            # An id that does not exist is part of a valid delete call too.
            call(self.collection, "delete", ids=[*chosen, f"missing-{self.fresh}"])
            self.live.difference_update(chosen)
        elif kind == "add":
            ids = self.new_ids(n)
            call(
                self.collection,
                "add",
                ids=ids,
                embeddings=vectors(rng, n),
                metadatas=[self.metadata("added", int(rng.integers(1000))) for _ in ids],
                documents=[f"added {i}" for i in ids],
            )
            self.live.update(ids)
        elif kind == "upsert":
            old = self.pick(n // 2 + 1)
            ids = old + self.new_ids(n - len(old))
            call(
                self.collection,
                "upsert",
                ids=ids,
                embeddings=vectors(rng, len(ids)),
                metadatas=[self.metadata("upserted", int(rng.integers(1000))) for _ in ids],
                documents=[f"upserted {i}" for i in ids],
            )
            self.live.update(ids)
        else:
            ids = self.pick(n)
            fields = rng.choice(["embeddings", "metadatas", "documents"])
            arguments: dict[str, Any] = {"ids": ids}
            if fields == "embeddings":
                arguments["embeddings"] = vectors(rng, len(ids))
            elif fields == "metadatas":
                # None deletes a key: updates merge metadata key by key.
                tag = None if rng.random() < 0.5 else "updated"
                arguments["metadatas"] = [
                    self.metadata(tag, int(rng.integers(1000)), update=True) for _ in ids
                ]
            else:
                # Documents without vectors would be embedded: this collection has none.
                arguments["embeddings"] = vectors(rng, len(ids))
                arguments["documents"] = [f"updated {i}" for i in ids]
            call(self.collection, "update", **arguments)


def main() -> None:
    path, journal_path, seed, durability = sys.argv[1:5]
    rng = np.random.default_rng(int(seed))
    journal = Journal(journal_path)
    client = azurite.PersistentClient(
        path, settings=azurite.Settings(azurite_durability=durability)
    )
    writers = [
        Writer(
            journal,
            client.get_or_create_collection(
                name,
                embedding_function=None,
                **(
                    {"schema": sparse_schema()}
                    if name == SPARSE_COLLECTION
                    else {"configuration": CONFIGURATION}
                ),
            ),
            seed,
            rng,
        )
        for name in COLLECTIONS
    ]
    print("ready", flush=True)
    for writer in writers:
        writer.fill()
    while True:
        writers[int(rng.integers(len(writers)))].step()


if __name__ == "__main__":
    main()
