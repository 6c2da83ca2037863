"""``collection.search`` run for real on every client kind: chromadb 1.5.9's own
``HttpClient`` (which serializes ``Search`` itself) against ``azurite run``, Azurite's HTTP
clients (sync and async) against the same server, and the embedded engine. Every expected
answer is computed independently: from the records' vectors with numpy, from separate
``collection.query`` results (the Knn candidate lists), and the ranking formulas (Rrf's
``-Σ wᵢ/(k + rankᵢ)``, ranks from 0).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import chromadb
import chromadb.errors
import numpy as np
import pytest
from chromadb import K, Knn, Rrf, Search
from chromadb.api.types import ReadLevel as ChromaReadLevel
from chromadb.execution.expression.operator import GroupBy, MaxK, MinK, Val
from server.servers import Server, azurite_server

import azurite
import azurite.errors

DIMENSION = 8
COUNT = 240
CATEGORIES = ("alpha", "beta", "gamma")
WORDS = ("river", "stone", "cloud", "ember", "field", "glass")


@dataclass(frozen=True)
class Data:
    ids: list[str]
    vectors: np.ndarray
    documents: list[str]
    metadatas: list[dict[str, Any]]

    def row(self, record_id: str) -> int:
        return self.ids.index(record_id)


def make_data() -> Data:
    rng = np.random.default_rng(13)
    vectors = rng.normal(size=(COUNT, DIMENSION)).astype(np.float32)
    ids = [f"r{i:03d}" for i in range(COUNT)]
    documents = [f"{WORDS[i % 6]} {WORDS[(i * 7) % 6]} number {i}" for i in range(COUNT)]
    metadatas = [
        {"category": CATEGORIES[i % 3], "year": 2000 + (i % 25), "rank": int(rng.integers(0, 5))}
        for i in range(COUNT)
    ]
    return Data(ids, vectors, documents, metadatas)


DATA = make_data()
Q1 = np.random.default_rng(1).normal(size=DIMENSION).astype(np.float32)
Q2 = np.random.default_rng(2).normal(size=DIMENSION).astype(np.float32)


class Target:
    """One client kind's collection, with the two calls the tests compare: ``search`` (the
    call under test) and ``nearest`` (collection.query: the independent Knn lists)."""

    def __init__(self, collection: Any, run: Callable[[Any], Any]) -> None:
        self.collection = collection
        self._run = run

    def search(self, searches: Any, **options: Any) -> Any:
        return self._run(self.collection.search(searches, **options))

    def nearest(
        self, query: np.ndarray, n: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        found = self._run(
            self.collection.query(
                query_embeddings=[query.tolist()], n_results=n, where=where, include=["distances"]
            )
        )
        return list(zip(found["ids"][0], found["distances"][0], strict=True))

    def add_data(self) -> None:
        self._run(
            self.collection.add(
                ids=DATA.ids,
                embeddings=DATA.vectors.tolist(),
                documents=DATA.documents,
                metadatas=DATA.metadatas,
            )
        )


def _sync(value: Any) -> Any:
    return value


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with azurite_server(tmp_path_factory.mktemp("search-server")) as running:
        yield running


KINDS = ("chromadb-http", "azurite-http", "azurite-async-http", "azurite-persistent")


@contextlib.contextmanager
def open_target(kind: str, server: Server, directory: Path) -> Iterator[Target]:
    """The test data in a new collection of a client of ``kind``."""
    name = f"search-{kind}"
    if kind == "chromadb-http":
        client = chromadb.HttpClient(host=server.host, port=server.port)
        made = Target(client.create_collection(name, embedding_function=None), _sync)
        made.add_data()
        yield made
        # chromadb 1.5.9 never closes its HTTP sessions (the client's and its admin
        # client's) itself.
        for owner in (client, getattr(client, "_admin_client", None)):
            if owner is not None:
                owner._server._session.close()
    elif kind == "azurite-http":
        client = azurite.HttpClient(host=server.host, port=server.port)
        made = Target(client.create_collection(name, embedding_function=None), _sync)
        made.add_data()
        yield made
        client.close()
    elif kind == "azurite-async-http":
        loop = asyncio.new_event_loop()
        client = loop.run_until_complete(
            azurite.AsyncHttpClient(host=server.host, port=server.port)
        )
        collection = loop.run_until_complete(
            client.create_collection(name, embedding_function=None)
        )
        made = Target(collection, loop.run_until_complete)
        made.add_data()
        yield made
        loop.run_until_complete(client.close())
        loop.close()
    else:
        client = azurite.PersistentClient(path=str(directory))
        made = Target(client.create_collection(name, embedding_function=None), _sync)
        made.add_data()
        yield made
        client.close()


@pytest.fixture(scope="module")
def targets(
    server: Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Target]]:
    with contextlib.ExitStack() as stack:
        yield {
            kind: stack.enter_context(open_target(kind, server, tmp_path_factory.mktemp(kind)))
            for kind in KINDS
        }


@pytest.fixture(params=KINDS)
def target(request: pytest.FixtureRequest, targets: dict[str, Target]) -> Target:
    return targets[request.param]


def l2(query: np.ndarray) -> np.ndarray:
    """Squared euclidean distances of every record to ``query``, in float64."""
    difference = DATA.vectors.astype(np.float64) - query.astype(np.float64)
    return (difference**2).sum(axis=1)


def assert_ranked(result: Any, expected: list[tuple[str, float]], search: int = 0) -> None:
    """The search's ids are the expected ones in order, and its scores match to float32
    precision (the engine computes in float32, the expectations in float64)."""
    assert result["ids"][search] == [record_id for record_id, _ in expected]
    scores = result["scores"][search]
    assert scores == pytest.approx([score for _, score in expected], rel=1e-5, abs=1e-6)


def ordered(scored: dict[str, float]) -> list[tuple[str, float]]:
    """Chroma's order: ascending score, ties by insertion order."""
    return sorted(scored.items(), key=lambda item: (item[1], DATA.row(item[0])))


def test_dense_knn_is_the_exact_nearest_records(target: Target) -> None:
    result = target.search(Search().rank(Knn(query=Q1.tolist(), limit=7)).select(K.SCORE))
    distances = l2(Q1)
    nearest = np.argsort(distances, kind="stable")[:7]
    assert_ranked(result, [(DATA.ids[i], distances[i]) for i in nearest])
    assert result["select"] == [["#score"]]
    assert result["documents"] == [None] and result["metadatas"] == [None]


def test_knn_default_limit_is_16_and_numpy_queries_are_accepted(target: Target) -> None:
    result = target.search(Search().rank(Knn(query=Q2)).select(K.SCORE))
    assert_ranked(result, target.nearest(Q2, 16))


def test_filters_apply_before_the_knn(target: Target) -> None:
    where = (K("category") == "beta") & (K("year") >= 2010)
    search = Search().where(where).rank(Knn(query=Q1.tolist(), limit=5)).select(K.SCORE)
    expected = target.nearest(Q1, 5, {"$and": [{"category": "beta"}, {"year": {"$gte": 2010}}]})
    assert_ranked(target.search(search), expected)

    contains = Search().where(K.DOCUMENT.contains("ember")).rank(Knn(query=Q1.tolist(), limit=25))
    found = target.search(contains.select(K.SCORE))
    distances = l2(Q1)
    ember = [i for i, document in enumerate(DATA.documents) if "ember" in document]
    nearest_ember = sorted(ember, key=lambda i: distances[i])[:25]
    assert_ranked(found, [(DATA.ids[i], distances[i]) for i in nearest_ember])

    regex = Search().where(K.DOCUMENT.regex(r"number 1\d$")).select(K.DOCUMENT)
    assert target.search(regex)["ids"] == [[f"r{i:03d}" for i in range(10, 20)]]

    chosen = ["r005", "r100", "r200", "r017"]
    by_id = Search().where(K.ID.is_in(chosen)).rank(Knn(query=Q1.tolist(), limit=100))
    expected_ids = sorted(chosen, key=lambda i: (l2(Q1)[DATA.row(i)], DATA.row(i)))
    assert target.search(by_id.select(K.SCORE))["ids"] == [expected_ids]
    not_ids = Search().where(K.ID.not_in(DATA.ids[1:])).select(K.SCORE)
    assert target.search(not_ids)["ids"] == [["r000"]]


def test_weighted_sum_of_knns_with_defaults(target: Target) -> None:
    rank = (
        Knn(query=Q1.tolist(), limit=20, default=50.0) * 0.7
        + Knn(query=Q2.tolist(), limit=20, default=50.0) * 0.3
    )
    result = target.search(Search().rank(rank).limit(15).select(K.SCORE))
    first = dict(target.nearest(Q1, 20))
    second = dict(target.nearest(Q2, 20))
    scored = {
        record: 0.7 * first.get(record, 50.0) + 0.3 * second.get(record, 50.0)
        for record in set(first) | set(second)
    }
    assert_ranked(result, ordered(scored)[:15])


def test_a_knn_without_default_drops_the_records_it_did_not_return(target: Target) -> None:
    rank = Knn(query=Q1.tolist(), limit=40) + Knn(query=Q2.tolist(), limit=40)
    result = target.search(Search().rank(rank).select(K.SCORE))
    first = dict(target.nearest(Q1, 40))
    second = dict(target.nearest(Q2, 40))
    both = set(first) & set(second)
    assert both, "the two candidate lists should overlap for this test to mean anything"
    assert_ranked(result, ordered({r: first[r] + second[r] for r in both}))


@pytest.mark.parametrize("weights", [None, [0.7, 0.3]])
def test_rrf_is_minus_the_weighted_reciprocal_ranks(target: Target, weights: Any) -> None:
    rrf = Rrf(
        ranks=[
            Knn(query=Q1.tolist(), limit=30, return_rank=True, default=30.0),
            Knn(query=Q2.tolist(), limit=30, return_rank=True, default=30.0),
        ],
        weights=weights,
        k=60,
    )
    result = target.search(Search().rank(rrf).limit(12).select(K.SCORE))
    w = weights or [1.0, 1.0]
    ranks = [
        {record: position for position, (record, _) in enumerate(target.nearest(q, 30))}
        for q in (Q1, Q2)
    ]
    scored = {
        record: -sum(wi / (60 + r.get(record, 30.0)) for wi, r in zip(w, ranks, strict=True))
        for record in set(ranks[0]) | set(ranks[1])
    }
    assert_ranked(result, ordered(scored)[:12])


def test_rrf_without_defaults_fuses_the_records_both_lists_hold(target: Target) -> None:
    rrf = Rrf(
        ranks=[
            Knn(query=Q1.tolist(), limit=50, return_rank=True),
            Knn(query=Q2.tolist(), limit=50, return_rank=True),
        ],
        normalize=True,
        weights=[3.0, 1.0],
    )
    result = target.search(Search().rank(rrf).select(K.SCORE))
    ranks = [
        {record: position for position, (record, _) in enumerate(target.nearest(q, 50))}
        for q in (Q1, Q2)
    ]
    both = set(ranks[0]) & set(ranks[1])
    scored = {r: -(0.75 / (60 + ranks[0][r]) + 0.25 / (60 + ranks[1][r])) for r in both}
    assert_ranked(result, ordered(scored))


def test_functions_of_ranks(target: Target) -> None:
    knn = Knn(query=Q1.tolist(), limit=10)
    nearest = target.nearest(Q1, 10)
    cases: list[tuple[Any, Callable[[float], float]]] = [
        ((knn - Val(3.0)).abs(), lambda d: abs(d - 3.0)),
        ((knn + 1).log(), lambda d: float(np.log(d + 1))),
        ((knn * -0.1).exp(), lambda d: float(np.exp(-0.1 * d))),
        (knn.max(4.0).min(9.0), lambda d: min(max(d, 4.0), 9.0)),
        (knn / 2, lambda d: d / 2),
        (-knn, lambda d: -d),
    ]
    for rank, formula in cases:
        result = target.search(Search().rank(rank).select(K.SCORE))
        assert_ranked(result, ordered({r: formula(d) for r, d in nearest}))


def test_group_by_keeps_each_groups_best_then_orders_by_score(target: Target) -> None:
    search = (
        Search()
        .rank(Knn(query=Q1.tolist(), limit=60))
        .group_by(GroupBy(keys=K("category"), aggregate=MinK(keys=K.SCORE, k=2)))
        .select(K.SCORE, "category")
    )
    result = target.search(search)
    candidates = target.nearest(Q1, 60)
    kept: dict[str, float] = {}
    for category in CATEGORIES:
        members = [
            (r, d) for r, d in candidates if DATA.metadatas[DATA.row(r)]["category"] == category
        ]
        kept.update(members[:2])
    assert_ranked(result, ordered(kept))
    assert [m["category"] for m in result["metadatas"][0]] == [
        DATA.metadatas[DATA.row(r)]["category"] for r in result["ids"][0]
    ]

    largest = (
        Search()
        .rank(Knn(query=Q1.tolist(), limit=60))
        .group_by(
            GroupBy(keys=[K("category"), K("rank")], aggregate=MaxK(keys=[K("year"), K.SCORE], k=1))
        )
        .limit(4, offset=2)
        .select(K.SCORE)
    )
    kept = {}
    groups: dict[tuple[str, int], list[tuple[str, float]]] = {}
    for record, distance in candidates:
        metadata = DATA.metadatas[DATA.row(record)]
        groups.setdefault((metadata["category"], metadata["rank"]), []).append((record, distance))
    for members in groups.values():
        best = max(members, key=lambda m: (DATA.metadatas[DATA.row(m[0])]["year"], m[1]))
        kept[best[0]] = best[1]
    assert_ranked(target.search(largest), ordered(kept)[2:6])


def test_offset_and_limit_page_the_ranking(target: Target) -> None:
    nearest = target.nearest(Q2, 16)
    result = target.search(Search().rank(Knn(query=Q2.tolist())).limit(5, offset=3).select(K.SCORE))
    assert_ranked(result, nearest[3:8])
    beyond = target.search(Search().rank(Knn(query=Q2.tolist())).limit(5, offset=16))
    assert beyond["ids"] == [[]]


def test_without_a_rank_records_come_in_insertion_order(target: Target) -> None:
    result = target.search(
        Search().where(K("category") == "gamma").limit(4, offset=2).select(K.SCORE)
    )
    gamma = [r for r, m in zip(DATA.ids, DATA.metadatas, strict=True) if m["category"] == "gamma"]
    assert result["ids"] == [gamma[2:6]]
    assert result["scores"] == [[0.0, 1.0, 2.0, 3.0]]


def test_select_returns_the_fields_asked_for(target: Target) -> None:
    everything = target.search(Search().rank(Knn(query=Q1.tolist(), limit=3)).select_all())
    assert everything["select"] == [["#document", "#embedding", "#metadata", "#score"]]
    rows = everything.rows()[0]
    assert [row["id"] for row in rows] == [r for r, _ in target.nearest(Q1, 3)]
    for row in rows:
        i = DATA.row(row["id"])
        assert row["document"] == DATA.documents[i]
        assert row["metadata"] == DATA.metadatas[i]
        assert np.allclose(row["embedding"], DATA.vectors[i])
        assert row["score"] == pytest.approx(l2(Q1)[i], rel=1e-5)

    some = target.search(Search().rank(Knn(query=Q1.tolist(), limit=3)).select("year", "missing"))
    assert some["select"] == [["missing", "year"]]
    assert some["documents"] == [None] and some["scores"] == [None] and some["embeddings"] == [None]
    assert some["metadatas"] == [
        [{"year": DATA.metadatas[DATA.row(r)]["year"]} for r in some["ids"][0]]
    ]
    assert set(some.rows()[0][0]) == {"id", "metadata"}

    bare = target.search(Search().rank(Knn(query=Q1.tolist(), limit=2)))
    assert bare["select"] == [[]] and bare.rows()[0] == [
        {"id": r} for r, _ in target.nearest(Q1, 2)
    ]


def test_several_searches_answer_in_order_at_every_read_level(target: Target) -> None:
    searches = [
        Search().rank(Knn(query=Q1.tolist(), limit=3)).select(K.SCORE),
        Search().where(K("category") == "alpha").limit(2),
        Search().rank(Knn(query=Q2.tolist(), limit=4)).select(K.DOCUMENT),
    ]
    for level in ChromaReadLevel:
        result = target.search(searches, read_level=level)
        assert [len(ids) for ids in result["ids"]] == [3, 2, 4]
        assert result["scores"][1] is None and result["scores"][2] is None
        assert result["documents"][0] is None and len(result["documents"][2]) == 4
        assert result["select"] == [["#score"], [], ["#document"]]
    assert target.search([])["ids"] == []


def test_refused_searches_name_what_is_wrong(target: Target) -> None:
    invalid = (azurite.errors.InvalidArgumentError, chromadb.errors.InvalidArgumentError)
    sparse = {"#type": "sparse_vector", "indices": [1, 4], "values": [0.5, 0.25]}
    with pytest.raises(invalid, match="'sparse_embedding' with type 'SparseVector'"):
        target.search(
            Search().rank(
                Knn(query=chromadb.SparseVector.from_dict(sparse), key="sparse_embedding")
            )
        )
    with pytest.raises(invalid, match="dimension of 8, got 3"):
        target.search(Search().rank(Knn(query=[1.0, 2.0, 3.0])))
    with pytest.raises(invalid, match="group_by requires rank expression"):
        target.search(
            Search().group_by(GroupBy(keys=K("category"), aggregate=MinK(keys=K.SCORE, k=1)))
        )


def test_text_queries_are_embedded_by_the_collections_function(tmp_path: Path) -> None:
    """The embedded engine, with a string Knn query: embedded by the collection's
    function (its ``embed_query``), as chromadb does, before the search runs."""

    class Lengths(azurite.EmbeddingFunction[Any]):
        def __init__(self) -> None:
            self.queries: list[str] = []

        def __call__(self, input: Any) -> Any:
            return [np.array([len(text), 0.0], dtype=np.float32) for text in input]

        def embed_query(self, input: Any) -> Any:
            self.queries.extend(input)
            # A query of "twice" answers two vectors: a function that miscounts.
            return self(input * 2 if input == ["twice"] else input)

        @staticmethod
        def name() -> str:
            return "lengths"

        def get_config(self) -> dict[str, Any]:
            return {}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> Any:
            return Lengths()

    function = Lengths()
    client = azurite.PersistentClient(path=str(tmp_path))
    collection = client.create_collection("texts", embedding_function=function)
    collection.add(ids=["one", "three", "five"], documents=["a", "abc", "abcde"])
    result = collection.search(Search().rank(Knn(query="abcd", limit=2)).select(K.SCORE))
    assert function.queries == ["abcd"]
    assert result["ids"] == [["three", "five"]] and result["scores"] == [[1.0, 1.0]]
    with pytest.raises(ValueError, match="Cannot embed string query for key 'other'"):
        collection.search(Search().rank(Knn(query="abcd", key="other")))
    with pytest.raises(ValueError, match="no embedding function configured for this key"):
        collection.search(Search().rank(Knn(query="abcd", key="#document")))
    with pytest.raises(ValueError, match="returned unexpected number of embeddings"):
        collection.search(Search().rank(Knn(query="twice")))
    client.close()


def test_every_client_kind_answers_alike(targets: dict[str, Target]) -> None:
    """The same searches give the same answers, value for value, on every client kind."""
    searches = [
        Search()
        .where(K("year") < 2012)
        .rank(
            Knn(query=Q1.tolist(), limit=30) * 0.5 + Knn(query=Q2.tolist(), limit=30, default=9.0)
        )
        .limit(8, offset=1)
        .select_all(),
        Search()
        .rank(
            Rrf(
                [Knn(query=Q1.tolist(), return_rank=True), Knn(query=Q2.tolist(), return_rank=True)]
            )
        )
        .group_by(GroupBy(keys=K("rank"), aggregate=MaxK(keys=K.SCORE, k=1)))
        .select(K.SCORE, "rank"),
    ]
    answers = {kind: dict(target.search(searches)) for kind, target in targets.items()}
    reference = answers.pop("chromadb-http")
    assert reference["ids"][0] and reference["ids"][1]
    for kind, answer in answers.items():
        assert answer == reference, kind
