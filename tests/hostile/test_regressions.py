"""Inputs the hostile-input tests found Azurite answering differently from chromadb 1.5.9,
kept as plain examples once fixed."""

from __future__ import annotations

from typing import Any

import pytest

from azurite import Collection
from azurite.errors import InvalidArgumentError

SURROGATE = "\udfff"


def test_a_float_limit_is_a_type_error(collection: Collection) -> None:
    """``limit=-1.0`` raised OverflowError (the check for negative ints took any number);
    chromadb's engine refuses a float limit with TypeError before looking at its sign."""
    collection.add(ids=["a"], embeddings=[[1.0, 2.0]])
    for call in (
        lambda: collection.get(limit=-1.0),
        lambda: collection.get(offset=-2.5),
        lambda: collection.peek(limit=-1.0),
    ):
        with pytest.raises(TypeError, match="'float' object cannot be interpreted as an integer"):
            call()
    with pytest.raises(OverflowError):
        collection.get(limit=-1)
    assert collection.get(limit=1)["ids"] == ["a"]


@pytest.mark.parametrize(
    "write",
    [
        lambda c: c.add(ids=["x"], embeddings=[[1.0, 2.0]], metadatas=[{SURROGATE: 1}]),
        lambda c: c.upsert(ids=["x"], embeddings=[[1.0, 2.0]], metadatas=[{SURROGATE: 1}]),
        lambda c: c.update(ids=["a"], metadatas=[{SURROGATE: 1}]),
        lambda c: c.modify(metadata={SURROGATE: 1}),
    ],
)
def test_a_metadata_key_with_a_lone_surrogate_is_a_unicode_error(
    collection: Collection, write: Any
) -> None:
    """A key that cannot be UTF-8 raised TypeError ("Cannot convert Python object"); chromadb
    raises the UnicodeEncodeError of the conversion, as for ids and documents."""
    collection.add(ids=["a"], embeddings=[[1.0, 2.0]], metadatas=[{"k": 1}])
    with pytest.raises(UnicodeEncodeError, match="surrogates not allowed"):
        write(collection)
    assert collection.get(include=["metadatas"])["metadatas"] == [{"k": 1}]
    assert collection.metadata is None


def test_a_collection_metadata_key_with_a_lone_surrogate(client: Any) -> None:
    with pytest.raises(UnicodeEncodeError, match="surrogates not allowed"):
        client.create_collection("coll", metadata={SURROGATE: 1}, embedding_function=None)
    assert client.list_collections() == []


@pytest.mark.parametrize(
    "configuration",
    [{"hnsw": 0}, {"hnsw": ["space"]}, {"spann": "l2"}, {"hnsw": {"space": float("nan")}}],
)
def test_a_malformed_configuration_is_an_invalid_argument(
    client: Any, configuration: dict[str, Any]
) -> None:
    """``{"hnsw": 0}`` raised TypeError from ``dict(0)`` and a NaN (written by ``json.dumps``
    as a bare word) ValueError("configuration is not valid JSON"); chromadb's engine refuses
    both with InvalidArgumentError."""
    with pytest.raises(InvalidArgumentError):
        client.create_collection("coll", configuration=configuration, embedding_function=None)
    assert client.list_collections() == []


def test_a_configuration_update_that_is_not_json_is_an_invalid_argument(
    collection: Collection,
) -> None:
    with pytest.raises(InvalidArgumentError, match="expected value at line 1"):
        collection.modify(configuration={"hnsw": {"ef_search": float("inf")}})
    assert collection.configuration_json["hnsw"]["ef_search"] == 100
