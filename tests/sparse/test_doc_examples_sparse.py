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
| schema overview | 1 | string index disabled, a filter on it refused | test_schema_overview_disabled_index |
| schema-basics | 1 | the default indexes | test_schema_basics_defaults |
| schema-basics | 2 | an empty schema | test_schema_basics_empty_and_disabled_indexes |
| schema-basics | 3 | a vector index with a hosted function | test_schema_basics_vector_index_with_a_hosted_function |
| schema-basics | 4 | key-specific sparse index | test_sparse_index_with_the_hosted_function_is_recorded |
| schema-basics | 5 | delete_index (the last call refused as by chromadb) | test_schema_basics_empty_and_disabled_indexes |
| schema-basics | 6 | method chaining | test_schema_basics_chained_indexes |
| schema-basics | 7 | create / get_or_create with a schema | test_schema_basics_collections_with_a_schema |
| chroma-bm25 | 1 | the function with its constants | test_bm25_page_vectors_are_chromadbs, test_bm25_page_vectors_searched_as_given |
| chroma-cloud-splade | 1 | the hosted function and its model | test_splade_page_function_as_chromadb_makes_it |
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import chromadb
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

import azurite
import azurite.utils.embedding_functions

FOX_DOCUMENTS = [
    "A red fox runs across the frozen field",
    "The old fox hides from the hunting dog",
    "Neural networks learn from examples",
]
FOX = Corpus(
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


# ---- the schema pages


def test_schema_overview_disabled_index(
    kind: Kind, collection_name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    Schema, StringInvertedIndexConfig = kind.api.Schema, kind.api.StringInvertedIndexConfig
    schema = Schema()
    schema.delete_index(config=StringInvertedIndexConfig())
    collection = kind.client.create_collection(name=collection_name, schema=schema)
    collection.add(
        ids=["id1", "id2"],
        documents=["Document 1", "Document 2"],
        metadatas=[{"category": "science", "year": 2024}, {"category": "tech", "year": 2023}],
    )
    try:
        collection.query(query_texts=["query"], where={"category": "science"})
    except Exception as e:
        print(f"Error: {e}")
    assert capsys.readouterr().out == (
        "Error: Cannot filter using metadata key 'category' with type 'Str' because "
        "indexing is disabled\n"
    )
    # Only the string index is off: the int one still filters.
    assert collection.query(query_texts=["query"], where={"year": 2023})["ids"] == [["id2"]]


def test_schema_basics_defaults(kind: Kind, collection_name: str) -> None:
    collection = kind.client.create_collection(name=collection_name)
    collection.add(
        ids=["id1"],
        documents=["Some text"],
        embeddings=[[1.0, 2.0]],
        metadatas=[{"category": "science", "year": 2024, "score": 0.95, "published": True}],
    )
    for where in ({"category": "science"}, {"year": 2024}, {"score": 0.95}, {"published": True}):
        assert collection.get(where=where)["ids"] == ["id1"]
        assert collection.get(where={k: {"$ne": v} for k, v in where.items()})["ids"] == []
    assert collection.get(where_document={"$contains": "Some"})["ids"] == ["id1"]
    assert collection.query(query_embeddings=[[1.0, 2.5]], n_results=1)["ids"] == [["id1"]]


def test_schema_basics_empty_and_disabled_indexes(azurite_kind: Kind) -> None:
    """The schemas serialize as chromadb's do, and disabling every index of a key, which
    chromadb 1.5.9 refuses (ValueError), is refused with its words."""

    def schemas(api: Any) -> list[Any]:
        Schema = api.Schema
        empty = Schema()
        schema = Schema()
        schema.delete_index(config=api.StringInvertedIndexConfig())
        schema.delete_index(config=api.IntInvertedIndexConfig(), key="unimportant_count")
        return [empty.serialize_to_json(), schema.serialize_to_json()]

    assert schemas(azurite_kind.api) == schemas(chromadb)

    def all_of_a_key(api: Any) -> None:
        api.Schema().delete_index(key="temporary_field")

    for package in (chromadb, azurite_kind.api):
        with pytest.raises(
            ValueError,
            match=r"^Cannot disable all index types for key 'temporary_field'\. Please "
            r"specify a specific index configuration\.$",
        ):
            all_of_a_key(package)


def test_schema_basics_chained_indexes(kind: Kind, collection_name: str) -> None:
    api = kind.api
    StringInvertedIndexConfig, IntInvertedIndexConfig = (
        api.StringInvertedIndexConfig,
        api.IntInvertedIndexConfig,
    )
    schema = (
        api.Schema()
        .delete_index(config=StringInvertedIndexConfig())
        .create_index(config=StringInvertedIndexConfig(), key="category")
        .create_index(config=StringInvertedIndexConfig(), key="tags")
        .delete_index(config=IntInvertedIndexConfig())
    )
    collection = kind.client.create_collection(name=collection_name, schema=schema)
    collection.add(
        ids=["a", "b"],
        embeddings=[[1.0, 0.0], [0.0, 1.0]],
        metadatas=[
            {"category": "news", "tags": "x", "count": 1, "author": "Smith"},
            {"category": "sport", "tags": "y", "count": 2, "author": "Jones"},
        ],
    )
    assert collection.get(where={"category": "news"})["ids"] == ["a"]
    assert collection.get(where={"tags": "y"})["ids"] == ["b"]
    for where, kind_of_value in (({"count": 1}, "Int"), ({"author": "Smith"}, "Str")):
        key = next(iter(where))
        with pytest.raises(
            api.errors.InvalidArgumentError,
            match=f"Cannot filter using metadata key '{key}' with type '{kind_of_value}'",
        ):
            collection.get(where=where)


def test_schema_basics_vector_index_with_a_hosted_function(
    azurite_kind: Kind, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page's OpenAI function needs OpenAI's service (and chromadb's the ``openai``
    package, not installed here): it is made with a stand-in key and the collection
    records it; nothing is embedded."""
    monkeypatch.setenv("OPENAI_API_KEY", STAND_IN_KEY)
    Schema, VectorIndexConfig = azurite_kind.api.Schema, azurite_kind.api.VectorIndexConfig
    OpenAIEmbeddingFunction = azurite_kind.functions.OpenAIEmbeddingFunction
    schema = Schema()
    embedding_function = OpenAIEmbeddingFunction(
        api_key_env_var="OPENAI_API_KEY", model_name="text-embedding-3-small"
    )
    schema.create_index(
        config=VectorIndexConfig(space="cosine", embedding_function=embedding_function)
    )
    name = unique_name(azurite_kind, "openai_collection")
    collection = azurite_kind.client.create_collection(name, schema=schema)
    try:
        reread = azurite_kind.client.get_collection(name)
        for made in (collection, reread):
            config = made.schema.keys["#embedding"].float_list.vector_index.config
            assert config.space == "cosine"
            assert config.embedding_function.name() == "openai"
            assert config.embedding_function.get_config()["model_name"] == "text-embedding-3-small"
            assert made.configuration_json["hnsw"]["space"] == "cosine"
    finally:
        azurite_kind.client.delete_collection(name)
