"""``collection.fork()`` and ``fork_count()`` on every client kind: the fork holds the
source's records, metadata and configuration, both are independent from then on, reads
of a fork answer as those of a fresh collection with the same records, refused calls
raise chromadb's classes, and the counts follow Chroma's lineage rule."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import open_ephemeral_client

import azurite

from .conftest import Kind

INCLUDE = ["embeddings", "documents", "metadatas", "uris"]
DIM = 8


def records(start: int, stop: int, seed: int = 0) -> dict[str, Any]:
    rng = np.random.default_rng(seed + start)
    return {
        "ids": [f"r{i}" for i in range(start, stop)],
        "embeddings": rng.normal(size=(stop - start, DIM)).astype(np.float32).tolist(),
        "documents": [f"document number {i}" for i in range(start, stop)],
        "metadatas": [
            {"i": i, "parity": "even" if i % 2 == 0 else "odd"} for i in range(start, stop)
        ],
        "uris": [f"file:///{i}" for i in range(start, stop)],
    }


def state(collection: Any) -> dict[str, Any]:
    """Everything ``get`` returns, with vectors as plain lists."""
    got = collection.get(include=INCLUDE)
    return {
        "ids": got["ids"],
        "embeddings": [[float(x) for x in e] for e in got["embeddings"]],
        "documents": got["documents"],
        "metadatas": got["metadatas"],
        "uris": got["uris"],
    }


def source(kind: Kind, name: str = "source", rows: int = 40) -> Any:
    collection = kind.client.create_collection(
        name,
        metadata={"owner": "tests", "version": 3},
        configuration={"hnsw": {"space": "cosine", "ef_search": 77}},
        embedding_function=None,
    )
    collection.add(**records(0, rows))
    return collection


def test_a_fork_holds_the_sources_records_metadata_and_configuration(kind: Kind) -> None:
    original = source(kind)
    fork = original.fork("copy")
    assert fork.name == "copy"
    assert fork.id != original.id
    assert fork.metadata == {"owner": "tests", "version": 3}
    assert fork.configuration == original.configuration
    assert fork.configuration["hnsw"]["space"] == "cosine"
    assert fork.count() == 40
    assert state(fork) == state(original)
    # The fork is a collection of the database like any other.
    again = kind.client.get_collection("copy", embedding_function=None)
    assert again.id == fork.id
    assert state(again) == state(original)
    assert sorted(c.name for c in kind.client.list_collections()) == ["copy", "source"]


def test_a_fork_of_an_empty_collection_is_empty_and_takes_the_first_dimension(kind: Kind) -> None:
    empty = kind.client.create_collection("empty", embedding_function=None)
    fork = empty.fork("empty-fork")
    assert fork.count() == 0
    fork.add(ids=["a"], embeddings=[[1.0, 2.0]])
    empty.add(ids=["b"], embeddings=[[1.0, 2.0, 3.0]])
    assert fork.get(include=["embeddings"])["embeddings"][0].tolist() == [1.0, 2.0]
    assert empty.get()["ids"] == ["b"]


def test_writes_after_a_fork_reach_only_the_collection_written(kind: Kind) -> None:
    original = source(kind)
    before = state(original)
    fork = original.fork("copy")

    original.add(**records(40, 45))
    original.update(ids=["r1"], metadatas=[{"i": -1}])
    original.update(ids=["r2"], embeddings=[[0.5] * DIM])
    original.upsert(ids=["r3", "u1"], embeddings=[[0.25] * DIM] * 2, documents=["up", "new"])
    original.delete(ids=["r4"])
    original.delete(where={"parity": "odd"}, limit=3)
    assert state(fork) == before

    fork_before = state(fork)
    source_after = state(original)
    fork.update(
        ids=["r6"], embeddings=[[0.6] * DIM], documents=["the fork's own"], metadatas=[{"i": 600}]
    )
    fork.delete(ids=["r7", "r8"])
    fork.add(ids=["f1"], embeddings=[[0.75] * DIM], metadatas=[{"i": 1000}])
    assert state(original) == source_after
    got = fork.get(ids=["r6", "r7", "f1"], include=["documents", "metadatas"])
    assert got["ids"] == ["r6", "f1"]
    assert got["documents"][0] == "the fork's own"
    assert got["metadatas"][0]["i"] == 600 and got["metadatas"][0]["parity"] == "even"
    assert fork.count() == len(fork_before["ids"]) - 1

    # Metadata-only updates keep the inherited vector.
    fork.update(ids=["r9"], metadatas=[{"i": 900}])
    row = fork_before["ids"].index("r9")
    assert (
        fork.get(ids=["r9"], include=["embeddings"])["embeddings"][0].tolist()
        == (fork_before["embeddings"][row])
    )


def test_modifying_or_dropping_one_side_leaves_the_other(kind: Kind) -> None:
    original = source(kind)
    fork = original.fork("copy")
    fork.modify(name="renamed", metadata={"owner": "fork"})
    assert kind.client.get_collection("source").metadata == {"owner": "tests", "version": 3}
    expected = state(fork)
    kind.client.delete_collection("source")
    kept = kind.client.get_collection("renamed", embedding_function=None)
    assert kept.metadata == {"owner": "fork"}
    assert state(kept) == expected
    kept.add(**records(100, 103))
    assert kept.count() == 43


def test_a_fork_of_a_fork_sees_what_its_source_held_when_it_was_made(kind: Kind) -> None:
    original = source(kind)
    first = original.fork("first")
    first.update(ids=["r0"], metadatas=[{"i": -100}])
    first.delete(ids=["r1"])
    first_then = state(first)
    second = first.fork("second")
    original.delete(ids=["r0", "r2"])
    first.update(ids=["r2"], embeddings=[[0.1] * DIM])
    third = original.fork("third")
    original.add(**records(50, 52))
    assert state(second) == first_then
    assert "r0" not in state(third)["ids"] and state(third)["ids"][-1] == "r39"
    kind.client.delete_collection("first")
    kind.client.delete_collection("source")
    assert state(second) == first_then
    assert state(third)["ids"] == [f"r{i}" for i in range(40) if i not in (0, 2)]


def test_fork_count_is_the_lineages_count_of_forks(kind: Kind) -> None:
    original = source(kind, rows=3)
    assert original.fork_count() == 0
    assert isinstance(original.fork_count(), int)
    forks = [original.fork(f"fork-{i}") for i in range(5)]
    assert original.fork_count() == 5
    assert [fork.fork_count() for fork in forks] == [5] * 5
    grandchild = forks[0].fork("grandchild")
    assert grandchild.fork_count() == 6
    assert original.fork_count() == 6
    # Deleting members, the source included, takes nothing from the count.
    kind.client.delete_collection("source")
    kind.client.delete_collection("fork-1")
    assert forks[0].fork_count() == 6
    unrelated = kind.client.create_collection("unrelated", embedding_function=None)
    assert unrelated.fork_count() == 0


def test_queries_and_searches_of_a_fork_answer_as_a_fresh_collection_would(kind: Kind) -> None:
    original = source(kind, rows=300)
    original.delete(ids=[f"r{i}" for i in range(0, 300, 7)])
    original.update(ids=["r10"], embeddings=[[0.3] * DIM])
    fork = original.fork("copy")
    fork.update(ids=["r11"], embeddings=[[-0.3] * DIM])
    fresh = kind.client.create_collection(
        "fresh",
        configuration={"hnsw": {"space": "cosine", "ef_search": 77}},
        embedding_function=None,
    )
    current = fork.get(include=["embeddings", "documents", "metadatas", "uris"])
    fresh.add(
        ids=current["ids"],
        embeddings=current["embeddings"],
        documents=current["documents"],
        metadatas=current["metadatas"],
        uris=current["uris"],
    )
    queries = np.random.default_rng(5).normal(size=(4, DIM)).astype(np.float32).tolist()
    for where in (None, {"parity": "even"}, {"i": {"$gte": 150}}):
        a = fork.query(query_embeddings=queries, n_results=7, where=where)
        b = fresh.query(query_embeddings=queries, n_results=7, where=where)
        assert a["ids"] == b["ids"]
        assert np.allclose(np.array(a["distances"]), np.array(b["distances"]))
    knn = kind.search.Knn(query=queries[0], limit=20)
    search = kind.search.Search().rank(knn).limit(9).select(kind.search.K.SCORE)
    a, b = fork.search(search), fresh.search(search)
    assert a["ids"] == b["ids"]
    assert np.allclose(np.array(a["scores"], dtype=float), np.array(b["scores"], dtype=float))


def test_a_fork_to_a_name_in_use_is_refused_as_create_refuses_it(kind: Kind) -> None:
    original = source(kind, rows=2)
    with pytest.raises(Exception) as create_error:
        kind.client.create_collection("source")
    with pytest.raises(Exception) as fork_error:
        original.fork("source")
    assert type(fork_error.value) is type(create_error.value)
    assert "Collection [source] already exists" in str(fork_error.value)
    assert kind.client.count_collections() == 1
    assert original.fork_count() == 0


def test_a_fork_of_a_dropped_collection_is_not_found(kind: Kind) -> None:
    original = source(kind, rows=2)
    kind.client.delete_collection("source")
    with pytest.raises(kind.errors.NotFoundError, match="does not exist"):
        original.fork("copy")
    with pytest.raises(kind.errors.NotFoundError, match="does not exist"):
        original.fork_count()
    assert kind.client.count_collections() == 0


def test_a_fork_to_an_invalid_name_is_refused(kind: Kind) -> None:
    original = source(kind, rows=2)
    with pytest.raises(kind.errors.InvalidArgumentError, match="new_name"):
        original.fork("x")
    with pytest.raises(kind.errors.InvalidArgumentError, match="new_name"):
        original.fork("has spaces")
    assert kind.client.count_collections() == 1


def test_a_fork_keeps_the_sources_embedding_function_on_the_client() -> None:
    class Constant(azurite.EmbeddingFunction[list[str]]):
        def __init__(self) -> None:
            pass

        def __call__(self, input: list[str]) -> list[np.ndarray]:
            return [np.full(DIM, float(len(text)), dtype=np.float32) for text in input]

        @staticmethod
        def name() -> str:
            return "constant"

        def get_config(self) -> dict[str, Any]:
            return {}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> Constant:
            return Constant()

    client = open_ephemeral_client()
    client.reset()
    function = Constant()
    original = client.create_collection("with-function", embedding_function=function)
    original.add(ids=["a"], documents=["abc"])
    fork = original.fork("with-function-fork")
    assert fork._embedding_function is function
    fork.add(ids=["b"], documents=["abcdef"])
    assert fork.get(ids=["b"], include=["embeddings"])["embeddings"][0].tolist() == [6.0] * DIM
    client.close()
