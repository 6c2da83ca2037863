"""SparseVector metadata values, as Chroma Cloud stores them: written, read back as
SparseVector objects, replaced and merged like any other value, and refused with
chromadb's messages when malformed, on every kind of client."""

from __future__ import annotations

import chromadb
import httpx
import numpy as np
import pytest
from server.servers import Server

import azurite
from azurite import SparseVector

#: float32-exact values, so that what comes back is what was written.
FOX = SparseVector(indices=[3, 17, 4_000_000_000], values=[0.5, -1.25, 8.0])
LABELLED = SparseVector(indices=[1, 2], values=[1.0, 2.0], labels=["quick", "fox"])


def make(client: azurite.ClientAPI) -> azurite.Collection:
    return client.create_collection("sparse_values", embedding_function=None)


def test_sparse_vectors_round_trip_and_are_read_as_sparse_vectors(
    any_client: azurite.ClientAPI,
) -> None:
    collection = make(any_client)
    collection.add(
        ids=["a", "b", "c"],
        embeddings=np.eye(3, dtype=np.float32),
        metadatas=[
            {"sparse": FOX, "topic": "animals"},
            {"sparse": LABELLED},
            # The transport form is accepted as chromadb accepts it.
            {"sparse": {"#type": "sparse_vector", "indices": [9], "values": [4.0]}},
        ],
    )
    got = collection.get(include=["metadatas"])
    assert got["metadatas"] == [
        {"sparse": FOX, "topic": "animals"},
        {"sparse": LABELLED},
        {"sparse": SparseVector(indices=[9], values=[4.0])},
    ]
    assert all(isinstance(m["sparse"], SparseVector) for m in got["metadatas"])
    hits = collection.query(query_embeddings=[[0.0, 1.0, 0.0]], n_results=1)
    assert hits["metadatas"] == [[{"sparse": LABELLED}]]


def test_updates_replace_and_delete_sparse_values_key_by_key(
    any_client: azurite.ClientAPI,
) -> None:
    collection = make(any_client)
    collection.add(ids=["a"], embeddings=[[1.0, 0.0]], metadatas=[{"sparse": FOX, "n": 1}])
    collection.update(ids=["a"], metadatas=[{"sparse": LABELLED}])
    assert collection.get(ids=["a"])["metadatas"] == [{"sparse": LABELLED, "n": 1}]
    collection.upsert(ids=["a"], embeddings=[[1.0, 0.0]], metadatas=[{"sparse": None}])
    assert collection.get(ids=["a"])["metadatas"] == [{"n": 1}]


def test_a_written_sparse_key_joins_the_schema_with_its_index_off(
    any_client: azurite.ClientAPI,
) -> None:
    make(any_client).add(ids=["a"], embeddings=[[1.0]], metadatas=[{"sparse": FOX}])
    schema = any_client.get_collection("sparse_values").schema
    sparse = schema.keys["sparse"].sparse_vector
    assert sparse is not None and sparse.sparse_vector_index is not None
    assert sparse.sparse_vector_index.enabled is False


@pytest.mark.parametrize(
    ("vector", "message"),
    [
        (
            {"#type": "sparse_vector", "indices": [2, 1], "values": [1.0, 1.0]},
            "SparseVector indices must be sorted in strictly ascending order, found "
            "indices[1]=1 <= indices[0]=2 in add.",
        ),
        (
            {"#type": "sparse_vector", "indices": [1], "values": [1.0, 2.0]},
            "SparseVector indices and values must have the same length, got 1 indices and "
            "2 values in add.",
        ),
        (
            {"#type": "sparse_vector", "indices": [-1], "values": [1.0]},
            "SparseVector indices must be non-negative, got -1 at position 0 in add.",
        ),
        (
            {"#type": "sparse_vector", "indices": [1], "values": ["x"]},
            "SparseVector values must be numbers, got str at position 0 in add.",
        ),
    ],
)
def test_malformed_sparse_vectors_are_refused_with_chromadbs_messages(
    any_client: azurite.ClientAPI, vector: dict[str, object], message: str
) -> None:
    collection = make(any_client)
    with pytest.raises(ValueError) as refused:
        collection.add(ids=["a"], embeddings=[[1.0]], metadatas=[{"sparse": vector}])
    assert str(refused.value) == message
    assert collection.count() == 0


def test_sparse_vectors_check_themselves_as_chromadbs_do() -> None:
    with pytest.raises(ValueError, match="strictly ascending order"):
        SparseVector(indices=[1, 1], values=[1.0, 2.0])
    with pytest.raises(ValueError, match="labels must have the same length"):
        SparseVector(indices=[1], values=[1.0], labels=["a", "b"])


def test_chromadbs_own_http_client_sends_and_reads_sparse_vectors(server: Server) -> None:
    """chromadb's client speaks Chroma Cloud's wire form; `azurite run` understands it."""
    client = chromadb.HttpClient(host=server.host, port=server.port)
    try:
        client.reset()
        collection = client.create_collection("official", embedding_function=None)
        vector = chromadb.SparseVector(indices=[1, 70_000], values=[0.25, 3.0], labels=["a", "b"])
        collection.add(ids=["a"], embeddings=[[1.0, 0.0]], metadatas=[{"sparse": vector}])
        collection.upsert(
            ids=["b"],
            embeddings=[[0.0, 1.0]],
            metadatas=[{"sparse": {"#type": "sparse_vector", "indices": [2], "values": [1.5]}}],
        )
        got = collection.get(include=["metadatas"])["metadatas"]
        assert got == [
            {"sparse": vector},
            {"sparse": chromadb.SparseVector(indices=[2], values=[1.5])},
        ]
        hits = collection.query(query_embeddings=[[1.0, 0.0]], n_results=1)
        assert hits["metadatas"] == [[{"sparse": vector}]]
    finally:
        # chromadb 1.5.9 never closes its sessions (the client's, its admin client's).
        for owner in (client, getattr(client, "_admin_client", None)):
            if owner is not None:
                owner._server._session.close()


def test_the_server_takes_chromas_untagged_form_and_refuses_malformed_vectors(
    server: Server,
) -> None:
    with azurite.HttpClient(host=server.host, port=server.port) as client:
        client.reset()
        collection = client.create_collection("raw", embedding_function=None)
    records = (
        f"{server.url}/api/v2/tenants/default_tenant/databases/default_database/"
        f"collections/{collection.id}"
    )

    def add(vector: object) -> httpx.Response:
        body = {"ids": ["a"], "embeddings": [[1.0]], "metadatas": [{"sparse": vector}]}
        return httpx.post(f"{records}/add", json=body)

    # Chroma reads a sparse vector without its tag as well.
    assert add({"indices": [4], "values": [2.0]}).status_code == 201
    got = httpx.post(f"{records}/get", json={"include": ["metadatas"]}).json()
    assert got["metadatas"] == [
        {"sparse": {"#type": "sparse_vector", "indices": [4], "values": [2.0]}}
    ]
    for malformed in (
        {"#type": "sparse_vector", "indices": [-1], "values": [1.0]},
        {"#type": "sparse_vector", "indices": [1], "values": ["x"]},
        {"#type": "dense", "indices": [1], "values": [1.0]},
    ):
        answer = add(malformed)
        assert answer.status_code == 422, answer.text
        assert "did not match any variant of untagged enum MetadataValue" in answer.text
    # Well-formed but unsorted: the engine's rule, in Chroma's words.
    answer = add({"#type": "sparse_vector", "indices": [3, 2], "values": [1.0, 1.0]})
    assert answer.status_code == 400, answer.text
    assert answer.json()["message"] == "Validation error: metadatas: Invalid metadata at index 0"


def test_values_read_back_as_their_shortest_float32_decimal(
    any_client: azurite.ClientAPI,
) -> None:
    """Values are float32, as in Chroma, whose server writes them in JSON as the shortest
    decimal that reads back as the same float32: 0.1 comes back as 0.1."""
    collection = make(any_client)
    written = SparseVector(indices=[1, 2, 3], values=[0.1, 123.456, 1e-7])
    collection.add(ids=["a"], embeddings=[[1.0]], metadatas=[{"sparse": written}])
    read = collection.get(include=["metadatas"])["metadatas"][0]["sparse"]
    assert read.values == [0.1, 123.456, 1e-7]
    # Beyond float32's precision, the float32 is what is kept.
    collection.upsert(
        ids=["a"],
        embeddings=[[1.0]],
        metadatas=[{"sparse": SparseVector(indices=[1], values=[0.123456789123])}],
    )
    read = collection.get(include=["metadatas"])["metadatas"][0]["sparse"]
    assert read.values == [float(str(np.float32(0.123456789123)))] != [0.123456789123]


def test_collection_metadata_holds_sparse_vectors_too(any_client: azurite.ClientAPI) -> None:
    """chromadb's metadata rules, which allow a SparseVector, are the same for collections."""
    first = SparseVector(indices=[1], values=[0.5])
    collection = any_client.create_collection("with_sparse", metadata={"s": first})
    assert collection.metadata == {"s": first}
    collection.modify(metadata={"t": LABELLED})
    assert any_client.get_collection("with_sparse").metadata == {"t": LABELLED}
