"""The scenario suite every HTTP client runs against a real server.

Each scenario takes an :class:`Api` (a client plus the module of exception classes that
client raises) and exercises one area of the collection API end to end: every collection
and record method, filters, and the error cases a client meets. The same functions run
through chromadb's official ``HttpClient`` and through Azurite's ``HttpClient`` and
``AsyncHttpClient``, so they use only the API those clients share.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import pytest

VECTORS = {
    "a": [1.0, 0.0, 0.0],
    "b": [0.0, 1.0, 0.0],
    "c": [0.0, 0.0, 1.0],
    "d": [1.0, 1.0, 0.0],
    "e": [0.5, 0.5, 0.5],
}
METADATAS = {
    "a": {"year": 2020, "genre": "poem", "score": 0.5, "tags": ["x", "y"], "open": True},
    "b": {"year": 2021, "genre": "essay", "score": 1.5, "tags": ["y"], "open": False},
    "c": {"year": 2022, "genre": "poem", "score": 2.5},
    "d": {"year": 2023, "genre": "novel", "tags": ["z"]},
    "e": None,
}
DOCUMENTS = {
    "a": "the quick brown fox",
    "b": "a lazy dog sleeps",
    "c": "quick thinking wins",
    "d": "brown bread and butter",
    "e": None,
}
ALL_IDS = list(VECTORS)
# "e" has nothing but its vector (a URI alone would make its metadata `{}`, as in Chroma).
URIS = {i: None if i == "e" else f"file://{i}" for i in ALL_IDS}


@dataclass
class Api:
    """A client under test and the exception classes it raises."""

    client: Any
    errors: ModuleType


def unique_name(prefix: str = "scenario") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def as_lists(embeddings: Any) -> list[list[float]]:
    return np.asarray(embeddings, dtype=np.float64).tolist()


def filled_collection(api: Api, **options: Any) -> Any:
    """A new collection holding the five records above."""
    collection = api.client.create_collection(unique_name(), embedding_function=None, **options)
    collection.add(
        ids=ALL_IDS,
        embeddings=[VECTORS[i] for i in ALL_IDS],
        metadatas=[METADATAS[i] for i in ALL_IDS],
        documents=[DOCUMENTS[i] for i in ALL_IDS],
        uris=[URIS[i] for i in ALL_IDS],
    )
    return collection


# ---- server-level calls


def server_calls(api: Api) -> None:
    assert api.client.heartbeat() > 1_600_000_000 * 10**9
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", api.client.get_version())
    assert api.client.get_max_batch_size() > 0


# ---- collections


def collection_lifecycle(api: Api) -> None:
    client, name = api.client, unique_name()
    created = client.create_collection(
        name, metadata={"topic": "t", "n": 1}, embedding_function=None
    )
    assert created.name == name
    assert created.metadata == {"topic": "t", "n": 1}
    fetched = client.get_collection(name, embedding_function=None)
    assert (fetched.id, fetched.name, fetched.metadata) == (created.id, name, created.metadata)
    same = client.get_or_create_collection(name, metadata={"other": 2}, embedding_function=None)
    assert (same.id, same.metadata) == (created.id, {"topic": "t", "n": 1})
    assert name in [c.name for c in client.list_collections()]

    renamed = unique_name("renamed")
    created.modify(name=renamed, metadata={"replaced": True})
    fetched = client.get_collection(renamed, embedding_function=None)
    assert (fetched.id, fetched.metadata) == (created.id, {"replaced": True})
    with pytest.raises(api.errors.NotFoundError, match=re.escape(f"Collection [{name}]")):
        client.get_collection(name, embedding_function=None)

    client.delete_collection(renamed)
    assert renamed not in [c.name for c in client.list_collections()]
    with pytest.raises(api.errors.NotFoundError):
        client.delete_collection(renamed)


def collection_listing(api: Api) -> None:
    client = api.client
    names = [unique_name("list") for _ in range(3)]
    for name in names:
        client.create_collection(name, embedding_function=None)
    before = client.count_collections()
    assert before >= 3
    everything = client.list_collections()
    assert len(everything) == before
    assert [c.name for c in client.list_collections(limit=2)] == [c.name for c in everything[:2]]
    assert [c.name for c in client.list_collections(limit=2, offset=1)] == [
        c.name for c in everything[1:3]
    ]
    for name in names:
        client.delete_collection(name)
    assert client.count_collections() == before - 3


def collection_configuration(api: Api) -> None:
    collection = api.client.create_collection(
        unique_name(), configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
    )
    assert collection.configuration_json["hnsw"]["space"] == "cosine"
    collection.add(ids=["x", "y"], embeddings=[[1.0, 0.0], [0.0, 2.0]])
    result = collection.query(query_embeddings=[[2.0, 0.0]], n_results=2, include=["distances"])
    assert result["ids"] == [["x", "y"]]
    assert result["distances"][0] == pytest.approx([0.0, 1.0], abs=1e-6)


def configuration_change(api: Api) -> None:
    collection = api.client.create_collection(unique_name(), embedding_function=None)
    collection.modify(configuration={"hnsw": {"ef_search": 150}})
    fetched = api.client.get_collection(collection.name, embedding_function=None)
    assert fetched.configuration_json["hnsw"]["ef_search"] == 150
    assert fetched.configuration_json["hnsw"]["space"] == "l2"


def duplicate_collection(api: Api) -> None:
    name = unique_name()
    api.client.create_collection(name, embedding_function=None)
    with pytest.raises(
        api.errors.ChromaError, match=re.escape(f"Collection [{name}] already exists")
    ):
        api.client.create_collection(name, embedding_function=None)


# ---- records


def add_and_get(api: Api) -> None:
    collection = filled_collection(api)
    assert collection.count() == 5
    result = collection.get(include=["embeddings", "metadatas", "documents", "uris"])
    assert result["ids"] == ALL_IDS
    assert as_lists(result["embeddings"]) == [VECTORS[i] for i in ALL_IDS]
    assert result["metadatas"] == [METADATAS[i] for i in ALL_IDS]
    assert result["documents"] == [DOCUMENTS[i] for i in ALL_IDS]
    assert result["uris"] == [URIS[i] for i in ALL_IDS]

    default = collection.get(ids=["c", "a"])
    assert default["ids"] == ["a", "c"]  # insertion order, whatever order was asked
    assert default["embeddings"] is None
    assert default["documents"] == [DOCUMENTS["a"], DOCUMENTS["c"]]

    page = collection.get(limit=2, offset=1, include=[])
    assert page["ids"] == ["b", "c"]
    assert collection.get(ids=["missing"])["ids"] == []


def add_existing_ids_is_ignored(api: Api) -> None:
    collection = filled_collection(api)
    collection.add(ids=["a"], embeddings=[[9.0, 9.0, 9.0]], documents=["changed"])
    result = collection.get(ids=["a"], include=["embeddings", "documents"])
    assert result["documents"] == [DOCUMENTS["a"]]
    assert as_lists(result["embeddings"]) == [VECTORS["a"]]


def peek_and_count(api: Api) -> None:
    collection = filled_collection(api)
    peeked = collection.peek(limit=3)
    assert peeked["ids"] == ["a", "b", "c"]
    assert as_lists(peeked["embeddings"]) == [VECTORS[i] for i in "abc"]
    assert peeked["documents"] == [DOCUMENTS[i] for i in "abc"]
    assert collection.count() == 5


def query_nearest(api: Api) -> None:
    collection = filled_collection(api)
    result = collection.query(
        query_embeddings=[[1.0, 0.1, 0.0], [0.0, 0.0, 0.9]],
        n_results=2,
        include=["embeddings", "metadatas", "documents", "distances", "uris"],
    )
    assert result["ids"] == [["a", "e"], ["c", "e"]]
    assert result["distances"][0] == pytest.approx([0.01, 0.66], abs=1e-5)
    assert result["distances"][1] == pytest.approx([0.01, 0.66], abs=1e-5)
    assert as_lists(result["embeddings"][0]) == [VECTORS["a"], VECTORS["e"]]
    assert result["metadatas"][0] == [METADATAS["a"], METADATAS["e"]]
    assert result["documents"][1] == [DOCUMENTS["c"], DOCUMENTS["e"]]
    assert result["uris"][1] == ["file://c", None]

    default = collection.query(query_embeddings=[[0.0, 1.0, 0.0]], n_results=1)
    assert default["ids"] == [["b"]]
    assert default["embeddings"] is None
    assert default["documents"] == [[DOCUMENTS["b"]]]
    assert default["distances"] == [[pytest.approx(0.0)]]


def query_with_ids_and_filters(api: Api) -> None:
    collection = filled_collection(api)
    query = [[1.0, 0.0, 0.0]]
    assert collection.query(query_embeddings=query, ids=["b", "c"], n_results=5)["ids"] == [
        ["b", "c"]
    ]
    filtered = collection.query(query_embeddings=query, where={"genre": "poem"}, n_results=5)
    assert filtered["ids"] == [["a", "c"]]
    by_text = collection.query(
        query_embeddings=query, where_document={"$contains": "brown"}, n_results=5
    )
    assert by_text["ids"] == [["a", "d"]]
    none = collection.query(query_embeddings=query, where={"year": {"$gt": 3000}}, n_results=3)
    assert none["ids"] == [[]]
    assert none["distances"] == [[]]


def query_more_than_available(api: Api) -> None:
    collection = filled_collection(api)
    result = collection.query(query_embeddings=[[0.0, 0.0, 0.0]], n_results=50)
    assert sorted(result["ids"][0]) == ALL_IDS
    assert result["distances"][0] == sorted(result["distances"][0])


def update_records(api: Api) -> None:
    collection = filled_collection(api)
    collection.update(
        ids=["a", "b", "missing"],
        metadatas=[{"year": None, "new": "v"}, {"genre": "memo"}, {"k": 1}],
        documents=["new a", "new b", "new missing"],
        embeddings=[[2.0, 0.0, 0.0], [0.0, 2.0, 0.0], [1.0, 1.0, 1.0]],
    )
    result = collection.get(ids=["a", "b"], include=["metadatas", "documents", "embeddings"])
    expected_a = {k: v for k, v in METADATAS["a"].items() if k != "year"} | {"new": "v"}
    assert result["metadatas"] == [expected_a, METADATAS["b"] | {"genre": "memo"}]
    assert result["documents"] == ["new a", "new b"]
    assert as_lists(result["embeddings"]) == [[2.0, 0.0, 0.0], [0.0, 2.0, 0.0]]
    assert collection.count() == 5

    collection.update(ids=["c"], documents=None, metadatas=[{"only": 1}])
    assert collection.get(ids=["c"])["metadatas"] == [METADATAS["c"] | {"only": 1}]


def upsert_records(api: Api) -> None:
    collection = filled_collection(api)
    collection.upsert(
        ids=["a", "f"],
        embeddings=[[3.0, 0.0, 0.0], [0.0, 3.0, 0.0]],
        metadatas=[{"genre": None, "added": True}, {"added": True}],
        documents=["upserted a", "brand new f"],
    )
    assert collection.count() == 6
    result = collection.get(ids=["a", "f"], include=["metadatas", "documents", "embeddings"])
    assert result["ids"] == ["a", "f"]
    expected_a = {k: v for k, v in METADATAS["a"].items() if k != "genre"} | {"added": True}
    assert result["metadatas"] == [expected_a, {"added": True}]
    assert result["documents"] == ["upserted a", "brand new f"]
    assert as_lists(result["embeddings"]) == [[3.0, 0.0, 0.0], [0.0, 3.0, 0.0]]


def delete_records(api: Api) -> None:
    collection = filled_collection(api)
    collection.delete(ids=["a", "missing"])
    assert collection.get()["ids"] == ["b", "c", "d", "e"]
    collection.delete(where={"genre": "poem"})
    assert collection.get()["ids"] == ["b", "d", "e"]
    collection.delete(where_document={"$contains": "butter"})
    assert collection.get()["ids"] == ["b", "e"]
    collection.add(ids=["x", "y", "z"], embeddings=[[1.0, 1.0, 1.0]] * 3, metadatas=[{"k": 1}] * 3)
    collection.delete(where={"k": 1}, limit=2)
    assert collection.get()["ids"] == ["b", "e", "z"]
    assert collection.count() == 3


def empty_collection_reads(api: Api) -> None:
    collection = api.client.create_collection(unique_name(), embedding_function=None)
    assert collection.count() == 0
    assert collection.get()["ids"] == []
    assert collection.peek()["ids"] == []


def unicode_and_large_batches(api: Api) -> None:
    collection = api.client.create_collection(unique_name(), embedding_function=None)
    rng = np.random.default_rng(7)
    vectors = rng.random((1000, 16), dtype=np.float32)
    ids = [f"id-ü-{i}" for i in range(1000)]
    collection.add(ids=ids, embeddings=vectors, documents=[f"документ {i} ✓" for i in range(1000)])
    assert collection.count() == 1000
    result = collection.get(ids=["id-ü-999"], include=["embeddings", "documents"])
    assert result["documents"] == ["документ 999 ✓"]
    assert np.allclose(np.asarray(result["embeddings"]), vectors[999:])
    nearest = collection.query(query_embeddings=vectors[:3], n_results=1, include=[])
    assert nearest["ids"] == [["id-ü-0"], ["id-ü-1"], ["id-ü-2"]]


# ---- filters

WHERE_CASES: list[tuple[dict[str, Any], list[str]]] = [
    ({"genre": "poem"}, ["a", "c"]),
    ({"genre": {"$eq": "essay"}}, ["b"]),
    ({"genre": {"$ne": "poem"}}, ["b", "d", "e"]),
    ({"year": {"$gt": 2021}}, ["c", "d"]),
    ({"year": {"$gte": 2021}}, ["b", "c", "d"]),
    ({"year": {"$lt": 2021}}, ["a"]),
    ({"year": {"$lte": 2021}}, ["a", "b"]),
    ({"score": {"$gte": 1.5}}, ["b", "c"]),
    ({"open": True}, ["a"]),
    ({"genre": {"$in": ["novel", "essay"]}}, ["b", "d"]),
    ({"genre": {"$nin": ["novel", "essay"]}}, ["a", "c", "e"]),
    ({"tags": {"$contains": "y"}}, ["a", "b"]),
    ({"tags": {"$not_contains": "y"}}, ["c", "d", "e"]),
    ({"$and": [{"genre": "poem"}, {"year": {"$gt": 2020}}]}, ["c"]),
    ({"$or": [{"genre": "novel"}, {"year": 2020}]}, ["a", "d"]),
]
WHERE_DOCUMENT_CASES: list[tuple[dict[str, Any], list[str]]] = [
    ({"$contains": "quick"}, ["a", "c"]),
    ({"$not_contains": "quick"}, ["b", "d", "e"]),
    ({"$regex": "^b"}, ["d"]),
    ({"$not_regex": "o"}, ["c", "e"]),
    ({"$and": [{"$contains": "quick"}, {"$contains": "fox"}]}, ["a"]),
    ({"$or": [{"$contains": "dog"}, {"$contains": "bread"}]}, ["b", "d"]),
]


def where_filters(api: Api) -> None:
    collection = filled_collection(api)
    for clause, expected in WHERE_CASES:
        assert collection.get(where=clause)["ids"] == expected, clause


def where_document_filters(api: Api) -> None:
    collection = filled_collection(api)
    for clause, expected in WHERE_DOCUMENT_CASES:
        assert collection.get(where_document=clause)["ids"] == expected, clause


def combined_filters(api: Api) -> None:
    collection = filled_collection(api)
    result = collection.get(
        ids=["a", "b", "c", "d"], where={"year": {"$gte": 2021}}, where_document={"$contains": "b"}
    )
    assert result["ids"] == ["d"]


# ---- errors


def record_errors(api: Api) -> None:
    collection = filled_collection(api)
    with pytest.raises(api.errors.InvalidArgumentError, match="dimension of 3, got 2"):
        collection.add(ids=["bad"], embeddings=[[1.0, 2.0]])
    with pytest.raises(api.errors.InvalidArgumentError, match="dimension of 3, got 2"):
        collection.query(query_embeddings=[[1.0, 2.0]])
    with pytest.raises(api.errors.DuplicateIDError):
        collection.add(ids=["n", "n"], embeddings=[[1.0, 2.0, 3.0]] * 2)
    with pytest.raises(ValueError, match="Expected where operator"):
        collection.get(where={"year": {"$bogus": 1}})
    with pytest.raises(ValueError, match="include"):
        collection.get(include=["bogus"])
    assert collection.count() == 5


def deleted_collection_errors(api: Api) -> None:
    collection = filled_collection(api)
    api.client.delete_collection(collection.name)
    with pytest.raises(api.errors.NotFoundError):
        collection.add(ids=["x"], embeddings=[[1.0, 2.0, 3.0]])
    with pytest.raises(api.errors.NotFoundError):
        collection.get()
    with pytest.raises(api.errors.NotFoundError):
        collection.count()


def rename_collision(api: Api) -> None:
    first = api.client.create_collection(unique_name(), embedding_function=None)
    second = api.client.create_collection(unique_name(), embedding_function=None)
    with pytest.raises(api.errors.ChromaError):
        second.modify(name=first.name)
    assert api.client.get_collection(second.name, embedding_function=None).id == second.id


SCENARIOS: list[Callable[[Api], None]] = [
    server_calls,
    collection_lifecycle,
    collection_listing,
    collection_configuration,
    configuration_change,
    duplicate_collection,
    add_and_get,
    add_existing_ids_is_ignored,
    peek_and_count,
    query_nearest,
    query_with_ids_and_filters,
    query_more_than_available,
    update_records,
    upsert_records,
    delete_records,
    empty_collection_reads,
    unicode_and_large_batches,
    where_filters,
    where_document_filters,
    combined_filters,
    record_errors,
    deleted_collection_errors,
    rename_collision,
]
