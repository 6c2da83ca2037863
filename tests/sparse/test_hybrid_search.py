"""Sparse and hybrid search end to end, on every client kind: a collection whose schema
fills a BM25 key from its documents, searched with a sparse ``Knn`` (IDF applied at query
time over the collection), filtered, fused with a dense ``Knn`` by ``Rrf``, and read again
after writes and a reopen.

Every expectation is computed independently of Azurite: the documents' and the query's
BM25 vectors by chromadb 1.5.9's own ``ChromaBm25EmbeddingFunction``, the IDF and the dot
products with numpy from the formula Chroma Cloud applies, the dense distances with numpy,
and the fused ranking from the two lists and Rrf's formula.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from chromadb.utils.embedding_functions import (
    ChromaBm25EmbeddingFunction as ChromadbBm25,
)

import azurite
from azurite import K, Knn, Rrf, Schema, Search, SparseVectorIndexConfig
from azurite.embedding_functions import ChromaBm25EmbeddingFunction

CHROMA_DOCS = Path(__file__).resolve().parents[3] / "shared" / "seed" / "chroma-docs.md"
SPARSE_KEY = "bm25"
DIMENSION = 16
QUERIES = ("embedding functions for documents", "persistent client path", "filter metadata")


def paragraphs(count: int) -> list[str]:
    """Prose paragraphs of Chroma's documentation (code blocks left out), in order."""
    text = re.sub(r"```.*?```", "", CHROMA_DOCS.read_text(encoding="utf-8"), flags=re.S)
    found = [p.strip() for p in text.split("\n\n") if len(p.split()) >= 8]
    return found[:count]


DOCUMENTS = paragraphs(300)
IDS = [f"d{i:03d}" for i in range(len(DOCUMENTS))]
VECTORS = np.random.default_rng(7).normal(size=(len(DOCUMENTS), DIMENSION)).astype(np.float32)
GROUPS = ["even" if i % 2 == 0 else "odd" for i in range(len(DOCUMENTS))]


def bm25_schema() -> Schema:
    config = SparseVectorIndexConfig(
        source_key=K.DOCUMENT, embedding_function=ChromaBm25EmbeddingFunction(), bm25=True
    )
    return Schema().create_index(config=config, key=SPARSE_KEY)


def expected_bm25(
    query: str, live: dict[str, str], allowed: set[str] | None, limit: int
) -> list[tuple[str, float]]:
    """The `limit` best of `allowed` (of the `live` documents) for `query`: IDF-weighted
    dot products of chromadb's BM25 vectors, as (id, 1 - score), best first, ties by
    insertion order; only documents sharing a term with the query."""
    function = ChromadbBm25()
    ids = list(live)
    vectors = function(list(live.values()))
    holding: dict[int, int] = {}
    for vector in vectors:
        for index in vector.indices:
            holding[index] = holding.get(index, 0) + 1
    total = len(ids)
    query_vector = function.embed_query([query])[0]
    weights = {
        index: value
        * math.log(1 + (total - holding.get(index, 0) + 0.5) / (holding.get(index, 0) + 0.5))
        for index, value in zip(query_vector.indices, query_vector.values)
    }
    scored = []
    for position, (record_id, vector) in enumerate(zip(ids, vectors)):
        if allowed is not None and record_id not in allowed:
            continue
        shared = [v * weights[i] for i, v in zip(vector.indices, vector.values) if i in weights]
        if shared:
            scored.append((-sum(shared), position, record_id))
    scored.sort()
    return [(record_id, 1.0 + score) for score, _, record_id in scored[:limit]]


def expected_dense(query: np.ndarray, limit: int) -> list[str]:
    distances = ((VECTORS - query) ** 2).sum(axis=1)
    return [IDS[i] for i in np.lexsort((np.arange(len(IDS)), distances))[:limit]]


def new_collection(client: azurite.ClientAPI) -> Any:
    collection = client.create_collection("hybrid", schema=bm25_schema(), embedding_function=None)
    collection.add(
        ids=IDS,
        embeddings=VECTORS.tolist(),
        documents=DOCUMENTS,
        metadatas=[{"group": group} for group in GROUPS],
    )
    return collection


def sparse_search(
    collection: Any, query: str, limit: int, where: Any = None
) -> list[tuple[str, float]]:
    search = Search().rank(Knn(query=query, key=SPARSE_KEY, limit=limit)).limit(limit)
    if where is not None:
        search = search.where(where)
    rows = collection.search(search.select(K.SCORE)).rows()[0]
    return [(row["id"], row["score"]) for row in rows]


def assert_same_ranking(got: list[tuple[str, float]], expected: list[tuple[str, float]]) -> None:
    assert [record_id for record_id, _ in got] == [record_id for record_id, _ in expected]
    for (_, score), (_, want) in zip(got, expected):
        assert score == pytest.approx(want, rel=1e-4, abs=1e-5)


@pytest.mark.parametrize("query", QUERIES)
def test_a_sparse_knn_ranks_by_bm25_with_idf_over_the_collection(
    any_client: azurite.ClientAPI, query: str
) -> None:
    collection = new_collection(any_client)
    live = dict(zip(IDS, DOCUMENTS))
    expected = expected_bm25(query, live, None, 10)
    assert len(expected) == 10
    assert_same_ranking(sparse_search(collection, query, 10), expected)


def test_a_filtered_sparse_knn_ranks_only_the_allowed_records(
    any_client: azurite.ClientAPI,
) -> None:
    collection = new_collection(any_client)
    live = dict(zip(IDS, DOCUMENTS))
    odd = {record_id for record_id, group in zip(IDS, GROUPS) if group == "odd"}
    got = sparse_search(collection, QUERIES[0], 8, where=K("group") == "odd")
    assert_same_ranking(got, expected_bm25(QUERIES[0], live, odd, 8))


def test_rrf_fuses_the_dense_and_the_sparse_rankings(any_client: azurite.ClientAPI) -> None:
    collection = new_collection(any_client)
    live = dict(zip(IDS, DOCUMENTS))
    dense_query = VECTORS[3] + 0.05
    dense = expected_dense(dense_query, 20)
    sparse = [record_id for record_id, _ in expected_bm25(QUERIES[1], live, None, 20)]
    weights, k = (0.7, 0.3), 60
    fused: dict[str, float] = {}
    for weight, ranking in zip(weights, (dense, sparse)):
        for rank, record_id in enumerate(ranking):
            fused[record_id] = fused.get(record_id, 0.0) - weight / (k + rank)
    # A record missing from one list takes that Knn's default rank, here the list's length.
    for weight, ranking in zip(weights, (dense, sparse)):
        for record_id in fused:
            if record_id not in ranking:
                fused[record_id] -= weight / (k + len(ranking))
    expected = sorted(fused.items(), key=lambda item: (item[1], IDS.index(item[0])))[:10]

    rank = Rrf(
        ranks=[
            Knn(query=dense_query.tolist(), limit=20, default=20, return_rank=True),
            Knn(query=QUERIES[1], key=SPARSE_KEY, limit=20, default=20, return_rank=True),
        ],
        weights=list(weights),
        k=k,
    )
    rows = collection.search(Search().rank(rank).limit(10).select(K.SCORE)).rows()[0]
    assert_same_ranking([(row["id"], row["score"]) for row in rows], expected)


def test_sparse_search_follows_updates_deletes_and_a_reopen(tmp_path: Path) -> None:
    client = azurite.PersistentClient(tmp_path / "db")
    collection = new_collection(client)
    live = dict(zip(IDS, DOCUMENTS))
    first = [record_id for record_id, _ in expected_bm25(QUERIES[2], live, None, 5)]
    # Delete the best two, and give a third document the query's own words.
    collection.delete(ids=first[:2])
    for record_id in first[:2]:
        del live[record_id]
    collection.update(
        ids=[IDS[-1]], embeddings=[VECTORS[-1].tolist()], documents=[QUERIES[2] + " " + QUERIES[2]]
    )
    live[IDS[-1]] = QUERIES[2] + " " + QUERIES[2]
    expected = expected_bm25(QUERIES[2], live, None, 5)
    assert expected[0][0] == IDS[-1]
    assert_same_ranking(sparse_search(collection, QUERIES[2], 5), expected)
    client.close()

    reopened = azurite.PersistentClient(tmp_path / "db").get_collection("hybrid")
    assert_same_ranking(sparse_search(reopened, QUERIES[2], 5), expected)
