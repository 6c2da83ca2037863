"""Every Python example of Chroma's Search API pages (``docs/mintlify/cloud/search-api/``
in chroma-core/chroma), restated on our own records with the same calls, arguments and
result handling, and run on every client kind: Azurite's persistent, ephemeral and HTTP
clients (``azurite run``), and chromadb 1.5.9's own ``HttpClient`` against the same
server with chromadb's classes. Each expected answer is computed apart from the engine:
dense distances with numpy from the default model's vectors, BM25 scores from chromadb's
``ChromaBm25EmbeddingFunction``, filters restated as Python predicates, and rank
arithmetic and Rrf from the formulas of the pages (see ``conftest.py``).

The examples reach Chroma Cloud through ``CloudClient``; here the client kinds stand in for
it. Their sparse key holds BM25 vectors of the documents (the pages assume some sparse
function; the hosted SPLADE one needs Chroma Cloud). Text queries are embedded by the
collection's default MiniLM model, so the collections hold few documents.

Some examples do not run on chromadb 1.5.9 itself, whatever the server: names its
package does not export (``from chromadb import GroupBy, MinK, MaxK, Val, And``),
attribute access to a ``SearchResult`` (``results.ids``: it is a plain dict),
a text query in the dict form of ``$knn``, and ``Key`` objects in a ``select`` list.
Azurite accepts all four, as the pages write them (a deliberate difference: it only
accepts more than chromadb), and its client kinds run those examples unchanged; the tests
also show chromadb's refusal, and run chromadb's own client with the spelling it accepts
(the names from ``chromadb.execution.expression.operator``, ``results["ids"]``,
``Knn(query=...)``).

Page → example (its Python block, in page order) → test (the reference page's blocks,
``docs/mintlify/reference/python/search.mdx``, come last):

| page | # | example | test |
|---|---|---|---|
| overview | 1 | quick start: filter, limit, select, vector or text Knn | test_overview_quick_start |
| overview | 2 | the imports | test_overview_required_imports |
| overview | 3 | complete example: rows() printed | test_overview_complete_example |
| search-basics | 1 | Search() and direct construction with dicts | test_basics_search_class |
| search-basics | 2 | builder chaining, new instances, progressive | test_basics_builder_pattern |
| search-basics | 3 | construction with Limit/Select, mixed types | test_basics_direct_construction |
| search-basics | 3 | (mixed types: Azurite's kinds; chromadb refuses them) | test_basics_mixed_types |
| search-basics | 4 | empty search: ids only, then select | test_basics_empty_search |
| search-basics | 5 | the four initialization patterns | test_basics_initialization_patterns |
| filtering | 1 | K on metadata, document, id | test_filtering_key_class |
| filtering | 2 | comparison operators | test_filtering_comparison_operators |
| filtering | 3 | set, string and array operators | test_filtering_set_and_string_operators |
| filtering | 4, 5 | array metadata stored, then filtered | test_filtering_array_metadata |
| filtering | 6 | logical operators | test_filtering_logical_operators |
| filtering | 7 | common filtering patterns | test_filtering_common_patterns |
| filtering | 8 | missing keys | test_filtering_missing_keys |
| filtering | 9 | consistent types (the "do this" half) | test_filtering_consistent_types |
| filtering | 10 | pattern matching on documents | test_filtering_document_patterns |
| filtering | 11 | complete example | test_filtering_complete_example |
| ranking | 1 | Knn candidate limits and defaults | test_ranking_document_selection |
| ranking | 2 | Knn parameters | test_ranking_knn_class |
| ranking | 3 | text queries | test_ranking_text_queries |
| ranking | 4 | list and numpy queries | test_ranking_dense_vectors |
| ranking | 5 | sparse vector query as a dict | test_ranking_sparse_vector_query |
| ranking | 6 | embedding fields | test_ranking_embedding_fields |
| ranking | 7 | arithmetic | test_ranking_arithmetic |
| ranking | 8 | exp, log, abs, min, max | test_ranking_math_functions |
| ranking | 9 | Val (imported from the package on Azurite's kinds) | test_ranking_val |
| ranking | 10 | combining expressions | test_ranking_combinations |
| ranking | 11 | no ranking: index order | test_ranking_default_order |
| ranking | 12 | default=None vs a default | test_ranking_defaults_widen_the_candidates |
| ranking | 13 | dimension mismatch | test_ranking_dimension_mismatch |
| ranking | 14 | return_rank | test_ranking_return_rank |
| ranking | 15 | Knn.limit vs Search.limit | test_ranking_limits |
| ranking | 16 | complete example | test_ranking_complete_example |
| hybrid-search | 1 | the RRF arithmetic | test_hybrid_rrf_formula |
| hybrid-search | 2 | RRF vs linear combination | test_hybrid_rrf_versus_linear |
| hybrid-search | 3 | return_rank requirement | test_hybrid_return_rank_requirement |
| hybrid-search | 4 | weights, normalize | test_hybrid_weights |
| hybrid-search | 5 | the k parameter | test_hybrid_k |
| hybrid-search | 6 | dense + sparse | test_hybrid_dense_and_sparse |
| hybrid-search | 7 | each Knn on filtered records | test_hybrid_components_rank_filtered_records |
| hybrid-search | 8 | with and without default | test_hybrid_document_selection |
| hybrid-search | 9 | Rrf equals the manual expression | test_hybrid_rrf_is_a_wrapper |
| hybrid-search | 10 | complete example | test_hybrid_complete_example |
| group-by | 1 | top 3 per category | test_group_by_how_it_works |
| group-by | 2, 3, 4, 5 | GroupBy, MinK, MaxK, keys | test_group_by_classes |
| group-by | 6 | single key | test_group_by_single_key |
| group-by | 7 | several keys | test_group_by_several_keys |
| group-by | 8 | tiebreakers | test_group_by_tiebreakers |
| group-by | 9 | groups with fewer records | test_group_by_small_groups |
| group-by | 10 | complete example | test_group_by_complete_example |
| group-by, ranking, examples | 1-4, 10; 9; 1 | imports from chromadb (Azurite has them; chromadb refuses) | test_imports_the_pages_show |
| pagination-selection | 1 | limit, offset, none | test_pagination_limit |
| pagination-selection | 2 | pages | test_pagination_pages |
| pagination-selection | 3 | select | test_selection_fields |
| pagination-selection | 4 | selections by cost | test_selection_by_cost |
| pagination-selection | 5 | no limit | test_pagination_no_limit |
| pagination-selection | 6 | non-existent fields | test_selection_missing_fields |
| pagination-selection | 7 | complete example (input() answered) | test_pagination_complete_example |
| batch-operations | 1 | three searches in one call | test_batch_several_searches |
| batch-operations | 2 | result structure | test_batch_result_structure |
| batch-operations | 3 | query variations | test_batch_query_variations |
| batch-operations | 4 | A/B ranking strategies | test_batch_ranking_strategies |
| batch-operations | 5 | one filter per search | test_batch_filters |
| batch-operations | 6 | sequential vs batch | test_batch_equals_sequential |
| batch-operations | 7 | mixed selections | test_batch_mixed_selection |
| batch-operations | 8 | complete example | test_batch_complete_example |
| batch-operations | 2, 3 | attribute access (Azurite's kinds; chromadb refuses it) | test_batch_attribute_access |
| examples | 1 | e-commerce search (And from the package on Azurite's kinds) | test_example_product_search |
| examples | 2 | recommendations | test_example_recommendations |
| examples | 3 | multi-category batch | test_example_multi_category |
| migration | 1, 2, 3, 6, 7 | text query in the $knn dict (Azurite's kinds; chromadb refuses it) | test_migration_text_knn_dict |
| migration | 1 | similarity search | test_migration_similarity |
| migration | 2 | document filter | test_migration_document_filter |
| migration | 3 | combined filters | test_migration_combined_filters |
| migration | 4 | get by ids | test_migration_get_by_ids |
| migration | 5 | pagination | test_migration_pagination |
| migration | 6 | text queries | test_migration_text_queries |
| migration | 7 | batch with different parameters | test_migration_batch |
| reference/python/search | 1, 2 | SearchResult columns zipped per search | test_reference_search_result_columns |
"""

from __future__ import annotations

import builtins
import math
import re
from collections.abc import Callable, Iterator
from typing import Any

import chromadb
import chromadb.api.types
import chromadb.errors
import numpy as np
import pytest
from chromadb.utils.embedding_functions import ChromaBm25EmbeddingFunction as ChromadbBm25

import azurite
import azurite.execution.expression.operator

from .conftest import (
    KNN_DEFAULT_LIMIT,
    SPARSE_KEY,
    Corpus,
    Kind,
    as_ranks,
    assert_ranking,
    best,
    combine,
    minilm,
    rrf,
    unique_name,
)

# ---- our records

TOPICS = [
    ("Machine learning basics", "Machine learning lets computers learn patterns from data."),
    ("Neural networks explained", "Neural networks stack layers of weighted neurons."),
    ("Deep learning in practice", "Deep learning trains very large neural networks on GPUs."),
    ("Quantum computing today", "Quantum computing uses qubits and superposition."),
    ("Qubits and error correction", "Recent quantum computing breakthroughs cut qubit errors."),
    ("Artificial intelligence overview", "Artificial intelligence covers reasoning and learning."),
    ("AI research trends", "The latest AI and artificial intelligence research developments."),
    ("Climate change impacts", "Climate change raises sea levels and causes droughts."),
    ("Renewable energy growth", "Solar and wind are the fastest growing renewable energy."),
    ("Battery storage", "Grid batteries store renewable energy for the night."),
    ("Cooking pasta", "Boil pasta in salted water and finish it in the sauce."),
    ("Baking bread", "Bread needs flour, water, salt and patient fermentation."),
    ("Stock markets", "Stock markets price companies by expected future earnings."),
    ("Startup funding", "Startups raise money from venture capital investors."),
    ("Healthy sleep", "Adults need seven to nine hours of sleep each night."),
    ("Running for health", "Regular running strengthens the heart and lungs."),
    ("Transformers for language", "Transformers use attention for machine learning on text."),
    ("Data science tools", "Data science combines statistics, code and domain knowledge."),
    ("API design", "A good REST API is versioned, like v1.2.3, and documented."),
    ("Deprecated interfaces", "This deprecated API will be removed in v2.0.0 of the library."),
    ("Robotics", "Robots combine sensors, motors and artificial intelligence control."),
    ("Space exploration", "Rockets carry probes to explore distant planets and moons."),
    ("Ocean life", "Coral reefs shelter a quarter of all marine species."),
    ("Medical imaging", "Machine learning models read medical images to find tumors."),
]
CATEGORIES = ["science", "tech", "research", "tutorial", "technology", "business"]
STATUSES = ["published", "published", "active", "draft", "featured", "published", "deleted"]
AUTHORS = ["Smith", "Jones", "Garcia", "Chen"]


def article_metadata(i: int) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "title": TOPICS[i][0],
        "author": AUTHORS[i % 4],
        "category": CATEGORIES[i % 6],
        "year": 2019 + (i % 7),
        "status": STATUSES[i % 7],
        "language": "fr" if i % 5 == 4 else "en",
        "rating": 3.0 + (i % 5) * 0.5,
        "type": "article" if i % 2 == 0 else "paper",
        "date": f"2024-{1 + i % 12:02d}-{1 + i:02d}",
        "published_date": f"2024-{1 + i % 12:02d}-{1 + i:02d}",
        "thumbnail_url": f"https://images.example/{i}.png",
        "priority": i % 3,
        "quality_score": round(0.5 + (i % 6) * 0.1, 2),
        "score": round(0.55 + (i % 5) * 0.1, 2),
        "views": (i % 4) * 10,
        "featured": i % 4 == 0,
        "price": 50 + 37 * i % 600,
        "stock": i % 13,
        "discount": round((i % 6) * 0.1, 2),
    }
    if i % 3 == 0:
        metadata["tags"] = ["action", "draft"] if i % 2 == 0 else ["action", "final"]
        metadata["scores"] = [42, i]
        metadata["flags"] = [True]
    elif i % 3 == 1:
        metadata["tags"] = ["comedy"]
        metadata["scores"] = [i]
        metadata["flags"] = [False]
    return metadata


ARTICLES = Corpus(
    [f"doc_{i:03d}" for i in range(len(TOPICS))],
    [document for _, document in TOPICS],
    [article_metadata(i) for i in range(len(TOPICS))],
)

PRODUCTS_DATA = [
    ("Travel headphones", "Wireless noise cancelling headphones for travel.", "electronics", 199.0),
    ("Studio headphones", "Wired studio headphones with flat sound.", "electronics", 149.0),
    ("Budget earbuds", "Cheap wireless earbuds for the gym.", "electronics", 29.0),
    (
        "Premium headphones",
        "Premium wireless headphones with noise cancelling.",
        "electronics",
        450.0,
    ),
    ("Bluetooth speaker", "A portable bluetooth speaker for the beach.", "audio", 89.0),
    ("Soundbar", "A soundbar for the living room television.", "audio", 299.0),
    ("Headphone stand", "A wooden stand for your headphones.", "accessories", 35.0),
    ("Carrying case", "A hard carrying case for travel headphones.", "accessories", 25.0),
    ("USB-C cable", "A braided charging cable.", "accessories", 12.0),
    ("Kids headphones", "Volume limited wireless headphones for kids.", "electronics", 59.0),
]
PRODUCTS = Corpus(
    [f"prod_{i:02d}" for i in range(len(PRODUCTS_DATA))],
    [document for _, document, _, _ in PRODUCTS_DATA],
    [
        {
            "name": name,
            "category": category,
            "price": price,
            "in_stock": i % 4 != 3,
            "rating": 3.5 + (i % 4) * 0.5,
            "image_url": f"https://shop.example/{i}.jpg",
        }
        for i, (name, _, category, price) in enumerate(PRODUCTS_DATA)
    ],
)


class Collections:
    """The collections the examples read, made once per client kind."""

    def __init__(self) -> None:
        self._made: dict[tuple[str, str], Any] = {}

    def get(self, kind: Kind, name: str, corpus: Corpus) -> Any:
        if (kind.name, name) not in self._made:
            collection = kind.client.create_collection(
                unique_name(kind, name), schema=kind.sparse_schema()
            )
            collection.add(ids=corpus.ids, documents=corpus.documents, metadatas=corpus.metadatas)
            self._made[(kind.name, name)] = collection
        return self._made[(kind.name, name)]


@pytest.fixture(scope="module")
def collections() -> Collections:
    return Collections()


@pytest.fixture
def collection(kind: Kind, collections: Collections) -> Any:
    """The articles, on every client kind."""
    return collections.get(kind, "articles", ARTICLES)


@pytest.fixture
def products(kind: Kind, collections: Collections) -> Any:
    return collections.get(kind, "products", PRODUCTS)


@pytest.fixture
def azurite_collection(azurite_kind: Kind, collections: Collections) -> Any:
    """The articles, on Azurite's client kinds only."""
    return collections.get(azurite_kind, "articles", ARTICLES)


@pytest.fixture
def fresh(kind: Kind) -> Iterator[Callable[[str], Any]]:
    """Makes collections of the test's own, dropped at its end."""
    made: list[str] = []

    def make(name: str, **options: Any) -> Any:
        made.append(unique_name(kind, name))
        return kind.client.create_collection(made[-1], **options)

    yield make
    for name in made:
        kind.client.delete_collection(name)


def rows_of(result: Any, search: int = 0) -> list[dict[str, Any]]:
    return result.rows()[search]


def ids_of(result: Any, search: int = 0) -> list[str]:
    return result["ids"][search]


def without_sparse(metadata: dict[str, Any], document: str) -> dict[str, Any]:
    """A record's metadata as read back, less the sparse vector the schema computed into
    it, which must be chromadb's BM25 vector of the document."""
    rest = dict(metadata)
    stored = rest.pop(SPARSE_KEY)
    (expected,) = ChromadbBm25()([document])
    assert list(stored.indices) == list(expected.indices)
    assert np.allclose(stored.values, expected.values, rtol=1e-6)
    return rest


def without_sparse_all(
    metadatas: list[dict[str, Any]], documents: list[str]
) -> list[dict[str, Any]]:
    return [without_sparse(m, d) for m, d in zip(metadatas, documents, strict=True)]


def where_meta(
    test: Callable[[dict[str, Any]], bool],
) -> Callable[[str, str, dict[str, Any]], bool]:
    """A filter on metadata only, restated in Python."""
    return lambda _id, _document, metadata: test(metadata)


def has(metadata: dict[str, Any], key: str, value: Any) -> bool:
    return key in metadata and metadata[key] == value


def science(m: dict[str, Any]) -> bool:
    return has(m, "category", "science")


def chromadb_refusal(action: Callable[[Any], Any]) -> BaseException:
    """What chromadb 1.5.9 raises for ``action(chromadb)``: the reference that Azurite's
    refusal of the same spelling must equal."""
    with pytest.raises(Exception) as raised:
        action(chromadb)
    return raised.value


#: Names the pages import from ``chromadb`` that chromadb 1.5.9 exports only from
#: ``chromadb.execution.expression.operator``, with the pages' examples that do.
PAGE_IMPORTS = {
    "GroupBy": "group-by 1, 2, 10",
    "MinK": "group-by 1, 2, 3, 10",
    "MaxK": "group-by 4",
    "Val": "ranking 9",
    "And": "examples 1",
}


def page_import(kind: Kind, name: str) -> Any:
    """``from chromadb import <name>`` as the page writes it; chromadb's own client takes
    the name from the operator module, since its package refuses the import."""
    namespace: dict[str, Any] = {}
    package = kind.api.__name__ if kind.is_azurite else kind.operator.__name__
    exec(f"from {package} import {name}", namespace)
    return namespace[name]


@pytest.mark.parametrize(("name", "pages"), sorted(PAGE_IMPORTS.items()))
def test_imports_the_pages_show(name: str, pages: str) -> None:
    """The pages import these names from ``chromadb``: Azurite's package exports them (the
    operator module's classes), chromadb 1.5.9's refuses the import."""
    namespace: dict[str, Any] = {}
    exec(f"from azurite import {name}", namespace)
    assert namespace[name] is getattr(azurite.execution.expression.operator, name)
    with pytest.raises(ImportError, match=f"^cannot import name '{name}' from 'chromadb'"):
        exec(f"from chromadb import {name}", {})


# ---- overview


def test_overview_quick_start(kind: Kind, collection: Any) -> None:
    Search, K, Knn = kind.api.Search, kind.api.K, kind.api.Knn
    search = Search().where(K("category") == "science").limit(10).select(K.DOCUMENT, K.SCORE)
    query_text = "What are the latest advances in quantum computing?"
    query_embedding = minilm([query_text])[0].tolist()
    by_vector = collection.search(search.rank(Knn(query=query_embedding)))
    by_text = collection.search(search.rank(Knn(query=query_text)))
    expected = ARTICLES.dense_knn(query_text, where=where_meta(science))
    for result in (by_vector, by_text):
        assert_ranking(rows_of(result), expected, limit=10)
        for row in rows_of(result):
            assert row["document"] == ARTICLES.record(row["id"])[0]


def test_overview_required_imports(kind: Kind) -> None:
    namespace: dict[str, Any] = {}
    exec(f"from {kind.api.__name__} import Search, K, Knn, Rrf", namespace)
    for name in ("K", "Knn", "Rrf"):
        assert namespace[name] is getattr(kind.operator, name)
    assert namespace["Search"]().to_dict()["rank"] is None


def test_overview_complete_example(
    kind: Kind, collection: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    Search, K, Knn = kind.api.Search, kind.api.K, kind.api.Knn
    articles = kind.client.get_collection(collection.name)
    search = (
        Search()
        .where((K("category") == "science") & (K("year") >= 2020))
        .limit(5)
        .select(K.DOCUMENT, K.SCORE, "title", "author")
    )
    query_text = "recent quantum computing breakthroughs"
    result = articles.search(search.rank(Knn(query=query_text)))
    rows = result.rows()[0]
    for row in rows:
        print(f"ID: {row['id']}")
        print(f"Title: {row['metadata']['title']}")
        print(f"Distance: {row['score']:.3f}")
        print(f"Document: {row['document'][:100]}...")
        print("---")
    expected = ARTICLES.dense_knn(
        query_text, where=where_meta(lambda m: science(m) and m["year"] >= 2020)
    )
    assert_ranking(rows, expected, limit=5)
    printed = capsys.readouterr().out.splitlines()
    assert printed[0::5] == [f"ID: {record_id}" for record_id in ids_of(result)]
    assert printed[1::5] == [f"Title: {ARTICLES.record(i)[1]['title']}" for i in ids_of(result)]
    assert all(row["metadata"].keys() == {"title", "author"} for row in rows)


# ---- search basics


def test_basics_search_class(kind: Kind, collection: Any) -> None:
    Search = kind.api.Search
    assert collection.search(Search())["ids"][0] == ARTICLES.ids
    vector = minilm(["learning from data"])[0].tolist()
    search = Search(
        where={"status": "active"},
        rank={"$knn": {"query": vector}},
        limit=10,
        select=["#document", "#score"],
    )
    result = collection.search(search)
    expected = ARTICLES.dense_knn(vector, where=where_meta(lambda m: m["status"] == "active"))
    assert_ranking(rows_of(result), expected, limit=10)
    assert result["metadatas"] == [None]


def test_basics_builder_pattern(kind: Kind, collection: Any) -> None:
    Search, K, Knn = kind.api.Search, kind.api.K, kind.api.Knn
    search = (
        Search()
        .where(K("status") == "published")
        .rank(Knn(query="machine learning applications"))
        .limit(10)
        .select(K.DOCUMENT, K.SCORE)
    )
    published = where_meta(lambda m: m["status"] == "published")
    expected = ARTICLES.dense_knn("machine learning applications", where=published)
    assert_ranking(rows_of(collection.search(search)), expected, limit=10)

    base_search = Search().where(K("category") == "science")
    search_v1 = base_search.limit(5)
    search_v2 = base_search.limit(10)
    in_science = ARTICLES.passing(where_meta(science))
    assert ids_of(collection.search(base_search)) == in_science
    assert ids_of(collection.search(search_v1)) == in_science[:5]
    assert ids_of(collection.search(search_v2)) == in_science[:10]

    search = Search()
    search = search.where(K("status") == "active")
    search = search.rank(Knn(query="recent advances in quantum computing"))
    search = search.limit(20)
    search = search.select(K.DOCUMENT, K.METADATA)
    result = collection.search(search)
    active = where_meta(lambda m: m["status"] == "active")
    expected = ARTICLES.dense_knn("recent advances in quantum computing", where=active)
    assert ids_of(result) == best(expected, 20)
    for row in rows_of(result):
        document = row["document"]
        assert (document, without_sparse(row["metadata"], document)) == ARTICLES.record(row["id"])
        assert "score" not in row


def test_basics_direct_construction(kind: Kind, collection: Any) -> None:
    Search, K, Knn = kind.api.Search, kind.api.K, kind.api.Knn
    Limit, Select = kind.operator.Limit, kind.operator.Select
    search = Search(
        where=K("status") == "active",
        rank=Knn(query="latest research papers"),
        limit=Limit(limit=10, offset=0),
        select=Select(keys={K.DOCUMENT, K.SCORE}),
    )
    active = where_meta(lambda m: m["status"] == "active")
    expected = ARTICLES.dense_knn("latest research papers", where=active)
    assert_ranking(rows_of(collection.search(search)), expected, limit=10)

    assert ids_of(collection.search(Search())) == ARTICLES.ids
    published = ARTICLES.passing(where_meta(lambda m: m["status"] == "published"))
    assert ids_of(collection.search(Search(where=K("status") == "published"))) == published
    result = collection.search(Search(rank=Knn(query="artificial intelligence")))
    assert ids_of(result) == best(ARTICLES.dense_knn("artificial intelligence"))


def test_basics_mixed_types(azurite_kind: Kind, azurite_collection: Any) -> None:
    """The "mixed types" half of the example gives ``$knn`` a text query in dict form
    and a list of ``Key`` objects as ``select``: Azurite runs it as written, chromadb
    1.5.9's ``Search`` refuses both (TypeError) before anything is sent."""

    def mixed_types(api: Any) -> Any:
        return api.Search(
            where=api.K("category") == "science",
            rank={"$knn": {"query": "quantum mechanics"}},
            limit=10,
            select=[api.K.DOCUMENT, api.K.SCORE, "author"],
        )

    search = mixed_types(azurite_kind.api)
    assert set(search.to_dict()["select"]["keys"]) == {"#document", "#score", "author"}
    result = azurite_collection.search(search)
    expected = ARTICLES.dense_knn("quantum mechanics", where=where_meta(science))
    assert_ranking(rows_of(result), expected, limit=10)
    for row in rows_of(result):
        document, metadata = ARTICLES.record(row["id"])
        assert row["document"] == document
        assert row["metadata"] == {"author": metadata["author"]}
    assert isinstance(chromadb_refusal(mixed_types), TypeError)


def test_basics_empty_search(kind: Kind, collection: Any) -> None:
    Search, K = kind.api.Search, kind.api.K
    search = Search()
    result = collection.search(search)
    assert result["ids"] == [ARTICLES.ids]
    for column in ("documents", "embeddings", "metadatas", "scores"):
        assert result[column] == [None]
    search = Search().select(K.DOCUMENT, K.METADATA)
    result = collection.search(search)
    assert result["documents"] == [ARTICLES.documents]
    assert len(result["metadatas"]) == 1
    assert without_sparse_all(result["metadatas"][0], ARTICLES.documents) == ARTICLES.metadatas


def test_basics_initialization_patterns(kind: Kind, collection: Any) -> None:
    Search, K, Knn = kind.api.Search, kind.api.K, kind.api.Knn

    def get_documents() -> Any:
        return Search().select(K.DOCUMENT, K.METADATA)

    def filter_recent_science() -> Any:
        return (
            Search()
            .where((K("category") == "science") & (K("year") >= 2023))
            .limit(10)
            .select(K.DOCUMENT, K.METADATA)
        )

    def search_similar(query: str) -> Any:
        return Search().rank(Knn(query=query)).limit(10).select(K.DOCUMENT, K.SCORE)

    def search_recent_science(query: str) -> Any:
        return (
            Search()
            .where((K("category") == "science") & (K("year") >= 2023))
            .rank(Knn(query=query))
            .limit(10)
            .select(K.DOCUMENT, K.SCORE)
        )

    recent_science = where_meta(lambda m: science(m) and m["year"] >= 2023)
    assert collection.search(get_documents())["documents"] == [ARTICLES.documents]
    assert (
        ids_of(collection.search(filter_recent_science())) == ARTICLES.passing(recent_science)[:10]
    )
    query = "renewable energy"
    assert_ranking(
        rows_of(collection.search(search_similar(query))), ARTICLES.dense_knn(query), limit=10
    )
    assert_ranking(
        rows_of(collection.search(search_recent_science(query))),
        ARTICLES.dense_knn(query, where=recent_science),
        limit=10,
    )


# ---- filtering


def filtered_ids(collection: Any, kind: Kind, where: Any) -> list[str]:
    return ids_of(collection.search(kind.api.Search().where(where)))


def test_filtering_key_class(kind: Kind, collection: Any) -> None:
    K = kind.api.K
    cases = [
        (K("status") == "active", lambda i, d, m: m["status"] == "active"),
        (K.DOCUMENT.contains("machine learning"), lambda i, d, m: "machine learning" in d),
        (
            K.ID.is_in(["doc_001", "doc_002", "doc_003"]),
            lambda i, d, m: i in {"doc_001", "doc_002", "doc_003"},
        ),
    ]
    for where, predicate in cases:
        expected = ARTICLES.passing(predicate)
        assert expected
        assert filtered_ids(collection, kind, where) == expected


def test_filtering_comparison_operators(kind: Kind, collection: Any) -> None:
    K = kind.api.K
    cases = [
        (K("status") == "published", lambda m: m["status"] == "published"),
        (K("views") != 0, lambda m: m["views"] != 0),
        (K("featured") == True, lambda m: m["featured"] is True),  # noqa: E712 (as the page writes it)
        (K("price") > 100, lambda m: m["price"] > 100),
        (K("rating") >= 4.5, lambda m: m["rating"] >= 4.5),
        (K("stock") < 10, lambda m: m["stock"] < 10),
        (K("discount") <= 0.25, lambda m: m["discount"] <= 0.25),
    ]
    for where, predicate in cases:
        expected = ARTICLES.passing(where_meta(predicate))
        assert 0 < len(expected) < len(ARTICLES.ids)
        assert filtered_ids(collection, kind, where) == expected


def test_filtering_set_and_string_operators(kind: Kind, collection: Any) -> None:
    K = kind.api.K
    ids = {"doc_001", "doc_002", "doc_003"}

    def tags(m: dict[str, Any], key: str) -> list[Any]:
        return m.get(key, [])

    cases: list[tuple[Any, Callable[[str, str, dict[str, Any]], bool]]] = [
        (K.ID.is_in(sorted(ids)), lambda i, d, m: i in ids),
        (
            K("category").is_in(["tech", "science"]),
            lambda i, d, m: m["category"] in ("tech", "science"),
        ),
        (
            K("status").not_in(["draft", "deleted"]),
            lambda i, d, m: m["status"] not in ("draft", "deleted"),
        ),
        (K.DOCUMENT.contains("machine learning"), lambda i, d, m: "machine learning" in d),
        (K.DOCUMENT.not_contains("deprecated"), lambda i, d, m: "deprecated" not in d),
        (K.DOCUMENT.regex(r"\bAPI\b"), lambda i, d, m: re.search(r"\bAPI\b", d) is not None),
        (K("tags").contains("action"), lambda i, d, m: "action" in tags(m, "tags")),
        (K("tags").not_contains("draft"), lambda i, d, m: "draft" not in tags(m, "tags")),
        (K("scores").contains(42), lambda i, d, m: 42 in tags(m, "scores")),
        (K("flags").contains(True), lambda i, d, m: True in tags(m, "flags")),
    ]
    for where, predicate in cases:
        expected = ARTICLES.passing(predicate)
        assert 0 < len(expected) < len(ARTICLES.ids)
        assert filtered_ids(collection, kind, where) == expected


def test_filtering_array_metadata(kind: Kind, fresh: Callable[..., Any]) -> None:
    Search, K = kind.api.Search, kind.api.K
    collection = fresh("movies", embedding_function=None)
    collection.add(
        ids=["m1", "m2", "m3"],
        embeddings=[[1, 0, 0], [0, 1, 0], [0, 0, 1]],
        metadatas=[
            {"genres": ["action", "comedy"], "year": 2020},
            {"genres": ["drama"], "year": 2021},
            {"genres": ["action", "thriller"], "year": 2022},
        ],
    )
    stored = collection.get(ids=["m1"], include=["metadatas"])
    assert stored["metadatas"] == [{"genres": ["action", "comedy"], "year": 2020}]

    search = Search().where(K("genres").contains("action"))
    assert ids_of(collection.search(search)) == ["m1", "m3"]
    search = Search().where(K("tags").not_contains("draft"))
    # No movie has tags: a missing array does not contain the value.
    assert ids_of(collection.search(search)) == ["m1", "m2", "m3"]
    search = Search().where(K("scores").contains(42))
    assert ids_of(collection.search(search)) == []
    search = Search().where(K("genres").contains("action") & (K("year") >= 2021))
    assert ids_of(collection.search(search)) == ["m3"]


def test_filtering_logical_operators(kind: Kind, collection: Any) -> None:
    K = kind.api.K
    cases = [
        (
            (K("status") == "published") & (K("year") >= 2020),
            lambda i, d, m: m["status"] == "published" and m["year"] >= 2020,
        ),
        (
            (K("category") == "tech") | (K("category") == "science"),
            lambda i, d, m: m["category"] in ("tech", "science"),
        ),
        (
            (K.DOCUMENT.contains("AI")) & (K("author") == "Smith"),
            lambda i, d, m: "AI" in d and m["author"] == "Smith",
        ),
        (
            (K.ID.is_in(["doc_001", "doc_002"])) | (K("featured") == True),  # noqa: E712
            lambda i, d, m: i in ("doc_001", "doc_002") or m["featured"],
        ),
        (
            (
                (K("status") == "published")
                & ((K("category") == "tech") | (K("category") == "science"))
                & (K("rating") >= 4.0)
            ),
            lambda i, d, m: (
                m["status"] == "published"
                and m["category"] in ("tech", "science")
                and m["rating"] >= 4.0
            ),
        ),
    ]
    for where, predicate in cases:
        assert filtered_ids(collection, kind, where) == ARTICLES.passing(predicate)


def test_filtering_common_patterns(kind: Kind, collection: Any) -> None:
    Search, K = kind.api.Search, kind.api.K
    searches = []
    search = Search().where(K.ID.is_in(["doc_001", "doc_002", "doc_003"]))
    searches.append((search, lambda i, d, m: i in ("doc_001", "doc_002", "doc_003")))
    processed_ids = ["doc_010", "doc_011"]
    search = Search().where(K.ID.not_in(processed_ids))
    searches.append((search, lambda i, d, m: i not in processed_ids))
    search = Search().where(K.DOCUMENT.contains("quantum computing"))
    searches.append((search, lambda i, d, m: "quantum computing" in d))
    search = Search().where(K.DOCUMENT.contains("machine learning") & (K("language") == "en"))
    searches.append((search, lambda i, d, m: "machine learning" in d and m["language"] == "en"))
    search = Search().where((K("price") >= 100) & (K("price") <= 500))
    searches.append((search, lambda i, d, m: 100 <= m["price"] <= 500))
    search = Search().where(
        (K("status") == "active")
        & (K("category").is_in(["tech", "ai", "ml"]))
        & (K("score") >= 0.8)
    )
    searches.append(
        (
            search,
            lambda i, d, m: (
                m["status"] == "active"
                and m["category"] in ("tech", "ai", "ml")
                and m["score"] >= 0.8
            ),
        )
    )
    results = collection.search([s for s, _ in searches])
    for position, (_, predicate) in enumerate(searches):
        assert ids_of(results, position) == ARTICLES.passing(predicate)
    assert all(ids_of(results, position) for position in range(5))


def test_filtering_missing_keys(kind: Kind, fresh: Callable[..., Any]) -> None:
    Search, K = kind.api.Search, kind.api.K
    collection = fresh("missing_keys", embedding_function=None)
    collection.add(
        ids=["a", "b", "c"],
        embeddings=[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
        metadatas=[{"category": "tech"}, {"category": "food"}, {"year": 2020}],
    )
    found = collection.search(
        [
            Search().where(K("category") == "tech"),
            Search().where(K("category") != "tech"),
            Search().where(K("category").is_in(["tech"])),
            Search().where(K("category").not_in(["tech"])),
        ]
    )
    assert found["ids"] == [["a"], ["b", "c"], ["a"], ["b", "c"]]


def test_filtering_consistent_types(kind: Kind, fresh: Callable[..., Any]) -> None:
    Search, K = kind.api.Search, kind.api.K
    collection = fresh("typed_scores", embedding_function=None)
    collection.add(
        ids=["a", "b", "c"],
        embeddings=[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
        metadatas=[{"score": 95}, {"score": 80}, {"score": 90.5}],
    )
    assert ids_of(collection.search(Search().where(K("score") > 90))) == ["a", "c"]


def test_filtering_document_patterns(kind: Kind, collection: Any) -> None:
    K = kind.api.K
    cases = [
        (K.DOCUMENT.contains("API"), lambda i, d, m: "API" in d),
        (
            K.DOCUMENT.regex(r"v\d\.\d\.\d"),
            lambda i, d, m: re.search(r"v\d\.\d\.\d", d) is not None,
        ),
        (K("tags").contains("action"), lambda i, d, m: "action" in m.get("tags", [])),
        (K.DOCUMENT.contains("AI"), lambda i, d, m: "AI" in d),
        (K.DOCUMENT.regex(r"\d+"), lambda i, d, m: re.search(r"\d+", d) is not None),
    ]
    for where, predicate in cases:
        assert filtered_ids(collection, kind, where) == ARTICLES.passing(predicate)


def test_filtering_complete_example(kind: Kind, collection: Any) -> None:
    Search, K, Knn = kind.api.Search, kind.api.K, kind.api.Knn
    search = (
        Search()
        .where(
            K.ID.not_in(["doc_006", "doc_099"])
            & K.DOCUMENT.contains("artificial intelligence")
            & (K("status") == "published")
            & (K("quality_score") >= 0.75)
            & ((K("category") == "research") | (K("category") == "tutorial"))
            & (K("year") >= 2023)
        )
        .rank(Knn(query="latest AI research developments"))
        .limit(10)
        .select(K.DOCUMENT, "title", "author", "year")
    )
    results = collection.search(search)

    def wanted(i: str, d: str, m: dict[str, Any]) -> bool:
        return (
            i not in ("doc_006", "doc_099")
            and "artificial intelligence" in d
            and m["status"] == "published"
            and m["quality_score"] >= 0.75
            and m["category"] in ("research", "tutorial")
            and m["year"] >= 2023
        )

    expected = ARTICLES.dense_knn("latest AI research developments", where=wanted)
    assert ids_of(results) == best(expected, 10)
    assert results["scores"] == [None]
    for row in rows_of(results):
        metadata = ARTICLES.record(row["id"])[1]
        assert row["metadata"] == {k: metadata[k] for k in ("title", "author", "year")}


# ---- ranking


def knn_rows(
    collection: Any, kind: Kind, rank: Any, limit: int | None = None
) -> list[dict[str, Any]]:
    search = kind.api.Search().rank(rank).select(kind.api.K.SCORE)
    if limit is not None:
        search = search.limit(limit)
    return rows_of(collection.search(search))


def test_ranking_document_selection(kind: Kind, collection: Any) -> None:
    Knn = kind.api.Knn
    rank = Knn(query="machine learning research")
    rows = knn_rows(collection, kind, rank)
    assert len(rows) == KNN_DEFAULT_LIMIT < len(ARTICLES.ids)
    assert_ranking(rows, ARTICLES.dense_knn("machine learning research"))

    rank = Knn(query="research papers", limit=100) + Knn(
        query="neural networks research", limit=100, key="sparse_embedding"
    )
    expected = combine(
        [
            (ARTICLES.dense_knn("research papers", 100), None),
            (ARTICLES.sparse_knn("neural networks research", 100), None),
        ],
        lambda a, b: a + b,
    )
    assert 0 < len(expected) < len(ARTICLES.ids)
    assert_ranking(knn_rows(collection, kind, rank), expected)

    rank = (
        Knn(query="AI research", limit=100) * 0.5
        + Knn(query="quantum computing qubits", limit=50, default=1000.0, key="sparse_embedding")
        * 0.5
    )
    expected = combine(
        [
            (ARTICLES.dense_knn("AI research", 100), None),
            (ARTICLES.sparse_knn("quantum computing qubits", 50), 1000.0),
        ],
        lambda a, b: a * 0.5 + b * 0.5,
    )
    rows = knn_rows(collection, kind, rank, limit=100)
    assert len(rows) == len(ARTICLES.ids)
    assert_ranking(rows, expected)


def test_ranking_knn_class(kind: Kind, collection: Any) -> None:
    Knn = kind.api.Knn
    query = "What is machine learning?"
    assert_ranking(knn_rows(collection, kind, Knn(query=query)), ARTICLES.dense_knn(query))
    rank = Knn(query=query, key="#embedding", limit=100, return_rank=False)
    assert_ranking(knn_rows(collection, kind, rank, 100), ARTICLES.dense_knn(query, 100))
    rank = Knn(query="machine learning", key="sparse_embedding")
    expected = ARTICLES.sparse_knn("machine learning")
    assert expected
    assert_ranking(knn_rows(collection, kind, rank), expected)


def test_ranking_text_queries(kind: Kind, collection: Any) -> None:
    Knn = kind.api.Knn
    for query in (
        "machine learning applications",
        "What are the latest advances in quantum computing?",
    ):
        assert_ranking(knn_rows(collection, kind, Knn(query=query)), ARTICLES.dense_knn(query))


def test_ranking_dense_vectors(kind: Kind, collection: Any) -> None:
    Knn = kind.api.Knn
    as_list = minilm(["baking and cooking"])[0].tolist()
    expected = ARTICLES.dense_knn(as_list)
    assert_ranking(knn_rows(collection, kind, Knn(query=as_list)), expected)
    embedding = np.array(as_list)
    assert_ranking(knn_rows(collection, kind, Knn(query=embedding)), expected)


def test_ranking_sparse_vector_query(kind: Kind, collection: Any) -> None:
    Knn = kind.api.Knn
    term = kind.functions.ChromaBm25EmbeddingFunction().embed_query(["pasta bread energy"])[0]
    sparse_vector = {"indices": list(term.indices), "values": [0.5, 0.3, 0.8][: len(term.indices)]}
    expected = ARTICLES.sparse_knn(sparse_vector)
    assert len(expected) == 4  # pasta, bread, and two on energy
    rank = Knn(query=sparse_vector, key="sparse_embedding")
    assert_ranking(knn_rows(collection, kind, rank), expected)


def test_ranking_embedding_fields(kind: Kind, collection: Any) -> None:
    K, Knn = kind.api.K, kind.api.Knn
    expected = ARTICLES.dense_knn("machine learning")
    for rank in (
        Knn(query="machine learning"),
        Knn(query="machine learning", key="#embedding"),
        Knn(query="machine learning", key=K.EMBEDDING),
    ):
        assert_ranking(knn_rows(collection, kind, rank), expected)
    rank = Knn(query="machine learning", key="sparse_embedding")
    assert_ranking(knn_rows(collection, kind, rank), ARTICLES.sparse_knn("machine learning"))


def dense(query: str, limit: int = KNN_DEFAULT_LIMIT, default: float | None = None) -> Any:
    return (ARTICLES.dense_knn(query, limit), default)


def sparse(query: Any, limit: int = KNN_DEFAULT_LIMIT, default: float | None = None) -> Any:
    return (ARTICLES.sparse_knn(query, limit), default)


def test_ranking_arithmetic(kind: Kind, collection: Any) -> None:
    Knn = kind.api.Knn
    words = kind.functions.ChromaBm25EmbeddingFunction().embed_query(["learning networks data"])[0]
    sparse_q = {"indices": list(words.indices), "values": [0.5, 0.3, 0.8]}
    text_score = Knn(query="machine learning research")
    sparse_score = Knn(query=sparse_q, key="sparse_embedding")
    combined = text_score * 0.7 + sparse_score * 0.3
    normalized = Knn(query="quantum computing") / 100.0
    with_baseline = Knn(query="artificial intelligence") + 0.5
    final_score = (Knn(query="deep learning") * 0.5 + Knn(query="neural networks") * 0.3) / 1.8
    cases = [
        (
            combined,
            combine(
                [dense("machine learning research"), sparse(sparse_q)],
                lambda a, b: a * 0.7 + b * 0.3,
            ),
        ),
        (normalized, combine([dense("quantum computing")], lambda a: a / 100.0)),
        (with_baseline, combine([dense("artificial intelligence")], lambda a: a + 0.5)),
        (
            final_score,
            combine(
                [dense("deep learning"), dense("neural networks")],
                lambda a, b: (a * 0.5 + b * 0.3) / 1.8,
            ),
        ),
    ]
    assert cases[0][1]
    for rank, expected in cases:
        assert_ranking(knn_rows(collection, kind, rank), expected)


def test_ranking_math_functions(kind: Kind, collection: Any) -> None:
    Knn = kind.api.Knn
    score = Knn(query="machine learning").exp()
    compressed = (Knn(query="deep learning") + 1).log()
    diff = abs(Knn(query="neural networks") - Knn(query="machine learning"))
    clamped = Knn(query="artificial intelligence").min(0.0).max(1.0)
    positive_only = Knn(query="quantum computing").min(0.0)
    cases = [
        (score, combine([dense("machine learning")], math.exp)),
        (compressed, combine([dense("deep learning")], lambda a: math.log(a + 1))),
        (
            diff,
            combine([dense("neural networks"), dense("machine learning")], lambda a, b: abs(a - b)),
        ),
        # min and max bound the value from above and below: min(0.0) is at most 0.
        (clamped, combine([dense("artificial intelligence")], lambda a: max(min(a, 0.0), 1.0))),
        (positive_only, combine([dense("quantum computing")], lambda a: min(a, 0.0))),
    ]
    for rank, expected in cases:
        assert_ranking(knn_rows(collection, kind, rank), expected)


def test_ranking_val(kind: Kind, collection: Any) -> None:
    """``Val`` imported as the page does: see test_imports_the_pages_show."""
    Knn, Val = kind.api.Knn, page_import(kind, "Val")
    score1 = Knn(query="machine learning") * 0.5
    score2 = Knn(query="machine learning") * Val(0.5)
    baseline = Val(0.1)
    boost_factor = Val(2.0)
    final_score = (Knn(query="artificial intelligence") + baseline) * boost_factor
    threshold = Val(0.8)
    penalty = Val(0.5)
    adjusted = Knn(query="deep learning").max(threshold) - penalty
    half = combine([dense("machine learning")], lambda a: a * 0.5)
    assert_ranking(knn_rows(collection, kind, score1), half)
    assert_ranking(knn_rows(collection, kind, score2), half)
    expected = combine([dense("artificial intelligence")], lambda a: (a + 0.1) * 2.0)
    assert_ranking(knn_rows(collection, kind, final_score), expected)
    expected = combine([dense("deep learning")], lambda a: max(a, 0.8) - 0.5)
    assert_ranking(knn_rows(collection, kind, adjusted), expected)


def test_ranking_combinations(kind: Kind, collection: Any) -> None:
    Knn, Val = kind.api.Knn, page_import(kind, "Val")
    query = "machine learning applications"
    dense_score = Knn(query=query)
    sparse_score = Knn(query=query, key="sparse_embedding")
    combined = dense_score * 0.8 + sparse_score * 0.2
    general_score = Knn(query="artificial intelligence overview")
    specific_score = Knn(query="neural network architectures")
    multi_query = general_score * 0.4 + specific_score * 0.6
    base_score = Knn(query="quantum computing")
    final_score = base_score * (1 + Val(0.1))
    cases = [
        (combined, combine([dense(query), sparse(query)], lambda a, b: a * 0.8 + b * 0.2)),
        (
            multi_query,
            combine(
                [dense("artificial intelligence overview"), dense("neural network architectures")],
                lambda a, b: a * 0.4 + b * 0.6,
            ),
        ),
        (final_score, combine([dense("quantum computing")], lambda a: a * 1.1)),
    ]
    assert cases[0][1]
    for rank, expected in cases:
        assert_ranking(knn_rows(collection, kind, rank), expected)


def test_ranking_default_order(kind: Kind, collection: Any) -> None:
    Search, K = kind.api.Search, kind.api.K
    search = Search().where(K("status") == "active").limit(10)
    result = collection.search(search.select(K.SCORE))
    active = ARTICLES.passing(where_meta(lambda m: m["status"] == "active"))
    assert ids_of(result) == active[:10]
    assert result["scores"] == [[float(position) for position in range(len(active[:10]))]]
    assert ids_of(collection.search(search)) == active[:10]


def test_ranking_defaults_widen_the_candidates(kind: Kind, collection: Any) -> None:
    Knn = kind.api.Knn
    rank = (
        Knn(query="machine learning", limit=100) * 0.7 + Knn(query="deep learning", limit=100) * 0.3
    )
    both = [dense("machine learning", 100), dense("deep learning", 100)]
    assert_ranking(
        knn_rows(collection, kind, rank, 50), combine(both, lambda a, b: a * 0.7 + b * 0.3)
    )
    rank = (
        Knn(query="machine learning", limit=100, default=10.0) * 0.7
        + Knn(query="deep learning", limit=100, default=10.0) * 0.3
    )
    # Every record is among both Knn's 100 candidates here; the defaults matter with
    # fewer candidates, so the same expression with limit 5 shows them at work.
    assert_ranking(
        knn_rows(collection, kind, rank, 50), combine(both, lambda a, b: a * 0.7 + b * 0.3)
    )
    narrow = (
        Knn(query="machine learning", limit=5, default=10.0) * 0.7
        + Knn(query="deep learning", limit=5, default=10.0) * 0.3
    )
    few = [dense("machine learning", 5, 10.0), dense("deep learning", 5, 10.0)]
    expected = combine(few, lambda a, b: a * 0.7 + b * 0.3)
    assert len(expected) > 5
    assert_ranking(knn_rows(collection, kind, narrow, 50), expected)


def test_ranking_dimension_mismatch(kind: Kind, collection: Any) -> None:
    Search, Knn = kind.api.Search, kind.api.Knn
    with pytest.raises(kind.api.errors.InvalidArgumentError, match="dimension of 384, got 3"):
        collection.search(Search().rank(Knn(query=[0.1, 0.2, 0.3])))
    rows = rows_of(collection.search(Search().rank(Knn(query=[0.1] * 384)).select("#score")))
    assert_ranking(rows, ARTICLES.dense_knn([0.1] * 384))


def test_ranking_return_rank(kind: Kind, collection: Any) -> None:
    Knn = kind.api.Knn
    distances = knn_rows(collection, kind, Knn(query="machine learning"))
    assert_ranking(distances, ARTICLES.dense_knn("machine learning"))
    ranks = knn_rows(collection, kind, Knn(query="machine learning", return_rank=True))
    assert [row["score"] for row in ranks] == [float(i) for i in range(KNN_DEFAULT_LIMIT)]
    assert [row["id"] for row in ranks] == [row["id"] for row in distances]


def test_ranking_limits(kind: Kind, collection: Any) -> None:
    Search, Knn = kind.api.Search, kind.api.Knn
    rank = Knn(query="artificial intelligence", limit=1000)
    search = Search().rank(rank).limit(10)
    result = collection.search(search)
    assert ids_of(result) == best(ARTICLES.dense_knn("artificial intelligence", 1000), 10)


def test_ranking_complete_example(
    kind: Kind, collection: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    Search, K, Knn = kind.api.Search, kind.api.K, kind.api.Knn
    search = (
        Search()
        .where((K("status") == "published") & (K("category").is_in(["tech", "science"])))
        .rank(
            (
                Knn(query="latest AI research developments") * 0.7
                + Knn(query="artificial intelligence breakthroughs") * 0.3
            )
            .exp()
            .min(0.0)
        )
        .limit(20)
        .select(K.DOCUMENT, K.SCORE, "title", "category")
    )
    results = collection.search(search)
    rows = results.rows()[0]
    for i, row in enumerate(rows):
        print(f"{i + 1}. {row['metadata']['title']}")
        print(f"   Score: {row['score']:.3f}")
        print(f"   Category: {row['metadata']['category']}")
        print(f"   Preview: {row['document'][:100]}...")
        print()
    allowed = where_meta(
        lambda m: m["status"] == "published" and m["category"] in ("tech", "science")
    )
    expected = combine(
        [
            (ARTICLES.dense_knn("latest AI research developments", where=allowed), None),
            (ARTICLES.dense_knn("artificial intelligence breakthroughs", where=allowed), None),
        ],
        lambda a, b: min(math.exp(a * 0.7 + b * 0.3), 0.0),
    )
    # exp() is positive, so min(0.0) makes every score 0: all the candidates both Knn
    # ranked tie, in whatever order.
    assert set(expected.values()) == {0.0}
    assert sorted(row["id"] for row in rows) == sorted(expected)
    assert capsys.readouterr().out.count("Score: 0.000") == len(rows) > 0


# ---- hybrid search


def test_hybrid_rrf_formula(kind: Kind, fresh: Callable[..., Any]) -> None:
    """Record A ranks 0 in the first Knn and 2 in the second, B 1 and 0: with k=60 and
    equal weights A scores -(1/60 + 1/62) = -0.0328 and B -(1/61 + 1/60) = -0.0331."""
    Search, K, Knn, Rrf = kind.api.Search, kind.api.K, kind.api.Knn, kind.api.Rrf
    collection = fresh("rrf_formula", embedding_function=None)
    collection.add(
        ids=["A", "B", "C"],
        embeddings=[[1.0, 0.0], [0.9, 0.5], [0.0, 1.0]],
    )
    first = Knn(query=[1.0, 0.0], return_rank=True)  # A, B, C
    second = Knn(query=[0.6, 0.9], return_rank=True)  # B, C, A
    result = collection.search(Search().rank(Rrf([first, second])).select(K.SCORE))
    scores = {row["id"]: row["score"] for row in rows_of(result)}
    assert scores["A"] == pytest.approx(-(1.0 / 60 + 1.0 / 62), rel=1e-5)
    assert scores["B"] == pytest.approx(-(1.0 / 61 + 1.0 / 60), rel=1e-5)
    assert round(scores["A"], 4) == -0.0328 and round(scores["B"], 4) == -0.0331
    # Lower is better: B (-0.0331) comes before A (-0.0328), though the page's comment
    # says A ranks higher.
    assert ids_of(result) == ["B", "A", "C"]


def test_hybrid_rrf_versus_linear(kind: Kind, collection: Any) -> None:
    Knn, Rrf = kind.api.Knn, kind.api.Rrf
    rank = Rrf(
        [
            Knn(query="machine learning", return_rank=True),
            Knn(query="machine learning", key="sparse_embedding", return_rank=True),
        ]
    )
    expected = rrf(
        [
            (as_ranks(ARTICLES.dense_knn("machine learning")), None),
            (as_ranks(ARTICLES.sparse_knn("machine learning")), None),
        ]
    )
    assert expected
    assert_ranking(knn_rows(collection, kind, rank), expected)
    linear = Knn(query="machine learning") * 0.7 + Knn(query="deep learning") * 0.3
    assert_ranking(
        knn_rows(collection, kind, linear),
        combine(
            [dense("machine learning"), dense("deep learning")], lambda a, b: a * 0.7 + b * 0.3
        ),
    )


def test_hybrid_return_rank_requirement(kind: Kind, collection: Any) -> None:
    Knn, Rrf = kind.api.Knn, kind.api.Rrf
    query = "artificial intelligence"
    dense_list, sparse_list = ARTICLES.dense_knn(query), ARTICLES.sparse_knn(query)
    correct = Rrf(
        [
            Knn(query=query, return_rank=True),
            Knn(query=query, key="sparse_embedding", return_rank=True),
        ]
    )
    assert_ranking(
        knn_rows(collection, kind, correct),
        rrf([(as_ranks(dense_list), None), (as_ranks(sparse_list), None)]),
    )
    # Without return_rank the formula reads distances as ranks: it runs, and fuses them.
    incorrect = Rrf([Knn(query=query), Knn(query=query, key="sparse_embedding")])
    assert_ranking(
        knn_rows(collection, kind, incorrect), rrf([(dense_list, None), (sparse_list, None)])
    )


def hybrid_lists(
    query: str, limit: int = KNN_DEFAULT_LIMIT, where: Any = None, default: float | None = None
) -> list[Any]:
    return [
        (as_ranks(ARTICLES.dense_knn(query, limit, where)), default),
        (as_ranks(ARTICLES.sparse_knn(query, limit, where)), default),
    ]


def test_hybrid_weights(kind: Kind, collection: Any) -> None:
    Knn, Rrf = kind.api.Knn, kind.api.Rrf
    query = "neural networks"

    def ranks() -> list[Any]:
        return [
            Knn(query=query, return_rank=True),
            Knn(query=query, key="sparse_embedding", return_rank=True),
        ]

    lists = hybrid_lists(query)
    cases = [
        (Rrf(ranks()), rrf(lists)),
        (Rrf(ranks=ranks(), weights=[3.0, 1.0]), rrf(lists, [3.0, 1.0])),
        (Rrf(ranks=ranks(), weights=[75, 25], normalize=True), rrf(lists, [0.75, 0.25])),
    ]
    for rank, expected in cases:
        assert_ranking(knn_rows(collection, kind, rank), expected)


def test_hybrid_k(kind: Kind, collection: Any) -> None:
    Knn, Rrf = kind.api.Knn, kind.api.Rrf
    query = "renewable energy"
    lists = hybrid_lists(query)
    spreads = []
    for k in (10, 60, 200):
        rank = Rrf(
            ranks=[
                Knn(query=query, return_rank=True),
                Knn(query=query, key="sparse_embedding", return_rank=True),
            ],
            k=k,
        )
        rows = knn_rows(collection, kind, rank)
        assert_ranking(rows, rrf(lists, k=k))
        spreads.append(rows[-1]["score"] / rows[0]["score"])
    # A larger k weighs the ranks more evenly: the last score comes nearer the first.
    assert spreads == sorted(spreads) and spreads[0] < spreads[-1] < 1


def test_hybrid_dense_and_sparse(kind: Kind, collection: Any) -> None:
    Search, K, Knn, Rrf = kind.api.Search, kind.api.K, kind.api.Knn, kind.api.Rrf
    query = "machine learning research"
    dense_rank = Knn(query=query, key="#embedding", return_rank=True, limit=200)
    sparse_rank = Knn(query=query, key="sparse_embedding", return_rank=True, limit=200)
    hybrid_rank = Rrf(ranks=[dense_rank, sparse_rank], weights=[0.7, 0.3], k=60)
    search = (
        Search()
        .where(K("status") == "published")
        .rank(hybrid_rank)
        .limit(20)
        .select(K.DOCUMENT, K.SCORE, "title")
    )
    results = collection.search(search)
    published = where_meta(lambda m: m["status"] == "published")
    expected = rrf(hybrid_lists(query, 200, published), [0.7, 0.3], k=60)
    assert expected
    assert_ranking(rows_of(results), expected, limit=20)
    assert all(
        row["metadata"] == {"title": ARTICLES.record(row["id"])[1]["title"]}
        for row in rows_of(results)
    )


def test_hybrid_components_rank_filtered_records(kind: Kind, collection: Any) -> None:
    Search, K, Knn, Rrf = kind.api.Search, kind.api.K, kind.api.Knn, kind.api.Rrf
    rank = Rrf(
        [
            Knn(query="quantum computing", return_rank=True, limit=100),
            Knn(query="quantum computing", key="sparse_embedding", return_rank=True, limit=100),
        ]
    )
    tech = where_meta(lambda m: m["category"] in ("tech", "science"))
    result = collection.search(
        Search().where(K("category").is_in(["tech", "science"])).rank(rank).select(K.SCORE)
    )
    # Ranks count among the filtered records only.
    assert_ranking(rows_of(result), rrf(hybrid_lists("quantum computing", 100, tech)))


def test_hybrid_document_selection(kind: Kind, collection: Any) -> None:
    Knn, Rrf = kind.api.Knn, kind.api.Rrf
    query = "deep learning"
    without = Rrf(
        [
            Knn(query=query, return_rank=True, limit=100),
            Knn(query=query, key="sparse_embedding", return_rank=True, limit=100),
        ]
    )
    with_default = Rrf(
        [
            Knn(query=query, return_rank=True, limit=100, default=1000),
            Knn(query=query, key="sparse_embedding", return_rank=True, limit=100, default=1000),
        ]
    )
    only_both = rrf(hybrid_lists(query, 100))
    either = rrf(hybrid_lists(query, 100, default=1000))
    assert len(only_both) < len(either) == len(ARTICLES.ids)
    assert_ranking(knn_rows(collection, kind, without, 100), only_both)
    assert_ranking(knn_rows(collection, kind, with_default, 100), either)


def test_hybrid_rrf_is_a_wrapper(kind: Kind, collection: Any) -> None:
    Knn, Rrf = kind.api.Knn, kind.api.Rrf
    rank1 = Knn(query="climate change", return_rank=True)
    rank2 = Knn(query="climate change", key="sparse_embedding", return_rank=True)
    wrapped = Rrf(ranks=[rank1, rank2], weights=[0.7, 0.3], k=60)
    manual_rrf = -0.7 / (60 + rank1) - 0.3 / (60 + rank2)
    expected = rrf(hybrid_lists("climate change"), [0.7, 0.3], k=60)
    assert expected
    assert_ranking(knn_rows(collection, kind, wrapped), expected)
    assert_ranking(knn_rows(collection, kind, manual_rrf), expected)


def test_hybrid_complete_example(
    kind: Kind, collection: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    Search, K, Knn, Rrf = kind.api.Search, kind.api.K, kind.api.Knn, kind.api.Rrf
    query = "machine learning applications"
    hybrid_rank = Rrf(
        ranks=[
            Knn(query=query, return_rank=True, limit=300),
            Knn(query=query, key="sparse_embedding", return_rank=True, limit=300),
        ],
        weights=[2.0, 1.0],
        k=60,
    )
    search = (
        Search()
        .where((K("language") == "en") & (K("year") >= 2020))
        .rank(hybrid_rank)
        .limit(10)
        .select(K.DOCUMENT, K.SCORE, "title", "year")
    )
    results = collection.search(search)
    rows = results.rows()[0]
    for i, row in enumerate(rows, 1):
        print(f"{i}. {row['metadata']['title']} ({row['metadata']['year']})")
        print(f"   RRF Score: {row['score']:.4f}")
        print(f"   Preview: {row['document'][:100]}...")
        print()
    allowed = where_meta(lambda m: m["language"] == "en" and m["year"] >= 2020)
    expected = rrf(hybrid_lists(query, 300, allowed), [2.0, 1.0], k=60)
    assert_ranking(rows, expected, limit=10)
    first = ARTICLES.record(rows[0]["id"])[1]
    assert capsys.readouterr().out.startswith(f"1. {first['title']} ({first['year']})\n")


# ---- group by


def grouped(
    scores: dict[str, float], corpus: Corpus, keys: list[str], order: Callable[[str], Any], k: int
) -> dict[str, float]:
    """GroupBy as the page defines it: records grouped by the values of ``keys`` (a
    missing key is None), the ``k`` first of each group by ``order``; the survivors."""
    groups: dict[tuple[Any, ...], list[str]] = {}
    for record_id in scores:
        metadata = corpus.record(record_id)[1]
        groups.setdefault(tuple(metadata.get(key) for key in keys), []).append(record_id)
    return {
        record_id: scores[record_id]
        for members in groups.values()
        for record_id in sorted(members, key=order)[:k]
    }


def group_rows(collection: Any, search: Any) -> list[dict[str, Any]]:
    return rows_of(collection.search(search))


def test_group_by_how_it_works(kind: Kind, collection: Any) -> None:
    Search, K, Knn = kind.api.Search, kind.api.K, kind.api.Knn
    GroupBy, MinK = page_import(kind, "GroupBy"), page_import(kind, "MinK")
    search = (
        Search()
        .rank(Knn(query="machine learning research"))
        .group_by(GroupBy(keys=K("category"), aggregate=MinK(keys=K.SCORE, k=3)))
        .limit(30)
        .select(K.DOCUMENT, K.SCORE, "category")
    )
    rows = group_rows(collection, search)
    scores = ARTICLES.dense_knn("machine learning research")
    expected = grouped(scores, ARTICLES, ["category"], lambda i: scores[i], 3)
    assert len(expected) < len(scores)
    assert_ranking(rows, expected, limit=30)
    assert all(
        row["metadata"] == {"category": ARTICLES.record(row["id"])[1]["category"]} for row in rows
    )


def test_group_by_classes(kind: Kind, collection: Any) -> None:
    Search, K, Knn = kind.api.Search, kind.api.K, kind.api.Knn
    GroupBy, MinK, MaxK = (
        page_import(kind, "GroupBy"),
        page_import(kind, "MinK"),
        page_import(kind, "MaxK"),
    )
    assert K("#score") == K.SCORE
    query = "learning"
    scores = ARTICLES.dense_knn(query)

    def meta(record_id: str, key: str) -> Any:
        return ARTICLES.record(record_id)[1][key]

    cases = [
        (
            GroupBy(keys=K("category"), aggregate=MinK(keys=K.SCORE, k=3)),
            grouped(scores, ARTICLES, ["category"], lambda i: scores[i], 3),
        ),
        (
            GroupBy(keys=[K("category"), K("year")], aggregate=MinK(keys=K.SCORE, k=1)),
            grouped(scores, ARTICLES, ["category", "year"], lambda i: scores[i], 1),
        ),
        (
            GroupBy(keys=K("category"), aggregate=MinK(keys=[K("priority"), K.SCORE], k=2)),
            grouped(scores, ARTICLES, ["category"], lambda i: (meta(i, "priority"), scores[i]), 2),
        ),
        (
            GroupBy(keys=K("category"), aggregate=MaxK(keys=K("rating"), k=3)),
            grouped(scores, ARTICLES, ["category"], lambda i: -meta(i, "rating"), 3),
        ),
        (
            GroupBy(keys=K("category"), aggregate=MaxK(keys=[K("year"), K("rating")], k=2)),
            grouped(
                scores, ARTICLES, ["category"], lambda i: (-meta(i, "year"), -meta(i, "rating")), 2
            ),
        ),
    ]
    for group_by, expected in cases:
        search = Search().rank(Knn(query=query)).group_by(group_by).limit(30).select(K.SCORE)
        assert_ranking(group_rows(collection, search), expected)


def test_group_by_single_key(kind: Kind, collection: Any) -> None:
    Search, K, Knn = kind.api.Search, kind.api.K, kind.api.Knn
    GroupBy, MinK = page_import(kind, "GroupBy"), page_import(kind, "MinK")
    search = (
        Search()
        .rank(Knn(query="climate change impacts"))
        .group_by(GroupBy(keys=K("category"), aggregate=MinK(keys=K.SCORE, k=2)))
        .limit(20)
    )
    scores = ARTICLES.dense_knn("climate change impacts")
    expected = grouped(scores, ARTICLES, ["category"], lambda i: scores[i], 2)
    assert ids_of(collection.search(search)) == best(expected, 20)


def test_group_by_several_keys(kind: Kind, collection: Any) -> None:
    Search, K, Knn = kind.api.Search, kind.api.K, kind.api.Knn
    GroupBy, MinK = page_import(kind, "GroupBy"), page_import(kind, "MinK")
    search = (
        Search()
        .rank(Knn(query="renewable energy"))
        .group_by(GroupBy(keys=[K("category"), K("year")], aggregate=MinK(keys=K.SCORE, k=1)))
        .limit(30)
    )
    scores = ARTICLES.dense_knn("renewable energy")
    expected = grouped(scores, ARTICLES, ["category", "year"], lambda i: scores[i], 1)
    assert ids_of(collection.search(search)) == best(expected, 30)


def test_group_by_tiebreakers(kind: Kind, collection: Any) -> None:
    Search, K, Knn = kind.api.Search, kind.api.K, kind.api.Knn
    GroupBy, MinK = page_import(kind, "GroupBy"), page_import(kind, "MinK")
    search = (
        Search()
        .rank(Knn(query="artificial intelligence"))
        .group_by(GroupBy(keys=K("category"), aggregate=MinK(keys=[K("priority"), K.SCORE], k=2)))
        .limit(20)
    )
    scores = ARTICLES.dense_knn("artificial intelligence")
    expected = grouped(
        scores, ARTICLES, ["category"], lambda i: (ARTICLES.record(i)[1]["priority"], scores[i]), 2
    )
    assert ids_of(collection.search(search)) == best(expected, 20)


def test_group_by_small_groups(kind: Kind, collection: Any) -> None:
    Search, K, Knn = kind.api.Search, kind.api.K, kind.api.Knn
    GroupBy, MinK = page_import(kind, "GroupBy"), page_import(kind, "MinK")
    search = (
        Search()
        .rank(Knn(query="search query"))
        .group_by(GroupBy(keys=K("category"), aggregate=MinK(keys=K.SCORE, k=5)))
        .limit(50)
    )
    scores = ARTICLES.dense_knn("search query")
    expected = grouped(scores, ARTICLES, ["category"], lambda i: scores[i], 5)
    # Every category holds 4 articles, fewer than 5: each group keeps all its candidates.
    assert expected == scores
    assert ids_of(collection.search(search)) == best(expected, 50)


def test_group_by_complete_example(
    kind: Kind, products: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    Search, K, Knn = kind.api.Search, kind.api.K, kind.api.Knn
    GroupBy, MinK = page_import(kind, "GroupBy"), page_import(kind, "MinK")
    search = (
        Search()
        .where(K("in_stock") == True)  # noqa: E712 (as the page writes it)
        .rank(Knn(query="wireless headphones", limit=100))
        .group_by(GroupBy(keys=K("category"), aggregate=MinK(keys=K.SCORE, k=2)))
        .limit(20)
        .select(K.DOCUMENT, K.SCORE, "name", "category", "price")
    )
    results = products.search(search)
    rows = results.rows()[0]
    for row in rows:
        print(f"{row['metadata']['name']}")
        print(f"  Category: {row['metadata']['category']}")
        print(f"  Price: ${row['metadata']['price']:.2f}")
        print(f"  Score: {row['score']:.3f}")
        print()
    scores = PRODUCTS.dense_knn("wireless headphones", 100, where_meta(lambda m: m["in_stock"]))
    expected = grouped(scores, PRODUCTS, ["category"], lambda i: scores[i], 2)
    assert len(expected) == 6
    assert_ranking(rows, expected, limit=20)
    first = PRODUCTS.record(rows[0]["id"])[1]
    assert capsys.readouterr().out.startswith(
        f"{first['name']}\n  Category: {first['category']}\n  Price: ${first['price']:.2f}\n"
    )


# ---- pagination and selection


def test_pagination_limit(kind: Kind, collection: Any) -> None:
    Search = kind.api.Search
    assert ids_of(collection.search(Search().limit(10))) == ARTICLES.ids[:10]
    assert ids_of(collection.search(Search().limit(10, offset=20))) == ARTICLES.ids[20:30]
    assert ids_of(collection.search(Search())) == ARTICLES.ids


def test_pagination_pages(kind: Kind, collection: Any) -> None:
    Search = kind.api.Search
    page_size = 10
    page_0 = Search().limit(page_size, offset=0)
    page_1 = Search().limit(page_size, offset=10)
    page_2 = Search().limit(page_size, offset=20)

    def get_page(page_number: int, page_size: int = 10) -> Any:
        return Search().limit(page_size, offset=page_number * page_size)

    pages = collection.search([page_0, page_1, page_2, get_page(1), get_page(3, 7)])
    assert pages["ids"] == [
        ARTICLES.ids[0:10],
        ARTICLES.ids[10:20],
        ARTICLES.ids[20:30],
        ARTICLES.ids[10:20],
        ARTICLES.ids[21:28],
    ]


def test_selection_fields(kind: Kind, collection: Any) -> None:
    Search, K = kind.api.Search, kind.api.K
    first = Search().limit(3)
    results = collection.search(
        [
            Search(),
            first.select(K.DOCUMENT, K.SCORE),
            first.select("title", "author", "date"),
            first.select(K.DOCUMENT, K.SCORE, "title", "author"),
            first.select_all(),
        ]
    )
    head = ARTICLES.ids[:3]
    metadatas = [ARTICLES.record(i)[1] for i in head]
    documents = [ARTICLES.record(i)[0] for i in head]
    assert results["ids"] == [ARTICLES.ids, head, head, head, head]
    assert results["documents"] == [None, documents, None, documents, documents]
    pick = [{k: m[k] for k in ("title", "author", "date")} for m in metadatas]
    assert results["metadatas"][2] == pick
    assert results["metadatas"][3] == [{k: m[k] for k in ("title", "author")} for m in metadatas]
    assert without_sparse_all(results["metadatas"][4], documents) == metadatas
    stored = collection.get(ids=head, include=["embeddings"])["embeddings"]
    assert np.allclose(np.array(results["embeddings"][4]), np.array(stored))
    # Without a rank the score is the position.
    assert results["scores"][1] == results["scores"][4] == [0.0, 1.0, 2.0]


def test_selection_by_cost(kind: Kind, collection: Any) -> None:
    Search, K = kind.api.Search, kind.api.K
    results = collection.search(
        [
            Search().limit(100),
            Search().limit(100).select(K.SCORE, "title", "date"),
            Search().limit(100).select(K.DOCUMENT, K.EMBEDDING),
            Search().limit(100).select_all(),
        ]
    )
    assert results["ids"] == [ARTICLES.ids] * 4
    assert results["metadatas"][1] == [
        {"title": m["title"], "date": m["date"]} for m in ARTICLES.metadatas
    ]
    assert results["documents"][2] == results["documents"][3] == ARTICLES.documents
    assert results["metadatas"][2] is None
    assert without_sparse_all(results["metadatas"][3], ARTICLES.documents) == ARTICLES.metadatas
    assert len(results["embeddings"][2][0]) == 384


def test_pagination_no_limit(kind: Kind, collection: Any) -> None:
    Search, K = kind.api.Search, kind.api.K
    search = Search().where(K("status") == "active")
    assert ids_of(collection.search(search)) == ARTICLES.passing(
        where_meta(lambda m: m["status"] == "active")
    )


def test_selection_missing_fields(kind: Kind, collection: Any) -> None:
    Search = kind.api.Search
    search = Search().select("title", "non_existent_field")
    metadatas = collection.search(search)["metadatas"][0]
    assert metadatas == [{"title": m["title"]} for m in ARTICLES.metadatas]


def test_pagination_complete_example(
    kind: Kind,
    collection: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The example asks at each page whether to go on; the test answers Enter each time,
    so the loop ends when a page comes back empty."""
    Search, K, Knn = kind.api.Search, kind.api.K, kind.api.Knn
    answers: list[str] = []
    monkeypatch.setattr(builtins, "input", lambda prompt: answers.append(prompt) or "")

    def search_with_pagination(collection: Any, query_text: str, page_size: int = 20) -> None:
        current_page = 0
        while True:
            search = (
                Search()
                .where(K("status") == "published")
                .rank(Knn(query=query_text))
                .limit(page_size, offset=current_page * page_size)
                .select(K.DOCUMENT, K.SCORE, "title", "author", "date")
            )
            results = collection.search(search)
            rows = results.rows()[0]
            if not rows:
                break
            print(f"\n--- Page {current_page + 1} ---")
            for i, row in enumerate(rows, 1):
                print(f"{i}. {row['metadata']['title']} by {row['metadata']['author']}")
                print(f"   Score: {row['score']:.3f}, Date: {row['metadata']['date']}")
                print(f"   Preview: {row['document'][:100]}...")
            user_input = input("\nPress Enter for next page, or 'q' to quit: ")
            if user_input.lower() == "q":
                break
            current_page += 1

    search_with_pagination(collection, "energy and climate", page_size=3)
    expected = best(
        ARTICLES.dense_knn(
            "energy and climate", where=where_meta(lambda m: m["status"] == "published")
        )
    )
    pages = math.ceil(len(expected) / 3)
    assert len(answers) == pages > 1
    printed = capsys.readouterr().out
    titles = re.findall(r"^\d+\. (.*) by ", printed, flags=re.M)
    assert titles == [ARTICLES.record(i)[1]["title"] for i in expected]


# ---- batch operations


def test_batch_several_searches(kind: Kind, collection: Any) -> None:
    Search, K, Knn = kind.api.Search, kind.api.K, kind.api.Knn
    searches = [
        (
            Search()
            .where((K("type") == "article") & (K("year") >= 2024))
            .rank(Knn(query="machine learning applications"))
            .limit(5)
            .select(K.DOCUMENT, K.SCORE, "title")
        ),
        (
            Search()
            .where(K("author").is_in(["Smith", "Jones"]))
            .rank(Knn(query="neural network research"))
            .limit(10)
            .select(K.DOCUMENT, K.SCORE, "title", "author")
        ),
        Search().where(K("status") == "featured").limit(20).select("title", "date"),
    ]
    results = collection.search(searches)
    recent = where_meta(lambda m: m["type"] == "article" and m["year"] >= 2024)
    assert_ranking(
        rows_of(results, 0),
        ARTICLES.dense_knn("machine learning applications", where=recent),
        limit=5,
    )
    by_authors = where_meta(lambda m: m["author"] in ("Smith", "Jones"))
    assert_ranking(
        rows_of(results, 1),
        ARTICLES.dense_knn("neural network research", where=by_authors),
        limit=10,
    )
    featured = ARTICLES.passing(where_meta(lambda m: m["status"] == "featured"))
    assert ids_of(results, 2) == featured[:20]
    assert results["metadatas"][2] == [
        {"title": ARTICLES.record(i)[1]["title"], "date": ARTICLES.record(i)[1]["date"]}
        for i in featured[:20]
    ]


def three_searches(kind: Kind) -> list[Any]:
    Search, K, Knn = kind.api.Search, kind.api.K, kind.api.Knn
    return [
        Search().rank(Knn(query="ocean")).limit(3).select("title"),
        Search().where(K("year") == 2020).select("title"),
        Search().limit(2),
    ]


def test_batch_result_structure(
    kind: Kind, collection: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    search1, search2, search3 = three_searches(kind)
    results = collection.search([search1, search2, search3])
    if kind.is_azurite:
        ids_1 = results.ids[0]
        ids_2 = results.ids[1]
        ids_3 = results.ids[2]
    else:  # chromadb 1.5.9's SearchResult has no attributes: test_batch_attribute_access
        ids_1 = results["ids"][0]
        ids_2 = results["ids"][1]
        ids_3 = results["ids"][2]
    all_rows = results.rows()
    rows_1 = all_rows[0]
    rows_2 = all_rows[1]
    rows_3 = all_rows[2]
    for search_index, rows in enumerate(all_rows):
        print(f"Results from search {search_index + 1}:")
        for row in rows:
            print(f"  - {row['id']}: {row.get('metadata', {}).get('title', 'N/A')}")
    assert ids_1 == best(ARTICLES.dense_knn("ocean"), 3)
    assert ids_2 == ARTICLES.passing(where_meta(lambda m: m["year"] == 2020))
    assert ids_3 == ARTICLES.ids[:2]
    assert [row["id"] for row in rows_1 + rows_2 + rows_3] == ids_1 + ids_2 + ids_3
    printed = capsys.readouterr().out.splitlines()
    assert printed[len(ids_1) + 2] == f"  - {ids_2[0]}: {ARTICLES.record(ids_2[0])[1]['title']}"
    assert printed[-1] == f"  - {ids_3[-1]}: N/A"


def test_batch_attribute_access(azurite_kind: Kind, azurite_collection: Any) -> None:
    """The page reads ``results.ids[0]`` and ``results.scores[i]``: Azurite's
    ``SearchResult`` gives its columns as attributes too, chromadb 1.5.9's is a dict whose
    columns are keys only (AttributeError), so chromadb's client reads
    ``results["ids"]`` in the tests above."""
    results = azurite_collection.search(three_searches(azurite_kind))
    for column in ("ids", "documents", "embeddings", "metadatas", "scores", "select"):
        assert getattr(results, column) is results[column]
    with pytest.raises(AttributeError, match="'SearchResult' object has no attribute 'idz'"):
        results.idz  # noqa: B018
    reference = chromadb.api.types.SearchResult(dict(results))
    for column in ("ids", "scores", "documents"):
        with pytest.raises(AttributeError):
            getattr(reference, column)


def test_batch_query_variations(
    kind: Kind, collection: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    Search, K, Knn = kind.api.Search, kind.api.K, kind.api.Knn
    query_variations = [
        "machine learning",
        "machine learning algorithms and applications",
        "modern machine learning techniques",
    ]
    searches = [
        Search().rank(Knn(query=q)).limit(10).select(K.DOCUMENT, K.SCORE, "title")
        for q in query_variations
    ]
    results = collection.search(searches)
    for i, query_name in enumerate(["Original", "Expanded", "Refined"]):
        print(f"{query_name} Query Top Result:")
        if kind.is_azurite:
            if results.scores[i]:
                print(f"  Score: {results.scores[i][0]:.3f}")
        elif results["scores"][i]:  # chromadb's dict: see test_batch_attribute_access
            print(f"  Score: {results['scores'][i][0]:.3f}")
    for position, query in enumerate(query_variations):
        assert_ranking(rows_of(results, position), ARTICLES.dense_knn(query), limit=10)
    printed = capsys.readouterr().out.splitlines()
    assert printed[1] == f"  Score: {results['scores'][0][0]:.3f}" and len(printed) == 6


def test_batch_ranking_strategies(kind: Kind, collection: Any) -> None:
    Search, K, Knn, Rrf = kind.api.Search, kind.api.K, kind.api.Knn, kind.api.Rrf
    query = "artificial intelligence"
    searches = [
        Search().rank(Knn(query=query)).limit(10).select(K.SCORE, "title"),
        Search().rank(Knn(query=query) * 0.8 + 0.2).limit(10).select(K.SCORE, "title"),
        Search()
        .rank(
            Rrf(
                [
                    Knn(query=query, return_rank=True),
                    Knn(query=query, key="sparse_embedding", return_rank=True),
                ]
            )
        )
        .limit(10)
        .select(K.SCORE, "title"),
    ]
    results = collection.search(searches)
    distances = ARTICLES.dense_knn(query)
    assert_ranking(rows_of(results, 0), distances, limit=10)
    assert_ranking(
        rows_of(results, 1), combine([(distances, None)], lambda a: a * 0.8 + 0.2), limit=10
    )
    assert_ranking(rows_of(results, 2), rrf(hybrid_lists(query)), limit=10)


def test_batch_filters(kind: Kind, collection: Any) -> None:
    Search, K, Knn = kind.api.Search, kind.api.K, kind.api.Knn
    categories = ["technology", "science", "business"]
    searches = [
        Search()
        .where(K("category") == category)
        .rank(Knn(query="artificial intelligence"))
        .limit(5)
        .select("title", "category", K.SCORE)
        for category in categories
    ]
    results = collection.search(searches)
    for position, category in enumerate(categories):
        expected = ARTICLES.dense_knn(
            "artificial intelligence", where=where_meta(lambda m, c=category: m["category"] == c)
        )
        assert_ranking(rows_of(results, position), expected, limit=5)
        assert {row["metadata"]["category"] for row in rows_of(results, position)} == {category}


def test_batch_equals_sequential(kind: Kind, collection: Any) -> None:
    searches = three_searches(kind)
    results = []
    for search in searches:
        result = collection.search(search)
        results.append(result)
    batch = collection.search(searches)
    assert batch["ids"] == [result["ids"][0] for result in results]
    assert batch["metadatas"] == [result["metadatas"][0] for result in results]


def test_batch_mixed_selection(kind: Kind, collection: Any) -> None:
    Search, K = kind.api.Search, kind.api.K
    searches = [
        Search().limit(5).select(K.DOCUMENT),
        Search().limit(5).select(K.SCORE, "title"),
        Search().limit(5).select_all(),
    ]
    results = collection.search(searches)
    assert results["documents"][0] == ARTICLES.documents[:5]
    assert results["documents"][1] is None
    assert results["documents"][2] == ARTICLES.documents[:5]


def test_batch_complete_example(
    kind: Kind, collection: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    Search, K, Knn = kind.api.Search, kind.api.K, kind.api.Knn

    def compare_category_relevance(collection: Any, query_text: str, categories: list[str]) -> None:
        searches = [
            Search()
            .where(K("category") == cat)
            .rank(Knn(query=query_text))
            .limit(3)
            .select(K.DOCUMENT, K.SCORE, "title", "category")
            for cat in categories
        ]
        results = collection.search(searches)
        all_rows = results.rows()
        for cat_index, category in enumerate(categories):
            print(f"\nTop results in {category}:")
            rows = all_rows[cat_index]
            if not rows:
                print("  No results found")
                continue
            for i, row in enumerate(rows, 1):
                title = row.get("metadata", {}).get("title", "Untitled")
                score = row.get("score", 0)
                preview = row.get("document", "")[:100]
                print(f"  {i}. {title}")
                print(f"     Score: {score:.3f}")
                print(f"     Preview: {preview}...")

    categories = ["technology", "science", "business", "health"]
    query_text = "artificial intelligence applications"
    compare_category_relevance(collection, query_text, categories)
    printed = capsys.readouterr().out
    sections = printed.split("\nTop results in ")[1:]
    assert [section.split(":")[0] for section in sections] == categories
    for category, section in zip(categories, sections):
        expected = best(
            ARTICLES.dense_knn(
                query_text, where=where_meta(lambda m, c=category: m["category"] == c)
            ),
            3,
        )
        titles = re.findall(r"^  \d+\. (.*)$", section, flags=re.M)
        assert titles == [ARTICLES.record(i)[1]["title"] for i in expected]
    assert sections[-1].splitlines()[1] == "  No results found"  # no "health" article


# ---- examples


def test_example_product_search(kind: Kind, products: Any) -> None:
    """``And`` imported as the page does: see test_imports_the_pages_show."""
    Search, K, Knn, And = kind.api.Search, kind.api.K, kind.api.Knn, page_import(kind, "And")

    def search_products(
        collection: Any,
        user_query: str,
        min_price: float | None = None,
        max_price: float | None = None,
        category: str | None = None,
        in_stock_only: bool = True,
        page: int = 0,
        page_size: int = 20,
    ) -> list[dict[str, Any]]:
        combined_filter = And([])
        if in_stock_only:
            combined_filter &= K("in_stock") == True  # noqa: E712 (as the page writes it)
        if category:
            combined_filter &= K("category") == category
        if min_price is not None:
            combined_filter &= K("price") >= min_price
        if max_price is not None:
            combined_filter &= K("price") <= max_price
        search = Search().where(combined_filter)
        search = (
            search.rank(Knn(query=user_query))
            .limit(page_size, offset=page * page_size)
            .select(K.DOCUMENT, K.SCORE, "name", "price", "category", "rating", "image_url")
        )
        results = collection.search(search)
        rows = results.rows()[0]
        products = []
        for row in rows:
            products.append(
                {
                    "id": row["id"],
                    "name": row["metadata"]["name"],
                    "description": row["document"][:200] + "...",
                    "price": row["metadata"]["price"],
                    "category": row["metadata"]["category"],
                    "rating": row["metadata"]["rating"],
                    "image_url": row["metadata"]["image_url"],
                    "relevance_score": row["score"],
                }
            )
        return products

    found = search_products(
        products,
        user_query="noise cancelling headphones for travel",
        min_price=50,
        max_price=300,
        category="electronics",
        page=0,
        page_size=20,
    )
    allowed = where_meta(
        lambda m: m["in_stock"] and m["category"] == "electronics" and 50 <= m["price"] <= 300
    )
    expected = PRODUCTS.dense_knn("noise cancelling headphones for travel", where=allowed)
    assert [p["id"] for p in found] == best(expected, 20)
    assert len(found) == 3
    for product in found:
        document, metadata = PRODUCTS.record(product["id"])
        assert product["description"] == document[:200] + "..."
        assert (product["name"], product["price"], product["image_url"]) == (
            metadata["name"],
            metadata["price"],
            metadata["image_url"],
        )
        assert product["relevance_score"] == pytest.approx(expected[product["id"]], rel=1e-4)
    everything = search_products(products, "headphones", in_stock_only=False, page=1, page_size=4)
    assert [p["id"] for p in everything] == best(PRODUCTS.dense_knn("headphones"), 4, offset=4)


def test_example_recommendations(kind: Kind, collection: Any) -> None:
    Search, K, Knn, Rrf = kind.api.Search, kind.api.K, kind.api.Knn, kind.api.Rrf

    def get_recommendations(
        collection: Any,
        user_id: str,
        user_preferences: dict[str, Any],
        seen_content_ids: list[str],
        num_recommendations: int = 10,
    ) -> list[dict[str, Any]]:
        combined_filter = K.ID.not_in(seen_content_ids)
        if user_preferences.get("categories"):
            combined_filter &= K("category").is_in(user_preferences["categories"])
        if user_preferences.get("language"):
            combined_filter &= K("language") == user_preferences["language"]
        min_rating = user_preferences.get("min_rating", 3.5)
        combined_filter &= K("rating") >= min_rating
        combined_filter &= K("status") == "published"
        user_interest_query = " ".join(user_preferences.get("interests", ["general"]))
        favorite_topics_query = " ".join(user_preferences.get("favorite_topics", []))
        hybrid_rank = Rrf(
            ranks=[
                Knn(query=user_interest_query, return_rank=True, limit=200),
                Knn(query=favorite_topics_query, return_rank=True, limit=200),
            ],
            weights=[0.6, 0.4],
            k=60,
        )
        search = (
            Search()
            .where(combined_filter)
            .rank(hybrid_rank)
            .limit(num_recommendations)
            .select(
                K.DOCUMENT,
                K.SCORE,
                "title",
                "category",
                "author",
                "rating",
                "published_date",
                "thumbnail_url",
            )
        )
        results = collection.search(search)
        rows = results.rows()[0]
        recommendations = []
        for row in rows:
            recommendations.append(
                {
                    "id": row["id"],
                    "title": row["metadata"]["title"],
                    "description": row["document"][:150] + "...",
                    "category": row["metadata"]["category"],
                    "author": row["metadata"]["author"],
                    "rating": row["metadata"]["rating"],
                    "published_date": row["metadata"]["published_date"],
                    "thumbnail_url": row["metadata"]["thumbnail_url"],
                    "relevance_score": row["score"],
                }
            )
        return recommendations

    user_preferences = {
        "interests": ["machine learning", "artificial intelligence", "data science"],
        "favorite_topics": ["neural networks", "deep learning", "transformers"],
        "categories": ["technology", "science", "research", "tech"],
        "language": "en",
        "min_rating": 3.5,
    }
    seen_content = ["doc_001", "doc_005", "doc_023"]
    recommendations = get_recommendations(
        collection,
        user_id="user_42",
        user_preferences=user_preferences,
        seen_content_ids=seen_content,
        num_recommendations=10,
    )

    def allowed(i: str, d: str, m: dict[str, Any]) -> bool:
        return (
            i not in seen_content
            and m["category"] in user_preferences["categories"]
            and m["language"] == "en"
            and m["rating"] >= 3.5
            and m["status"] == "published"
        )

    interests = "machine learning artificial intelligence data science"
    topics = "neural networks deep learning transformers"
    expected = rrf(
        [
            (as_ranks(ARTICLES.dense_knn(interests, 200, allowed)), None),
            (as_ranks(ARTICLES.dense_knn(topics, 200, allowed)), None),
        ],
        [0.6, 0.4],
        k=60,
    )
    assert 2 < len(expected) <= 10
    assert_ranking(
        [{"id": r["id"], "score": r["relevance_score"]} for r in recommendations],
        expected,
        limit=10,
    )
    for recommendation in recommendations:
        metadata = ARTICLES.record(recommendation["id"])[1]
        assert recommendation["thumbnail_url"] == metadata["thumbnail_url"]
        assert recommendation["published_date"] == metadata["published_date"]


def test_example_multi_category(kind: Kind, collection: Any) -> None:
    Search, K, Knn = kind.api.Search, kind.api.K, kind.api.Knn

    def search_across_categories(
        collection: Any, user_query: str, categories: list[str], results_per_category: int = 5
    ) -> dict[str, list[dict[str, Any]]]:
        searches = []
        for category in categories:
            search = (
                Search()
                .where(K("category") == category)
                .rank(Knn(query=user_query))
                .limit(results_per_category)
                .select(K.DOCUMENT, K.SCORE, "title", "category", "date")
            )
            searches.append(search)
        results = collection.search(searches)
        category_results = {}
        for i, category in enumerate(categories):
            rows = results.rows()[i]
            category_results[category] = [
                {
                    "id": row["id"],
                    "title": row["metadata"]["title"],
                    "description": row["document"][:100] + "...",
                    "date": row["metadata"]["date"],
                    "score": row["score"],
                }
                for row in rows
            ]
        return category_results

    query = "latest developments in renewable energy"
    categories = ["technology", "science", "news", "research"]
    results_by_category = search_across_categories(
        collection, user_query=query, categories=categories, results_per_category=3
    )
    assert list(results_by_category) == categories
    assert results_by_category["news"] == []
    for category in ("technology", "science", "research"):
        expected = ARTICLES.dense_knn(
            query, where=where_meta(lambda m, c=category: m["category"] == c)
        )
        assert_ranking(results_by_category[category], expected, limit=3)


# ---- migration


def page_knn(kind: Kind, text: str) -> Any:
    """The migration page's ``rank={"$knn": {"query": "<text>"}}``; chromadb's own client
    gets ``Knn(query="<text>")``, the same request, since chromadb 1.5.9 refuses a text
    query in the dict form."""
    if kind.is_azurite:
        return {"$knn": {"query": text}}
    return kind.api.Knn(query=text)


def test_migration_text_knn_dict(azurite_kind: Kind, azurite_collection: Any) -> None:
    """A text query in the dict form of ``$knn`` is embedded as ``Knn(query=...)``'s is;
    chromadb 1.5.9's ``Search`` refuses it (TypeError)."""
    by_dict = azurite_collection.search(
        azurite_kind.api.Search(rank={"$knn": {"query": "machine learning"}}, limit=10)
    )
    by_knn = azurite_collection.search(
        azurite_kind.api.Search(rank=azurite_kind.api.Knn(query="machine learning"), limit=10)
    )
    assert by_dict == by_knn
    assert by_dict["ids"] == [best(ARTICLES.dense_knn("machine learning"), 10)]
    refusal = chromadb_refusal(
        lambda api: api.Search(rank={"$knn": {"query": "machine learning"}}, limit=10)
    )
    assert isinstance(refusal, TypeError)


def test_migration_similarity(kind: Kind, collection: Any) -> None:
    Search = kind.api.Search
    vector = minilm(["machine learning"])[0].tolist()
    legacy = collection.query(query_embeddings=[vector], n_results=10)
    results = collection.search(Search(rank=page_knn(kind, "machine learning"), limit=10))
    assert results["ids"] == legacy["ids"] == [best(ARTICLES.dense_knn("machine learning"), 10)]


def test_migration_document_filter(kind: Kind, collection: Any) -> None:
    Search = kind.api.Search
    vector = minilm(["quantum computing"])[0].tolist()
    legacy = collection.query(
        query_embeddings=[vector], n_results=5, where_document={"$contains": "quantum"}
    )
    results = collection.search(
        Search(
            rank=page_knn(kind, "quantum computing"),
            where={"#document": {"$contains": "quantum"}},
            limit=5,
        )
    )
    expected = best(
        ARTICLES.dense_knn("quantum computing", where=lambda i, d, m: "quantum" in d), 5
    )
    assert results["ids"] == legacy["ids"] == [expected]
    assert expected == ["doc_004"]  # "Quantum" with a capital does not contain "quantum"


def test_migration_combined_filters(kind: Kind, collection: Any) -> None:
    Search = kind.api.Search
    vector = minilm(["quantum physics"])[0].tolist()
    legacy = collection.query(
        query_embeddings=[vector],
        n_results=10,
        where={"category": "technology"},
        where_document={"$contains": "quantum"},
    )
    results = collection.search(
        Search(
            where={"$and": [{"category": "technology"}, {"#document": {"$contains": "quantum"}}]},
            rank=page_knn(kind, "quantum physics"),
            limit=10,
        )
    )
    expected = best(
        ARTICLES.dense_knn(
            "quantum physics",
            where=lambda i, d, m: m["category"] == "technology" and "quantum" in d,
        ),
        10,
    )
    assert results["ids"] == legacy["ids"] == [expected]
    assert expected


def test_migration_get_by_ids(kind: Kind, collection: Any) -> None:
    Search = kind.api.Search
    legacy = collection.get(ids=["doc_001", "doc_002", "doc_003"])
    results = collection.search(Search(where={"#id": {"$in": ["doc_001", "doc_002", "doc_003"]}}))
    assert results["ids"] == [legacy["ids"]] == [["doc_001", "doc_002", "doc_003"]]


def test_migration_pagination(kind: Kind, collection: Any) -> None:
    Search = kind.api.Search
    legacy = collection.get(where={"status": "published"}, limit=4, offset=2)
    results = collection.search(
        Search(where={"status": "published"}, limit={"limit": 4, "offset": 2})
    )
    published = ARTICLES.passing(where_meta(lambda m: m["status"] == "published"))
    assert results["ids"] == [legacy["ids"]] == [published[2:6]]
    # The page's own numbers (100 from offset 50) go past our records: nothing is left.
    beyond = collection.search(
        Search(where={"status": "active"}, limit={"limit": 100, "offset": 50})
    )
    assert beyond["ids"] == [[]]


def test_migration_text_queries(kind: Kind, collection: Any) -> None:
    Search = kind.api.Search
    legacy = collection.query(query_texts=["search text"])
    results = collection.search(Search(rank=page_knn(kind, "search text")))
    # query() returns 10 by default, a Knn ranks 16 and a Search without limit keeps them.
    expected = best(ARTICLES.dense_knn("search text"))
    assert legacy["ids"] == [expected[:10]]
    assert results["ids"] == [expected]


def test_migration_batch(kind: Kind, collection: Any) -> None:
    Search = kind.api.Search
    emb1, emb2, emb3 = minilm(
        ["machine learning", "neural networks", "artificial intelligence"]
    ).tolist()
    legacy = collection.query(
        query_embeddings=[emb1, emb2, emb3], n_results=10, where={"category": "science"}
    )
    searches = [
        Search(rank=page_knn(kind, "machine learning"), limit=10, where={"category": "science"}),
        Search(rank=page_knn(kind, "neural networks"), limit=5, where={"category": "tech"}),
        Search(rank=page_knn(kind, "artificial intelligence"), limit=20),
    ]
    results = collection.search(searches)
    in_science = where_meta(science)
    assert (
        results["ids"][0]
        == legacy["ids"][0]
        == best(ARTICLES.dense_knn("machine learning", where=in_science), 10)
    )
    tech = where_meta(lambda m: m["category"] == "tech")
    assert results["ids"][1] == best(ARTICLES.dense_knn("neural networks", where=tech), 5)
    assert results["ids"][2] == best(ARTICLES.dense_knn("artificial intelligence"), 20)
    assert legacy["ids"][1] == best(ARTICLES.dense_knn("neural networks", where=in_science), 10)


# ---- reference


def test_reference_search_result_columns(
    kind: Kind, collection: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    Search, K, Knn = kind.api.Search, kind.api.K, kind.api.Knn
    search_1 = Search().where(K("year") == 2020).select(K.DOCUMENT, "title")
    search_2 = Search().rank(Knn(query="ocean")).limit(2).select(K.DOCUMENT, "title")
    results = collection.search([search_1, search_2])
    payloads = zip(results["ids"], results["documents"], results["metadatas"])
    for payload in payloads:
        ids, docs, metas = payload
        for id, doc, meta in zip(ids, docs, metas):
            print(id, doc, meta)
    expected_ids = ARTICLES.passing(where_meta(lambda m: m["year"] == 2020)) + best(
        ARTICLES.dense_knn("ocean"), 2
    )
    assert capsys.readouterr().out.splitlines() == [
        f"{i} {ARTICLES.record(i)[0]} {{'title': {ARTICLES.record(i)[1]['title']!r}}}"
        for i in expected_ids
    ]
