"""A collection created with ``embedding_function=None`` embeds documents and query texts
with the default function, as chromadb 1.5.9's does (through the default function of its
schema); one recorded with a legacy function does not. Checked side by side with chromadb's
embedded client on the same model files, and on Azurite's embedded and HTTP clients."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import chromadb
import numpy as np
import pytest
from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import (
    ONNXMiniLM_L6_V2 as ChromaMiniLM,
)
from server.servers import Server, azurite_server

import azurite
from azurite.embedding_functions import DefaultEmbeddingFunction, _minilm_files

DOCUMENTS = ["bread with flour and yeast", "the orbit of the moon", "tuning a guitar"]
IDS = ["bread", "moon", "guitar"]
QUERY = ["which instrument has strings"]
NO_FUNCTION = "You must provide an embedding function to compute embeddings."


class Legacy:
    """A function without name or config: recorded as ``legacy``."""

    def __call__(self, input: Any) -> Any:
        return [[float(len(text)), 1.0] for text in input]


@pytest.fixture(scope="module")
def chroma_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """chromadb's embedded client, its default function reading Azurite's model files from
    a scratch cache directory (the user's ~/.cache/chroma is neither read nor written)."""
    cache = tmp_path_factory.mktemp("chroma-cache")
    (cache / "onnx").symlink_to(_minilm_files.resolve_model_dir(), target_is_directory=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ChromaMiniLM, "DOWNLOAD_PATH", cache)
        yield chromadb.EphemeralClient()


@pytest.fixture
def chroma(chroma_client: Any) -> Any:
    """chromadb's client with no collections."""
    for collection in chroma_client.list_collections():
        chroma_client.delete_collection(collection.name)
    return chroma_client


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with azurite_server(tmp_path_factory.mktemp("server")) as running:
        yield running


@pytest.fixture(params=["embedded", "http"])
def ours(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "embedded":
        yield request.getfixturevalue("client")
        return
    server: Server = request.getfixturevalue("server")
    with azurite.HttpClient(host=server.host, port=server.port) as http:
        for collection in http.list_collections():
            http.delete_collection(collection.name)
        yield http


def embeddings_of(collection: Any) -> np.ndarray:
    got = collection.get(ids=IDS, include=["embeddings"])
    return np.asarray(got["embeddings"])


def test_add_and_query_embed_with_the_default_function(ours: Any, chroma: Any) -> None:
    theirs = chroma.create_collection("none-given", embedding_function=None)
    mine = ours.create_collection("none-given", embedding_function=None)
    for collection in (theirs, mine):
        collection.add(ids=IDS, documents=DOCUMENTS)
    np.testing.assert_allclose(embeddings_of(mine), embeddings_of(theirs), atol=1e-6)
    np.testing.assert_allclose(
        embeddings_of(mine), np.stack(DefaultEmbeddingFunction()(DOCUMENTS)), atol=1e-6
    )
    theirs_answer = theirs.query(query_texts=QUERY, n_results=3)
    mine_answer = mine.query(query_texts=QUERY, n_results=3)
    assert mine_answer["ids"] == theirs_answer["ids"]
    assert mine_answer["ids"][0][0] == "guitar"
    np.testing.assert_allclose(mine_answer["distances"], theirs_answer["distances"], atol=1e-5)
    # Nothing is recorded for the function, in both.
    assert mine.configuration_json.get("embedding_function") is None
    assert theirs.configuration_json.get("embedding_function") is None


def test_reopened_without_a_function_embeds_with_the_default(ours: Any, chroma: Any) -> None:
    chroma.create_collection("reopened", embedding_function=None)
    ours.create_collection("reopened", embedding_function=None)
    theirs = chroma.get_collection("reopened", embedding_function=None)
    mine = ours.get_collection("reopened", embedding_function=None)
    for collection in (theirs, mine):
        collection.upsert(ids=IDS, documents=DOCUMENTS)
    np.testing.assert_allclose(embeddings_of(mine), embeddings_of(theirs), atol=1e-6)
    assert (
        mine.query(query_texts=QUERY, n_results=1)["ids"]
        == theirs.query(query_texts=QUERY, n_results=1)["ids"]
    )


def test_a_legacy_record_still_needs_its_function(ours: Any, chroma: Any) -> None:
    chroma.create_collection("legacy", embedding_function=Legacy())
    ours.create_collection("legacy", embedding_function=Legacy())
    for client in (chroma, ours):
        collection = client.get_collection("legacy", embedding_function=None)
        assert collection.configuration_json["embedding_function"] == {"type": "legacy"}
        with pytest.raises(ValueError, match=NO_FUNCTION):
            collection.add(ids=["a"], documents=["a"])
        with pytest.raises(ValueError, match=NO_FUNCTION):
            collection.query(query_texts=QUERY)
