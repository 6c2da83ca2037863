"""Deleting records gives disk back: the record store frees its pages as records go."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import azurite

STORE = "azurite.sqlite3"


def store_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.glob(f"{STORE}*"))


def test_deleting_most_records_shrinks_the_record_store(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    ids = [f"r{i}" for i in range(20_000)]
    client = azurite.PersistentClient(path=str(tmp_path))
    collection = client.create_collection("space", embedding_function=None)
    for start in range(0, len(ids), 5_000):
        part = ids[start : start + 5_000]
        collection.add(
            ids=part,
            embeddings=rng.normal(size=(len(part), 64)).astype(np.float32),
            documents=[f"document {i} " * 8 for i in part],
            metadatas=[{"n": i} for i in range(len(part))],
        )
    client.close()
    full = store_bytes(tmp_path)

    client = azurite.PersistentClient(path=str(tmp_path))
    collection = client.get_collection("space", embedding_function=None)
    collection.delete(ids=ids[:16_000])
    assert collection.count() == 4_000
    client.close()
    # 80% of the records are gone; the file keeps its schema and the other 20%.
    assert store_bytes(tmp_path) < full * 0.35

    client = azurite.PersistentClient(path=str(tmp_path))
    collection = client.get_collection("space", embedding_function=None)
    assert collection.count() == 4_000
    assert collection.get(ids=["r16000"], include=["documents"])["documents"] == [
        "document r16000 " * 8
    ]
    client.delete_collection("space")
    client.close()
    assert store_bytes(tmp_path) < full * 0.1
