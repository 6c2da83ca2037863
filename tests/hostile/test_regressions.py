"""Inputs the hostile-input tests found Azurite answering differently from chromadb 1.5.9,
kept as plain examples once fixed."""

from __future__ import annotations

from typing import Any

import numpy as np
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


def test_a_database_name_is_measured_in_bytes(admin: Any) -> None:
    """chromadb counts a database name's UTF-8 bytes: "日本" (6 bytes) is a valid name and
    "é" (2 bytes) is not; Azurite counted characters and refused "日本"."""
    admin.create_database("日本")
    assert admin.get_database("日本")["name"] == "日本"
    admin.delete_database("日本")
    with pytest.raises(InvalidArgumentError, match="database name must be at least 3"):
        admin.create_database("é")


@pytest.mark.parametrize("name", ["", "ab", "é"])
def test_get_database_refuses_a_name_too_short_to_exist(admin: Any, name: str) -> None:
    """chromadb checks the name before looking it up (InvalidArgumentError); Azurite answered
    NotFoundError."""
    with pytest.raises(InvalidArgumentError, match="database name must be at least 3"):
        admin.get_database(name)


def test_a_float_offset_of_zero_lists_nothing(client: Any, admin: Any) -> None:
    """``offset=0.0`` was read as no offset (``offset or 0``); chromadb's list calls hand it to
    the engine, which refuses a float with TypeError. (``get`` does read ``0.0`` as no offset
    in chromadb, and still does here.)"""
    for call in (
        lambda: client.list_collections(offset=0.0),
        lambda: admin.list_databases(offset=0.0),
    ):
        with pytest.raises(TypeError, match="'float' object cannot be interpreted as an integer"):
            call()


def test_get_with_a_limit_of_the_wrong_type_and_a_negative_offset(collection: Collection) -> None:
    """The limit is converted before the offset, as in chromadb's engine: a float limit is the
    TypeError even when the offset is negative (Azurite raised OverflowError for the offset
    first)."""
    with pytest.raises(TypeError, match="'float' object cannot be interpreted as an integer"):
        collection.get(limit=0.0, offset=-(2**63))
    with pytest.raises(OverflowError, match="out of range integral type conversion attempted"):
        collection.get(limit=1, offset=-1)
    assert collection.get(offset=0.0)["ids"] == []


@pytest.mark.parametrize("method", ["add", "update", "upsert"])
@pytest.mark.parametrize(
    ("vector", "message"),
    [
        ({"indices": [1, 0], "values": [1.0, 2.0]}, "must be sorted in strictly ascending order"),
        ({"indices": [0], "values": ["x"]}, "values must be numbers, got str at position 0"),
        ({"indices": [-1], "values": [1.0]}, "indices must be non-negative"),
        ({"indices": [0, 1], "values": [1.0]}, "must have the same length"),
        ({"values": [1.0]}, "Expected SparseVector indices to be a list, got NoneType"),
    ],
)
def test_a_malformed_sparse_vector_is_a_value_error(
    collection: Collection, method: str, vector: dict[str, Any], message: str
) -> None:
    """chromadb checks a sparse vector in record metadata when it unpacks the arguments
    (ValueError); Azurite let it through to the engine's conversion (TypeError)."""
    collection.add(ids=["a"], embeddings=[[1.0, 2.0]], metadatas=[{"k": 1}])
    sparse = {"#type": "sparse_vector", **vector}
    with pytest.raises(ValueError, match=message):
        getattr(collection, method)(ids=["a"], embeddings=[[0.0, 0.0]], metadatas=[{"s": sparse}])
    stored = collection.get(include=["embeddings", "metadatas"])
    assert stored["metadatas"] == [{"k": 1}]
    assert stored["embeddings"].tolist() == [[1.0, 2.0]]


def test_modify_ignores_configuration_keys_chromadb_does_not_send(collection: Collection) -> None:
    """chromadb's client sends only ``hnsw``, ``spann`` and ``embedding_function`` of a
    configuration update; Azurite sent every key, so ``{"bogus": inf}`` became text that is
    not JSON and an InvalidArgumentError."""
    collection.modify(configuration={"bogus": float("inf"), "hnsw": {"ef_search": 7}})
    assert collection.configuration_json["hnsw"]["ef_search"] == 7
    assert "bogus" not in collection.configuration_json


@pytest.mark.parametrize(
    ("value", "stored"),
    [(np.float32(1.5), 1.5), (np.int64(3), 3), (np.int32(-4), -4), (np.bool_(True), True)],
)
def test_numpy_scalars_in_collection_metadata_are_converted(
    client: Any, value: Any, stored: Any
) -> None:
    """chromadb's engine converts numpy scalars in collection metadata (bool, then
    ``__index__``, then ``__float__``); Azurite refused them with TypeError."""
    collection = client.create_collection("coll", metadata={"k": value}, embedding_function=None)
    assert collection.metadata == {"k": stored}
    assert type(client.get_collection("coll").metadata["k"]) is type(stored)


def test_an_empty_list_in_collection_metadata_is_a_value_error(client: Any) -> None:
    """chromadb: ValueError("Empty lists are not allowed as metadata values"); Azurite raised
    TypeError."""
    with pytest.raises(ValueError, match=r"^Empty lists are not allowed as metadata values$"):
        client.create_collection("coll", metadata={"k": []}, embedding_function=None)
    assert client.list_collections() == []


def test_counts_beyond_what_a_collection_can_hold_mean_all_of_it(collection: Collection) -> None:
    """``n_results``, ``limit`` and ``offset`` of 2**32 or more raised OverflowError from the
    binding (found by the hostile soak: ``query(n_results=2**63 - 1)``). No collection holds
    that many rows, so such a count means all of them, and such an offset is past the last."""
    collection.add(ids=["a", "b"], embeddings=[[1.0, 0.0], [0.0, 1.0]])
    for huge in (2**32, 2**63 - 1, 2**200):
        assert collection.query(query_embeddings=[[1.0, 0.0]], n_results=huge)["ids"] == [
            ["a", "b"]
        ]
        assert collection.get(limit=huge)["ids"] == ["a", "b"]
        assert collection.get(offset=huge)["ids"] == []
    assert collection.count() == 2


def test_a_bad_metadata_key_is_the_type_error_even_beside_a_bad_configuration(
    client: Any,
) -> None:
    """chromadb converts ``metadata`` before it reads the configuration, so a ``None`` key
    is its TypeError even when the configuration cannot be serialized as JSON (found by the
    hostile soak; Azurite reported the configuration's JSON first)."""
    with pytest.raises(TypeError, match="argument 'metadata'"):
        client.create_collection(
            name="",
            embedding_function=None,
            metadata={None: None},
            configuration={"hnsw": {"space": float("inf")}},
        )
    assert client.list_collections() == []
