"""``Schema`` side by side with chromadb 1.5.9: the same collection created with the same
schema in chromadb's embedded client and in Azurite's gives the same configuration, the
same stored schema (keys discovered by writes included), the same query distances, and
the same errors, class and message, where the schema forbids a filter or refuses a
combination of settings."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import chromadb
import chromadb.api.types as chroma_types
import pytest

import azurite
import azurite.api.types as azurite_types


@pytest.fixture(scope="module")
def clients() -> Iterator[tuple[Any, Any]]:
    yield chromadb.EphemeralClient(), azurite.EphemeralClient()


@pytest.fixture(autouse=True)
def empty(clients: tuple[Any, Any]) -> None:
    for client in clients:
        for collection in client.list_collections():
            client.delete_collection(collection.name)


def both(build: Callable[[Any], Any]) -> tuple[Any, Any]:
    """`build` run with chromadb's types module and with Azurite's."""
    return build(chroma_types), build(azurite_types)


def outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", call()
    except Exception as error:
        return type(error).__name__, str(error)


def stored_schema(client: Any, name: str) -> dict[str, Any]:
    serialized: dict[str, Any] = client.get_collection(name).schema.serialize_to_json()
    return serialized


def hnsw_schema(t: Any) -> Any:
    return t.Schema().create_index(
        config=t.VectorIndexConfig(
            space="cosine", hnsw=t.HnswIndexConfig(ef_construction=150, max_neighbors=20)
        )
    )


def disabled_indexes(t: Any) -> Any:
    return (
        t.Schema()
        .delete_index(key="k", config=t.StringInvertedIndexConfig())
        .delete_index(key="i", config=t.IntInvertedIndexConfig())
        .delete_index(key="f", config=t.FloatInvertedIndexConfig())
        .delete_index(key="b", config=t.BoolInvertedIndexConfig())
        .delete_index(key="#document", config=t.FtsIndexConfig())
    )


RECORD = {
    "ids": ["1", "2", "3"],
    "embeddings": [[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]],
    "documents": ["hello", "world", "again"],
    "metadatas": [
        {"k": "x", "i": 1, "f": 1.5, "b": True, "o": "y"},
        {"arr": [1, 2], "tags": ["a"], "n": 2.5},
        {"k": 3},
    ],
}


def test_a_vector_index_in_the_schema_configures_the_collection(
    clients: tuple[Any, Any],
) -> None:
    schemas = both(hnsw_schema)
    results = []
    for client, schema in zip(clients, schemas, strict=True):
        collection = client.create_collection("vectors", schema=schema)
        collection.add(**{k: RECORD[k] for k in ("ids", "embeddings")})
        query = collection.query(query_embeddings=[[1.0, 0.0]], n_results=3)
        results.append((collection.configuration_json, query["ids"], query["distances"]))
    assert results[0] == results[1]
    configuration = results[1][0]["hnsw"]
    assert (configuration["space"], configuration["ef_construction"]) == ("cosine", 150)
    assert configuration["max_neighbors"] == 20


def test_the_stored_schema_lists_every_key_written(clients: tuple[Any, Any]) -> None:
    schemas = both(hnsw_schema)
    stored = []
    for client, schema in zip(clients, schemas, strict=True):
        collection = client.create_collection("keys", schema=schema)
        created = collection.schema.serialize_to_json()
        collection.add(**RECORD)
        collection.update(ids=["1"], metadatas=[{"updated": True}])
        collection.upsert(ids=["9"], embeddings=[[0.5, 0.5]], metadatas=[{"upserted": "u"}])
        stored.append(
            (created, collection.schema.serialize_to_json(), stored_schema(client, "keys"))
        )
    assert stored[0] == stored[1]
    keys = stored[1][2]["keys"]
    assert keys["n"] == {"float": {"float_inverted_index": {"enabled": True, "config": {}}}}
    assert set(keys["k"]) == {"string", "int"}
    assert keys["arr"] == {"int": {"int_inverted_index": {"enabled": True, "config": {}}}}
    assert set(keys["updated"]) == {"bool"}
    assert set(keys["upserted"]) == {"string"}


def test_a_collection_without_a_schema_gets_chromas_default_schema(
    clients: tuple[Any, Any],
) -> None:
    for options in ({}, {"configuration": {"hnsw": {"space": "ip", "ef_search": 33}}}):
        answers = []
        for client in clients:
            collection = client.create_collection("plain", **options)
            answers.append((collection.configuration_json, collection.schema.serialize_to_json()))
            client.delete_collection("plain")
        assert answers[0] == answers[1], options


FILTERS: list[dict[str, Any]] = [
    {"where": {"k": "x"}},
    {"where": {"i": 1}},
    {"where": {"f": 1.5}},
    {"where": {"b": True}},
    {"where": {"k": {"$in": ["x"]}}},
    {"where": {"i": {"$gt": 0}}},
    {"where": {"k": {"$ne": "x"}}},
    {"where": {"$and": [{"o": "y"}, {"k": "x"}]}},
    {"where": {"o": "y"}},
    {"where": {"k": 3}},
    {"where_document": {"$contains": "hel"}},
    {"where_document": {"$regex": "h.*"}},
    {"where_document": {"$not_contains": "hel"}},
]


@pytest.mark.parametrize("where", FILTERS, ids=json.dumps)
def test_disabled_indexes_refuse_filters_as_chromadb_does(
    clients: tuple[Any, Any], where: dict[str, Any]
) -> None:
    schemas = both(disabled_indexes)
    answers = []
    for client, schema in zip(clients, schemas, strict=True):
        collection = client.create_collection("toggles", schema=schema)
        collection.add(**RECORD)
        answers.append(filtered(collection, where))
    assert answers[0] == answers[1]


def filtered(collection: Any, where: dict[str, Any]) -> tuple[Any, ...]:
    """What get, query and delete with the filter do, and how many records remain."""
    return (
        outcome(lambda: collection.get(**where)["ids"]),
        outcome(lambda: collection.query(query_embeddings=[[1.0, 0.0]], **where)["ids"]),
        outcome(lambda: collection.delete(**where)),
        collection.count(),
    )


def test_disabled_defaults_refuse_every_key_of_the_type(clients: tuple[Any, Any]) -> None:
    schemas = both(
        lambda t: (
            t.Schema()
            .delete_index(config=t.IntInvertedIndexConfig())
            .delete_index(config=t.StringInvertedIndexConfig())
        )
    )
    answers = []
    for client, schema in zip(clients, schemas, strict=True):
        collection = client.create_collection("defaults", schema=schema)
        collection.add(**RECORD)
        wheres = ({"i": 1}, {"never": "written"}, {"f": 1.5}, {"b": True})
        answers.append(
            (
                [filtered(collection, {"where": where})[0] for where in wheres],
                stored_schema(client, "defaults"),
            )
        )
    assert answers[0] == answers[1]
    assert answers[1][0][0] == (
        "InvalidArgumentError",
        "Cannot filter using metadata key 'i' with type 'Int' because indexing is disabled",
    )


CREATE_CASES: dict[str, Callable[[Any], dict[str, Any]]] = {
    "configuration and schema": lambda t: {
        "schema": t.Schema().create_index(config=t.VectorIndexConfig(space="cosine")),
        "configuration": {"hnsw": {"space": "ip"}},
    },
    "default configuration and schema": lambda t: {
        "schema": t.Schema().create_index(config=t.VectorIndexConfig(space="cosine")),
        "configuration": {"hnsw": {}},
    },
    "configuration and default schema": lambda t: {
        "schema": t.Schema(),
        "configuration": {"hnsw": {"space": "ip", "max_neighbors": 12}},
    },
    "legacy metadata and schema": lambda t: {
        "schema": t.Schema().create_index(config=t.VectorIndexConfig(space="cosine")),
        "metadata": {"hnsw:space": "ip"},
    },
    "no embedding function and schema": lambda t: {
        "schema": t.Schema().create_index(config=t.VectorIndexConfig(space="cosine")),
        "configuration": {"hnsw": {}},
        "embedding_function": None,
    },
    "spann in the schema": lambda t: {
        "schema": t.Schema().create_index(
            config=t.VectorIndexConfig(space="ip", spann=t.SpannIndexConfig(search_nprobe=10))
        ),
    },
}


@pytest.mark.parametrize("case", CREATE_CASES)
def test_validation_at_create_as_chromadb(clients: tuple[Any, Any], case: str) -> None:
    arguments = both(CREATE_CASES[case])
    answers = []
    for client, kwargs in zip(clients, arguments, strict=True):
        answers.append(outcome(partial(created, client, kwargs)))
    assert answers[0] == answers[1]


def created(client: Any, kwargs: dict[str, Any]) -> tuple[Any, Any]:
    collection = client.create_collection("created", **kwargs)
    return collection.configuration_json, collection.schema.serialize_to_json()


CLIENT_SIDE = {
    "fts without the document key": lambda t: t.Schema().delete_index(config=t.FtsIndexConfig()),
    "vector index deleted": lambda t: t.Schema().delete_index(config=t.VectorIndexConfig()),
    "inverted index on the document key": lambda t: t.Schema().create_index(
        key="#document", config=t.StringInvertedIndexConfig()
    ),
    "sparse index deleted": lambda t: t.Schema().delete_index(
        key="s", config=t.SparseVectorIndexConfig()
    ),
}


@pytest.mark.parametrize("case", CLIENT_SIDE)
def test_schema_building_errors_as_chromadb(case: str) -> None:
    chroma, ours = (
        outcome(lambda t=t: CLIENT_SIDE[case](t)) for t in (chroma_types, azurite_types)
    )
    assert chroma[0] == "ValueError"
    assert ours == chroma


def test_get_or_create_keeps_the_existing_collection_and_its_schema(
    clients: tuple[Any, Any],
) -> None:
    answers = []
    for client, schema in zip(clients, both(hnsw_schema), strict=True):
        client.create_collection("existing")
        again = client.get_or_create_collection("existing", schema=schema)
        try:
            client.create_collection("existing", schema=schema)
        except (chromadb.errors.InternalError, azurite.errors.InternalError) as error:
            duplicate = str(error)
        answers.append((again.configuration_json, again.schema.serialize_to_json(), duplicate))
    assert answers[0] == answers[1]
    assert answers[1][2] == "Collection [existing] already exists"


def test_modify_keeps_the_schemas_vector_index_in_step(clients: tuple[Any, Any]) -> None:
    """The stored schema follows the configuration. (chromadb's collection object patches
    its own copy with ``ef_search`` only; Azurite's shows what the core stored.)"""
    answers = []
    for client, schema in zip(clients, both(hnsw_schema), strict=True):
        collection = client.create_collection("modified", schema=schema)
        collection.modify(configuration={"hnsw": {"ef_search": 77, "max_neighbors": 30}})
        answers.append(
            (
                stored_schema(client, "modified"),
                client.get_collection("modified").configuration_json,
            )
        )
    assert answers[0] == answers[1]
    hnsw = answers[1][0]["keys"]["#embedding"]["float_list"]["vector_index"]["config"]["hnsw"]
    assert (hnsw["ef_search"], hnsw["max_neighbors"], hnsw["ef_construction"]) == (77, 30, 150)


def test_the_schemas_embedding_function_embeds(clients: tuple[Any, Any]) -> None:
    def schema(t: Any) -> Any:
        module = chromadb if t is chroma_types else azurite
        return t.Schema().create_index(
            config=t.VectorIndexConfig(
                space="cosine",
                embedding_function=module.utils.embedding_functions.DefaultEmbeddingFunction(),
            )
        )

    answers = []
    for client, built in zip(clients, both(schema), strict=True):
        collection = client.create_collection("embedded", schema=built)
        answers.append(collection.configuration_json)
    assert answers[0] == answers[1]
    assert answers[1]["embedding_function"]["name"] == "default"


def test_the_schema_survives_reopening(tmp_path: Path) -> None:
    client = azurite.PersistentClient(path=str(tmp_path))
    collection = client.create_collection("kept", schema=disabled_indexes(azurite_types))
    collection.add(**RECORD)
    before = stored_schema(client, "kept")
    del collection, client
    azurite.api.client.SharedSystemClient.clear_system_cache()
    reopened = azurite.PersistentClient(path=str(tmp_path))
    assert stored_schema(reopened, "kept") == before
    assert "tags" in before["keys"]
    assert outcome(lambda: reopened.get_collection("kept").get(where={"k": "x"})) == (
        "InvalidArgumentError",
        "Cannot filter using metadata key 'k' with type 'Str' because indexing is disabled",
    )
