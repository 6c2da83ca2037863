"""A schema with a sparse vector index (Chroma Cloud's ``SparseVectorIndexConfig``):
created with Chroma Cloud's rules, stored and read back with its embedding function, and
filling its key on every write from the source key, as chromadb's client does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from server.servers import Server

import azurite
from azurite import K, Schema, SparseVector, SparseVectorIndexConfig
from azurite.api.types import SparseEmbeddingFunction
from azurite.embedding_functions import (
    ChromaBm25EmbeddingFunction,
    register_sparse_embedding_function,
)


@register_sparse_embedding_function
class LetterCounts(SparseEmbeddingFunction[list[str]]):
    """A real, tiny sparse embedding: how often each letter of a text occurs (dimension =
    the letter's code point), with the letters as labels."""

    def __init__(self, lowercase: bool = True) -> None:
        self.lowercase = lowercase

    def __call__(self, input: list[str]) -> list[SparseVector]:
        vectors = []
        for text in input:
            text = text.lower() if self.lowercase else text
            counts: dict[str, int] = {}
            for letter in filter(str.isalpha, text):
                counts[letter] = counts.get(letter, 0) + 1
            letters = sorted(counts, key=ord)
            vectors.append(
                SparseVector(
                    indices=[ord(letter) for letter in letters],
                    values=[float(counts[letter]) for letter in letters],
                    labels=letters,
                )
            )
        return vectors

    @staticmethod
    def name() -> str:
        return "test_letter_counts"

    def get_config(self) -> dict[str, Any]:
        return {"lowercase": self.lowercase}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> LetterCounts:
        return LetterCounts(**config)


def sparse_schema(function: Any, source_key: Any = K.DOCUMENT, **options: Any) -> Schema:
    config = SparseVectorIndexConfig(source_key=source_key, embedding_function=function, **options)
    return Schema().create_index(config=config, key="sparse")


def stored(vector: SparseVector) -> SparseVector:
    """A vector as read back: values are float32, as in Chroma, and come back as the
    shortest decimal of that float32 (as Chroma's JSON writes them)."""
    values = [float(str(np.float32(value))) for value in vector.values]
    return SparseVector(indices=vector.indices, values=values, labels=vector.labels)


def vectors_of(collection: azurite.Collection, key: str = "sparse") -> dict[str, Any]:
    got = collection.get(include=["metadatas"])
    return {i: (m or {}).get(key) for i, m in zip(got["ids"], got["metadatas"])}


def test_writes_fill_the_key_from_documents_with_the_index_function(
    any_client: azurite.ClientAPI,
) -> None:
    bm25 = ChromaBm25EmbeddingFunction()
    collection = any_client.create_collection(
        "bm25", schema=sparse_schema(bm25, bm25=True), embedding_function=None
    )
    texts = ["The quick brown fox jumps", "Lazy dogs sleep all day"]
    explicit = SparseVector(indices=[5], values=[1.0])
    collection.add(
        ids=["a", "b", "c"],
        embeddings=np.eye(3, dtype=np.float32),
        documents=[*texts, "ignored: the record sets the key"],
        metadatas=[None, {"topic": "dogs"}, {"sparse": explicit}],
    )
    expected = [stored(vector) for vector in bm25(texts)]
    assert vectors_of(collection) == {"a": expected[0], "b": expected[1], "c": explicit}
    assert collection.get(ids=["b"])["metadatas"] == [{"topic": "dogs", "sparse": expected[1]}]

    collection.update(ids=["a"], documents=["Foxes run"], embeddings=[[1.0, 0.0, 0.0]])
    collection.upsert(ids=["d"], documents=["A new fox"], embeddings=[[0.0, 0.0, 1.0]])
    # An update without documents leaves the vector alone.
    collection.update(ids=["b"], metadatas=[{"topic": "sleep"}])
    refreshed = vectors_of(collection)
    assert refreshed["a"] == stored(bm25(["Foxes run"])[0])
    assert refreshed["d"] == stored(bm25(["A new fox"])[0])
    assert refreshed["b"] == expected[1]


def test_a_metadata_source_key_and_a_registered_function_of_our_own(
    any_client: azurite.ClientAPI,
) -> None:
    collection = any_client.create_collection(
        "letters",
        schema=sparse_schema(LetterCounts(), source_key="title"),
        embedding_function=None,
    )
    collection.add(
        ids=["a", "b", "c"],
        embeddings=np.eye(3, dtype=np.float32),
        metadatas=[{"title": "Abba"}, {"title": 7}, None],
    )
    assert vectors_of(collection) == {
        "a": SparseVector(indices=[97, 98], values=[2.0, 2.0], labels=["a", "b"]),
        # Not a string, or no source at all: nothing to embed.
        "b": None,
        "c": None,
    }


def test_the_index_and_its_function_are_stored_and_read_back(
    tmp_path: Path, server: Server
) -> None:
    schema = sparse_schema(LetterCounts(lowercase=False), bm25=False)
    with azurite.PersistentClient(tmp_path / "db") as client:
        client.create_collection("kept", schema=schema, embedding_function=None)
    with azurite.PersistentClient(tmp_path / "db") as client:
        collection = client.get_collection("kept")
        index = collection.schema.keys["sparse"].sparse_vector.sparse_vector_index
        assert index is not None and index.enabled
        assert index.config.source_key == "#document"
        assert index.config.bm25 is False
        function = index.config.embedding_function
        assert isinstance(function, LetterCounts) and function.lowercase is False
        collection.add(ids=["a"], embeddings=[[1.0]], documents=["Aa"])
        assert vectors_of(collection)["a"] == SparseVector(
            indices=[65, 97], values=[1.0, 1.0], labels=["A", "a"]
        )
    with azurite.HttpClient(host=server.host, port=server.port) as client:
        client.reset()
        client.create_collection("kept", schema=schema, embedding_function=None)
        stored = client.get_collection("kept").schema.serialize_to_json()
    config = stored["keys"]["sparse"]["sparse_vector"]["sparse_vector_index"]["config"]
    assert config["embedding_function"] == {
        "name": "test_letter_counts",
        "type": "known",
        "config": {"lowercase": False},
    }


def test_the_schema_builder_allows_one_sparse_index_with_chromadbs_message() -> None:
    schema = sparse_schema(LetterCounts())
    with pytest.raises(ValueError, match="Only one sparse vector index is allowed"):
        schema.create_index(
            config=SparseVectorIndexConfig(source_key="t", embedding_function=LetterCounts()),
            key="second",
        )
    with pytest.raises(ValueError, match="Sparse vector index must be created on a specific key"):
        Schema().create_index(config=SparseVectorIndexConfig())


def test_the_server_refuses_what_chroma_cloud_refuses(server: Server) -> None:
    """Raw schemas a client could send: the core applies Chroma Cloud's rules."""
    with azurite.HttpClient(host=server.host, port=server.port) as client:
        client.reset()
    on = {"enabled": True, "config": {"embedding_function": {"type": "unknown"}}}
    two = {
        "keys": {
            "a": {"sparse_vector": {"sparse_vector_index": on}},
            "b": {"sparse_vector": {"sparse_vector_index": on}},
        }
    }
    by_default = {"defaults": {"sparse_vector": {"sparse_vector_index": on}}}
    url = f"{server.url}/api/v2/tenants/default_tenant/databases/default_database/collections"
    for schema, message in [
        (two, "At most one sparse vector index is allowed for the collection"),
        (by_default, "Sparse vector index cannot be enabled by default"),
    ]:
        answer = httpx.post(url, json={"name": "refused", "schema": schema})
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"] == "InvalidArgumentError"
        assert message in answer.json()["message"]
    one = {"keys": {"a": {"sparse_vector": {"sparse_vector_index": on}}}}
    answer = httpx.post(url, json={"name": "accepted", "schema": one})
    assert answer.status_code == 200, answer.text
