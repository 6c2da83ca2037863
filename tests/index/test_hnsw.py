"""The approximate index through the public API: recall, deletes, updates, filters."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import azurite
from azurite import _core
from azurite.errors import InvalidArgumentError


def brute_force(vectors: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    distances = ((vectors - query) ** 2).sum(axis=1)
    return list(np.argsort(distances, kind="stable")[:k])


def test_graph_search_recall_deletes_updates_and_stats() -> None:
    client = azurite.EphemeralClient()
    collection = client.get_or_create_collection("hnsw-api", embedding_function=None)
    rng = np.random.default_rng(11)
    vectors = rng.normal(size=(8_000, 32)).astype(np.float32)
    ids = [str(i) for i in range(len(vectors))]
    collection.add(
        ids=ids, embeddings=vectors, metadatas=[{"part": i % 10} for i in range(len(vectors))]
    )
    stats = collection.index_stats()
    index_bytes = stats.pop("index_bytes")
    per_vector = stats.pop("bytes_per_vector")
    # 32 float32 values and an inverse norm; 32 int8 codes and their 16-byte scaling.
    assert (stats.pop("f32_bytes_per_vector"), stats.pop("int8_bytes_per_vector")) == (132, 48)
    assert per_vector == 132 + 48 + index_bytes // 8_000
    assert stats == {
        "live": 8_000,
        "index": "hnsw",
        "points": 8_000,
        "tombstones": 0,
        "pending": 0,
    }
    # Links only: the graph keeps no copy of the 8,000 x 32 float32 vectors (1 MB).
    assert 0 < index_bytes < vectors.nbytes + 8_000 * 2 * 16 * 4

    queries = rng.normal(size=(30, 32)).astype(np.float32)
    found = 0
    for query in queries:
        hits = collection.query(query_embeddings=query, n_results=10, include=[])["ids"][0]
        found += len(set(hits) & {ids[i] for i in brute_force(vectors, query, 10)})
    assert found / 300 >= 0.9

    # Half of the records go, a tenth get new vectors: neither old vectors nor deleted
    # records may come back, and the index rebuilds itself once tombstones pile up.
    collection.delete(where={"part": {"$lt": 5}})
    moved = [str(i) for i in range(5, 8_000, 10)]
    new_vectors = rng.normal(size=(len(moved), 32)).astype(np.float32)
    collection.update(ids=moved, embeddings=new_vectors)
    stats = collection.index_stats()
    assert stats["live"] == 4_000
    assert stats["points"] - stats["tombstones"] == 4_000
    assert stats["tombstones"] < 0.3 * stats["points"]
    for i in range(0, len(moved), 40):
        hit = collection.query(query_embeddings=new_vectors[i], n_results=1, include=[])
        assert hit["ids"] == [[moved[i]]]
    live = collection.get(include=[])["ids"]
    assert all(int(id_) % 10 >= 5 for id_ in live)
    client.delete_collection("hnsw-api")


def test_filtered_queries_return_n_results_when_enough_records_match() -> None:
    client = azurite.EphemeralClient()
    collection = client.get_or_create_collection("hnsw-filter", embedding_function=None)
    rng = np.random.default_rng(12)
    vectors = rng.normal(size=(6_000, 16)).astype(np.float32)
    collection.add(
        ids=[str(i) for i in range(6_000)],
        embeddings=vectors,
        metadatas=[{"bucket": i % 100} for i in range(6_000)],
    )
    for share in (1, 14, 50):
        where = {"bucket": {"$lt": share}}
        hits = collection.query(
            query_embeddings=rng.normal(size=(5, 16)).astype(np.float32),
            n_results=25,
            where=where,
            include=["metadatas"],
        )
        for metadatas in hits["metadatas"]:
            assert len(metadatas) == 25
            assert all(m["bucket"] < share for m in metadatas)
    client.delete_collection("hnsw-filter")


def test_out_of_range_neighbour_counts_are_refused() -> None:
    client = azurite.EphemeralClient()
    for bad in (
        {"configuration": {"hnsw": {"max_neighbors": 0}}},
        {"metadata": {"hnsw:M": 5_000}},
    ):
        with pytest.raises(InvalidArgumentError, match="max_neighbors must be between 1 and 1024"):
            client.create_collection("too-wide", embedding_function=None, **bad)
    # chromadb's own tests configure M=128; that works.
    wide = client.create_collection("wide", embedding_function=None, metadata={"hnsw:M": 128})
    wide.add(ids=["a", "b"], embeddings=[[0.0, 1.0], [1.0, 0.0]])
    assert wide.query(query_embeddings=[[0.0, 0.9]], n_results=1, include=[])["ids"] == [["a"]]
    with pytest.raises(InvalidArgumentError, match="max_neighbors"):
        wide.modify(configuration={"hnsw": {"max_neighbors": 2_000}})
    assert wide.configuration_json["hnsw"]["max_neighbors"] == 128
    client.delete_collection("wide")


def azurite_worker_threads() -> set[str]:
    """Names of this process's Azurite worker threads (`azurite-<pool size>-<index>`)."""
    names = set()
    for task in Path("/proc/self/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
        except (FileNotFoundError, ProcessLookupError):
            continue  # a thread (of another library) that ended while we listed them
        if name.startswith("azurite-"):
            names.add(name)
    return names


def test_num_threads_sizes_the_workers_and_modify_changes_it_at_once() -> None:
    client = azurite.EphemeralClient()
    collection = client.create_collection(
        "threads",
        embedding_function=None,
        configuration={"hnsw": {"num_threads": 3}},
    )
    rng = np.random.default_rng(5)
    vectors = rng.normal(size=(5_000, 16)).astype(np.float32)
    # Past the first thousand points the graph is built in parallel chunks.
    collection.add(ids=[str(i) for i in range(len(vectors))], embeddings=vectors)
    assert {"azurite-3-0", "azurite-3-1", "azurite-3-2"} <= azurite_worker_threads()
    assert not any(name.startswith("azurite-5-") for name in azurite_worker_threads())

    collection.modify(configuration={"hnsw": {"num_threads": 5}})
    queries = rng.normal(size=(64, 16)).astype(np.float32)
    result = collection.query(query_embeddings=queries, n_results=3, include=[])
    assert len(result["ids"]) == 64
    assert {f"azurite-5-{i}" for i in range(5)} <= azurite_worker_threads()


def test_the_engine_reports_the_hnsw_defaults_it_applies() -> None:
    defaults = _core.hnsw_defaults()
    assert set(defaults) == {
        "space", "ef_construction", "ef_search", "max_neighbors", "num_threads",
        "batch_size", "sync_threshold", "resize_factor",
    }  # fmt: skip
    # A collection created with no configuration reads back exactly these.
    client = azurite.EphemeralClient()
    collection = client.create_collection("unconfigured", embedding_function=None)
    shown = collection.configuration_json["hnsw"]
    assert shown == {key: defaults[key] for key in shown}
    assert set(shown) == set(defaults) - {"num_threads", "batch_size"}
    # The hidden ones: a worker thread per CPU this process may use, Chroma's batch size.
    assert 1 <= defaults["num_threads"] <= (os.cpu_count() or 1)
    assert defaults["batch_size"] == 100
    assert isinstance(defaults["resize_factor"], float)
