"""Every Python example of Chroma's sparse vector pages, restated on our own records with
the same calls and result handling, on Azurite's persistent, ephemeral and HTTP clients
(``azurite run``) and on chromadb 1.5.9's own ``HttpClient`` against the same server:
``cloud/schema/sparse-vector-search``, the schema pages it builds on (the sparse index of
``schema-basics``), ``integrations/embedding-models/chroma-bm25`` and
``chroma-cloud-splade``.

The pages use Chroma Cloud (``CloudClient``) and its hosted SPLADE function. The client
kinds stand in for the first. The second needs Chroma Cloud's embedding service: the tests
make the schema and the function exactly as the pages do (with a stand-in key in
``CHROMA_API_KEY``: nothing is sent) and check what Azurite records of them, then fill the
sparse key with ``ChromaBm25EmbeddingFunction`` (which runs here) or with precomputed
``SparseVector``s to run the searches. The expected answers are computed apart from the
engine: BM25 vectors by chromadb's own function, sparse scores ``1 - Σ q·d`` (the pages'
schemas do not ask for IDF weighting, ``bm25=True``), dense distances with numpy from the
default model's vectors, and Rrf from its formula.

Page → example → test:

| page | # | example | test |
|---|---|---|---|
| sparse-vector-search | 1 | schema with a SPLADE sparse index | test_sparse_index_with_the_hosted_function_is_recorded |
| sparse-vector-search | 2 | create the collection with the schema | test_sparse_index_with_the_hosted_function_is_recorded, test_sparse_page_add_fills_the_sparse_key |
| sparse-vector-search | 3 | add: sparse vectors computed from documents | test_sparse_page_add_fills_the_sparse_key |
| sparse-vector-search | 4 | sparse-only Knn, rows printed | test_sparse_page_sparse_search |
| sparse-vector-search | 5 | Rrf of dense and sparse, rows printed | test_sparse_page_hybrid_search |
| schema-basics | 4 | key-specific sparse index | test_sparse_index_with_the_hosted_function_is_recorded |
| schema-basics | 7 | create / get_or_create with a schema | test_schema_basics_collections_with_a_schema |
| chroma-bm25 | 1 | the function with its constants | test_bm25_page_vectors_are_chromadbs, test_bm25_page_vectors_searched_as_given |
| chroma-cloud-splade | 1 | the hosted function and its model | test_splade_page_function_as_chromadb_makes_it |
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from chromadb.utils.embedding_functions import ChromaBm25EmbeddingFunction as ChromadbBm25
from chromadb.utils.embedding_functions.chroma_cloud_splade_embedding_function import (
    ChromaCloudSpladeEmbeddingFunction as ChromadbSplade,
)
from chromadb.utils.embedding_functions.chroma_cloud_splade_embedding_function import (
    ChromaCloudSpladeEmbeddingModel as ChromadbSpladeModel,
)
from search.conftest import (
    SPARSE_KEY,
    Corpus,
    Kind,
    as_ranks,
    assert_ranking,
    azurite_kind,
    docs_server,
    kind,
    kinds,
    rrf,
    unique_name,
)

import azurite.utils.embedding_functions

FOX_DOCUMENTS = [
    "A red fox runs across the frozen field",
    "The old fox hides from the hunting dog",
    "Neural networks learn from examples",
]
FOX = Corpus.of(
    ["doc1", "doc2", "doc3"],
    FOX_DOCUMENTS,
    [{"category": "animals"}, {"category": "animals"}, {"category": "technology"}],
)
#: The client fixtures of the Search API examples, which this module shares: pytest
#: registers the fixtures a test module imports.
SHARED_FIXTURES = (docs_server, kinds, kind, azurite_kind)
#: A stand-in key: the hosted function reads one when it is made, and nothing is sent.
STAND_IN_KEY = "not-a-real-key"


@pytest.fixture
def collection_name(kind: Kind) -> Iterator[str]:
    """The name of a collection of the test's own, dropped at its end."""
    name = unique_name(kind, "hybrid_search_collection")
    yield name
    if name in [c.name for c in kind.client.list_collections()]:
        kind.client.delete_collection(name)


def bm25_schema(kind: Kind) -> Any:
    Schema, SparseVectorIndexConfig, K = (
        kind.api.Schema,
        kind.api.SparseVectorIndexConfig,
        kind.api.K,
    )
    schema = Schema()
    sparse_ef = kind.functions.ChromaBm25EmbeddingFunction()
    schema.create_index(
        config=SparseVectorIndexConfig(source_key=K.DOCUMENT, embedding_function=sparse_ef),
        key="sparse_embedding",
    )
    return schema


def add_fox_records(collection: Any) -> None:
    collection.add(
        ids=["doc1", "doc2", "doc3"],
        documents=FOX_DOCUMENTS,
        metadatas=[{"category": "animals"}, {"category": "animals"}, {"category": "technology"}],
    )


def test_sparse_index_with_the_hosted_function_is_recorded(
    kind: Kind, collection_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The schema of the sparse page (and schema-basics' key-specific index) with the
    hosted SPLADE function, and a collection made with it: Azurite keeps the function's
    name and configuration and the index's source key, as Chroma Cloud does."""
    monkeypatch.setenv("CHROMA_API_KEY", STAND_IN_KEY)
    Schema, SparseVectorIndexConfig, K = (
        kind.api.Schema,
        kind.api.SparseVectorIndexConfig,
        kind.api.K,
    )
    schema = Schema()
    sparse_ef = kind.functions.ChromaCloudSpladeEmbeddingFunction()
    schema.create_index(
        config=SparseVectorIndexConfig(source_key=K.DOCUMENT, embedding_function=sparse_ef),
        key="sparse_embedding",
    )
    collection = kind.client.create_collection(name=collection_name, schema=schema)
    reread = kind.client.get_collection(collection_name)
    for made in (collection, reread):
        index = made.schema.keys["sparse_embedding"].sparse_vector.sparse_vector_index
        assert index.enabled is True
        assert index.config.source_key == "#document"
        function = index.config.embedding_function
        assert function.name() == "chroma-cloud-splade"
        assert function.get_config() == {
            "api_key_env_var": "CHROMA_API_KEY",
            "model": "prithivida/Splade_PP_en_v1",
            "include_tokens": False,
        }


def test_sparse_page_add_fills_the_sparse_key(kind: Kind, collection_name: str) -> None:
    collection = kind.client.create_collection(name=collection_name, schema=bm25_schema(kind))
    add_fox_records(collection)
    stored = collection.get(include=["metadatas", "documents"])
    expected = ChromadbBm25()(FOX_DOCUMENTS)
    assert stored["documents"] == FOX_DOCUMENTS
    for metadata, category, vector in zip(
        stored["metadatas"], ["animals", "animals", "technology"], expected, strict=True
    ):
        assert metadata["category"] == category
        assert isinstance(metadata["sparse_embedding"], kind.api.SparseVector)
        assert metadata["sparse_embedding"].indices == vector.indices
        assert np.allclose(metadata["sparse_embedding"].values, vector.values, rtol=1e-6)


def test_sparse_page_sparse_search(
    kind: Kind, collection_name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    Search, K, Knn = kind.api.Search, kind.api.K, kind.api.Knn
    collection = kind.client.create_collection(name=collection_name, schema=bm25_schema(kind))
    add_fox_records(collection)
    sparse_rank = Knn(query="fox animal", key="sparse_embedding")
    search = Search().rank(sparse_rank).limit(10).select(K.DOCUMENT, K.SCORE)
    results = collection.search(search)
    for row in results.rows()[0]:
        print(f"Score: {row['score']:.3f} - {row['document']}")
    expected = FOX.sparse_knn("fox animal")
    assert sorted(expected) == ["doc1", "doc2"]  # the third document has no "fox"
    assert_ranking(results.rows()[0], expected, limit=10)
    printed = capsys.readouterr().out.splitlines()
    assert printed == [f"Score: {expected[i]:.3f} - {FOX.record(i)[0]}" for i in results["ids"][0]]


def test_sparse_page_hybrid_search(
    kind: Kind, collection_name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    Search, K, Knn, Rrf = kind.api.Search, kind.api.K, kind.api.Knn, kind.api.Rrf
    collection = kind.client.create_collection(name=collection_name, schema=bm25_schema(kind))
    add_fox_records(collection)
    hybrid_rank = Rrf(
        ranks=[
            Knn(query="fox animal", return_rank=True),
            Knn(query="fox animal", key="sparse_embedding", return_rank=True),
        ],
        weights=[0.7, 0.3],
        k=60,
    )
    search = Search().rank(hybrid_rank).limit(10).select(K.DOCUMENT, K.SCORE)
    results = collection.search(search)
    for row in results.rows()[0]:
        print(f"Score: {row['score']:.3f} - {row['document']}")
    expected = rrf(
        [
            (as_ranks(FOX.dense_knn("fox animal")), None),
            (as_ranks(FOX.sparse_knn("fox animal")), None),
        ],
        [0.7, 0.3],
        k=60,
    )
    # Both Knn leave default=None: the document the sparse Knn did not rank is dropped.
    assert sorted(expected) == ["doc1", "doc2"]
    assert_ranking(results.rows()[0], expected, limit=10)
    assert capsys.readouterr().out.count("Score: -0.0") == 2


def test_schema_basics_collections_with_a_schema(kind: Kind, collection_name: str) -> None:
    schema = bm25_schema(kind)
    collection = kind.client.create_collection(name=collection_name, schema=schema)
    add_fox_records(collection)
    collection = kind.client.get_or_create_collection(name=collection_name, schema=schema)
    assert collection.count() == 3
    index = collection.schema.keys["sparse_embedding"].sparse_vector.sparse_vector_index
    assert index.config.embedding_function.name() == "chroma_bm25"


def test_bm25_page_vectors_are_chromadbs(azurite_kind: Kind) -> None:
    """The page's function, from Azurite's ``chromadb.utils.embedding_functions``, gives
    chromadb's vectors with the constants it names (chromadb's defaults)."""
    bm25_ef = azurite_kind.functions.ChromaBm25EmbeddingFunction(
        k=1.2, b=0.75, avg_doc_length=256.0, token_max_length=40
    )
    texts = ["Hello, world!", "How are you?", "Foxes are running in the running stream"]
    sparse_embeddings = bm25_ef(texts)
    expected = ChromadbBm25(k=1.2, b=0.75, avg_doc_length=256.0, token_max_length=40)(texts)
    assert [v.indices for v in sparse_embeddings] == [v.indices for v in expected]
    for got, want in zip(sparse_embeddings, expected, strict=True):
        assert got.values == pytest.approx(want.values, rel=1e-6)
    # "How are you?" is stop words only.
    assert sparse_embeddings[1].indices == []
    assert bm25_ef.get_config() == ChromadbBm25().get_config()


def test_bm25_page_vectors_searched_as_given(kind: Kind, collection_name: str) -> None:
    """The page's vectors put in a collection as they are (no sparse index embedding
    function: precomputed values), then searched by a query vector of the same function."""
    bm25_ef = kind.functions.ChromaBm25EmbeddingFunction(
        k=1.2, b=0.75, avg_doc_length=256.0, token_max_length=40
    )
    sparse_embeddings = bm25_ef(FOX_DOCUMENTS)
    schema = kind.api.Schema()
    schema.create_index(config=kind.api.SparseVectorIndexConfig(), key=SPARSE_KEY)
    collection = kind.client.create_collection(name=collection_name, schema=schema)
    collection.add(
        ids=FOX.ids,
        documents=FOX_DOCUMENTS,
        metadatas=[{SPARSE_KEY: vector} for vector in sparse_embeddings],
    )
    (query,) = bm25_ef.embed_query(["fox hunting"])
    search = kind.api.Search().rank(kind.api.Knn(query=query, key=SPARSE_KEY)).select("#score")
    expected = FOX.sparse_knn("fox hunting")
    assert sorted(expected) == ["doc1", "doc2"]
    assert_ranking(collection.search(search).rows()[0], expected)


def test_splade_page_function_as_chromadb_makes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The page imports the function and its model enum from
    ``chromadb.utils.embedding_functions``; Azurite has both there (chromadb 1.5.9 only
    has the enum in the function's own module, where this test takes it for chromadb).
    Calling the function needs Chroma Cloud's embedding service: the other tests use BM25
    vectors in its place."""
    monkeypatch.setenv("CHROMA_API_KEY", STAND_IN_KEY)
    functions = azurite.utils.embedding_functions
    splade_ef = functions.ChromaCloudSpladeEmbeddingFunction(
        model=functions.ChromaCloudSpladeEmbeddingModel.SPLADE_PP_EN_V1
    )
    reference = ChromadbSplade(model=ChromadbSpladeModel.SPLADE_PP_EN_V1)
    assert splade_ef.name() == reference.name() == "chroma-cloud-splade"
    assert splade_ef.get_config() == reference.get_config()
    splade_ef.close()
