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

COLLECTION = "crash"
DIMENSION = 8
#: Enough records that unfiltered queries walk the HNSW graph (small sets are scanned).
INITIAL = 2_200
#: Checkpoints are written every few calls (at least a quarter of the collection changed).
CONFIGURATION = {"hnsw": {"sync_threshold": 2, "space": "l2"}}


class Journal:
    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.n = 0

    def write(self, entry: dict[str, Any]) -> None:
        os.write(self.fd, (json.dumps(entry) + "\n").encode())
        os.fsync(self.fd)

    def call(self, collection: Any, op: str, **arguments: Any) -> None:
        self.n += 1
        self.write({"n": self.n, "op": op, **arguments})
        call_arguments = dict(arguments)
        if "embeddings" in call_arguments:
            call_arguments["embeddings"] = np.asarray(
                call_arguments["embeddings"], dtype=np.float32
            )
        getattr(collection, op)(**call_arguments)
        self.write({"ack": self.n})


def vectors(rng: np.random.Generator, n: int) -> list[list[float]]:
    # float32 values written as JSON floats read back bit-exactly.
    return [[float(x) for x in row] for row in rng.normal(size=(n, DIMENSION)).astype(np.float32)]


def main() -> None:
    path, journal_path, seed, durability = sys.argv[1:5]
    rng = np.random.default_rng(int(seed))
    journal = Journal(journal_path)
    client = azurite.PersistentClient(
        path, settings=azurite.Settings(azurite_durability=durability)
    )
    collection = client.get_or_create_collection(
        COLLECTION, embedding_function=None, configuration=CONFIGURATION
    )
    live = set(collection.get(include=[])["ids"])
    print("ready", flush=True)
    if not live:
        ids = [f"s{seed}-{i}" for i in range(INITIAL)]
        journal.call(
            collection,
            "add",
            ids=ids,
            embeddings=vectors(rng, INITIAL),
            metadatas=[{"v": i, "tag": "initial"} for i in range(INITIAL)],
            documents=[f"document {i}" for i in range(INITIAL)],
        )
        live.update(ids)
    fresh = 0

    def new_ids(n: int) -> list[str]:
        nonlocal fresh
        fresh += n
        return [f"s{seed}-n{fresh - n + i}" for i in range(n)]

    while True:
        n = int(rng.integers(1, 60))
        kind = rng.choice(["add", "upsert", "update", "delete"], p=[0.3, 0.25, 0.25, 0.2])
        existing = sorted(live)
        if kind == "delete" or (kind == "add" and len(live) > 2_800):
            chosen = [
                str(i) for i in rng.choice(existing, size=min(n, len(existing)), replace=False)
            ]
            # An id that does not exist is part of a valid delete call too.
            journal.call(collection, "delete", ids=[*chosen, f"missing-{fresh}"])
            live.difference_update(chosen)
        elif kind == "add":
            ids = new_ids(n)
            journal.call(
                collection,
                "add",
                ids=ids,
                embeddings=vectors(rng, n),
                metadatas=[{"v": int(rng.integers(1000)), "tag": "added"} for _ in ids],
                documents=[f"added {i}" for i in ids],
            )
            live.update(ids)
        elif kind == "upsert":
            old = [
                str(i)
                for i in rng.choice(existing, size=min(n // 2 + 1, len(existing)), replace=False)
            ]
            ids = old + new_ids(n - len(old))
            journal.call(
                collection,
                "upsert",
                ids=ids,
                embeddings=vectors(rng, len(ids)),
                metadatas=[{"v": int(rng.integers(1000)), "tag": "upserted"} for _ in ids],
                documents=[f"upserted {i}" for i in ids],
            )
            live.update(ids)
        else:
            ids = [str(i) for i in rng.choice(existing, size=min(n, len(existing)), replace=False)]
            fields = rng.choice(["embeddings", "metadatas", "documents"])
            arguments: dict[str, Any] = {"ids": ids}
            if fields == "embeddings":
                arguments["embeddings"] = vectors(rng, len(ids))
            elif fields == "metadatas":
                # None deletes a key: updates merge metadata key by key.
                tag = None if rng.random() < 0.5 else "updated"
                arguments["metadatas"] = [{"v": int(rng.integers(1000)), "tag": tag} for _ in ids]
            else:
                # Documents without vectors would be embedded: this collection has none.
                arguments["embeddings"] = vectors(rng, len(ids))
                arguments["documents"] = [f"updated {i}" for i in ids]
            journal.call(collection, "update", **arguments)


if __name__ == "__main__":
    main()
