"""The Search API's expressions are chromadb 1.5.9's: built the same way with either
library, they serialize to the same wire dicts, parse back the same, and refuse the same
bad input with the same exception and message.

Every case is a function of a library (`CHROMA` or `AZURITE`, the namespace of its
``execution.expression`` package plus its ``SparseVector``), so one piece of code builds
the expression in both. Wire dicts are compared as JSON text, which also tells 1 from 1.0
and True from 1, and key order. Besides the table of cases, random expression trees are
built in both libraries from the same recipe. One test checks the meaning of ``Rrf``'s
wire form independently of chromadb: evaluated, it is the fusion formula.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import math
from types import SimpleNamespace
from typing import Any, Callable

import chromadb
import chromadb.api.types
import chromadb.execution.expression
import chromadb.execution.expression.operator
import chromadb.execution.expression.plan
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import azurite
import azurite.api.types
import azurite.execution.expression
import azurite.search


def _library(package: Any, sparse_vector: type) -> SimpleNamespace:
    return SimpleNamespace(
        **{name: getattr(package, name) for name in package.__all__}, SparseVector=sparse_vector
    )


CHROMA = _library(chromadb.execution.expression, chromadb.api.types.SparseVector)
AZURITE = _library(azurite.execution.expression, azurite.api.types.SparseVector)

Build = Callable[[SimpleNamespace], Any]


def outcome(action: Callable[[], Any]) -> tuple[Any, ...]:
    """What an action gives, comparable across the libraries: the JSON text of a wire
    dict, or the class and message of the exception it raises."""
    try:
        value = action()
    except Exception as error:
        return ("raises", type(error), str(error))
    return ("gives", json.dumps(value))


# ---- the cases


def dense(m: SimpleNamespace, query: Any = None, **options: Any) -> Any:
    return m.Knn(query=[0.5, -1.25, 2.0] if query is None else query, **options)


def sparse(m: SimpleNamespace) -> Any:
    return m.SparseVector(indices=[1, 7, 30], values=[0.5, 1.5, 0.25])


WHERE: dict[str, Build] = {
    "eq int": lambda m: m.K("year") == 2020,
    "eq str": lambda m: m.K("genre") == "drama",
    "eq bool": lambda m: m.Key("published") == True,  # noqa: E712 (builds a condition)
    "eq float": lambda m: m.K("rating") == 4.5,
    "ne": lambda m: m.K("genre") != "horror",
    "gt": lambda m: m.K("year") > 1999,
    "gte": lambda m: m.K("rating") >= 3.5,
    "lt": lambda m: m.K("year") < 2000,
    "lte": lambda m: m.K("pages") <= 300,
    "reversed comparison": lambda m: 5 < m.K("pages"),  # noqa: SIM300 (the reflected form)
    "in": lambda m: m.K("genre").is_in(["drama", "comedy"]),
    "in numbers": lambda m: m.K("year").is_in([1999, 2000.5]),
    "not in": lambda m: m.K("genre").not_in(["horror"]),
    "id in": lambda m: m.K.ID.is_in(["a", "b"]),
    "document contains": lambda m: m.K.DOCUMENT.contains("quick fox"),
    "document not contains": lambda m: m.K.DOCUMENT.not_contains("lazy"),
    "document regex": lambda m: m.K.DOCUMENT.regex(r"^The \w+"),
    "document not regex": lambda m: m.K.DOCUMENT.not_regex("dog$"),
    "metadata array contains str": lambda m: m.K("tags").contains("action"),
    "metadata array contains int": lambda m: m.K("scores").contains(42),
    "metadata array not contains": lambda m: m.K("tags").not_contains("draft"),
    "metadata regex": lambda m: m.K("title").regex("^A"),
    "metadata not regex": lambda m: m.K("title").not_regex("Z$"),
    "and": lambda m: (m.K("year") > 2000) & (m.K("genre") == "drama"),
    "or": lambda m: (m.K("year") > 2000) | (m.K("genre") == "drama"),
    "and flattens left": lambda m: (m.K("a") == 1) & (m.K("b") == 2) & (m.K("c") == 3),
    "and flattens right": lambda m: (m.K("a") == 1) & ((m.K("b") == 2) & (m.K("c") == 3)),
    "and of two ands": lambda m: (
        ((m.K("a") == 1) & (m.K("b") == 2)) & ((m.K("c") == 3) & (m.K("d") == 4))
    ),
    "or flattens": lambda m: (m.K("a") == 1) | (m.K("b") == 2) | (m.K("c") == 3),
    "or of ands": lambda m: ((m.K("a") == 1) & (m.K("b") == 2)) | (m.K("c") == 3),
    "and of ors": lambda m: (
        ((m.K("a") == 1) | (m.K("b") == 2)) & ((m.K("c") == 3) | m.K.DOCUMENT.contains("x"))
    ),
    "deep nesting": lambda m: (
        ((m.K("a") == 1) | ((m.K("b") > 2) & m.K.DOCUMENT.regex("r")))
        & (m.K("c").not_in([1]) | (m.K("d") != "x"))
    ),
    "constructed and": lambda m: m.And([m.Eq("a", 1), m.Or([m.Gt("b", 2), m.Lt("c", 3)])]),
    "constructed leaves": lambda m: m.And(
        [
            m.Ne("a", 1),
            m.Gte("b", 2),
            m.Lte("c", 3),
            m.In("d", [1]),
            m.Nin("e", [2]),
            m.Contains("#document", "x"),
            m.NotContains("#document", "y"),
            m.Regex("f", "z"),
            m.NotRegex("g", "w"),
        ]
    ),
}

RANK: dict[str, Build] = {
    "knn list": lambda m: dense(m),
    "knn float32 array": lambda m: dense(m, np.array([0.5, -1.25, 2.0], dtype=np.float32)),
    "knn float64 array": lambda m: dense(m, np.array([0.5, -1.25, 2.0], dtype=np.float64)),
    "knn int32 array": lambda m: dense(m, np.array([1, 2, 3], dtype=np.int32)),
    "knn sparse": lambda m: m.Knn(query=sparse(m), key="sparse_embedding"),
    "knn sparse with labels": lambda m: m.Knn(
        query=m.SparseVector(indices=[0, 2], values=[1.0, 2.0], labels=["fox", "dog"]),
        key=m.K("sparse_embedding"),
    ),
    "knn text": lambda m: m.Knn(query="a quick brown fox"),
    "knn text on a sparse key": lambda m: m.Knn(query="fox", key="sparse_embedding"),
    "knn key as Key": lambda m: dense(m, key=m.K.EMBEDDING),
    "knn key as name": lambda m: dense(m, key="#embedding"),
    "knn limit": lambda m: dense(m, limit=100),
    "knn default": lambda m: dense(m, default=10.0),
    "knn default zero": lambda m: dense(m, default=0.0),
    "knn return rank": lambda m: dense(m, return_rank=True),
    "knn every option": lambda m: dense(
        m, key="other_embedding", limit=5, default=1000.0, return_rank=True
    ),
    "val int": lambda m: m.Val(1),
    "val float": lambda m: m.Val(0.25),
    "sum": lambda m: dense(m) + dense(m, key="b"),
    "sum with number": lambda m: dense(m) + 0.5,
    "number plus rank": lambda m: 2 + dense(m),
    "sum flattens": lambda m: dense(m) + m.Val(1) + m.Val(2) + dense(m, key="b"),
    "sum of sums": lambda m: (m.Val(1) + m.Val(2)) + (m.Val(3) + m.Val(4)),
    "sub": lambda m: dense(m) - m.Val(1.5),
    "number minus rank": lambda m: 1 - dense(m),
    "mul": lambda m: dense(m) * 0.7,
    "number times rank": lambda m: 0.3 * dense(m, key="b"),
    "mul flattens": lambda m: dense(m) * m.Val(2) * m.Val(3),
    "weighted combination": lambda m: dense(m) * 0.7 + dense(m, key="sparse") * 0.3,
    "div": lambda m: dense(m) / 10,
    "number over rank": lambda m: 1.0 / dense(m),
    "neg": lambda m: -dense(m),
    "neg of neg": lambda m: -(-dense(m)),  # noqa: B002 (two negations, not a decrement)
    "abs builtin": lambda m: abs(dense(m)),
    "abs method": lambda m: dense(m).abs(),
    "exp": lambda m: dense(m).exp(),
    "log": lambda m: (dense(m) + 1).log(),
    "max": lambda m: dense(m).max(0.0),
    "min": lambda m: dense(m).min(1),
    "clamp": lambda m: dense(m).min(1.0).max(0.0),
    "max flattens": lambda m: dense(m).max(m.Val(1)).max(m.Val(2)),
    "min of mins": lambda m: m.Val(1).min(m.Val(2)).min(m.Val(3).min(m.Val(4))),
    "constructed ops": lambda m: m.Sum(
        [
            m.Sub(m.Val(1), m.Val(2)),
            m.Div(m.Val(3), m.Val(4)),
            m.Mul([m.Val(5), m.Abs(m.Val(-6))]),
            m.Max([m.Exp(m.Val(0)), m.Log(m.Val(1))]),
            m.Min([m.Val(7), m.Val(8)]),
        ]
    ),
    "rrf two ranks": lambda m: m.Rrf(
        [dense(m, return_rank=True), m.Knn(query=sparse(m), key="sparse", return_rank=True)]
    ),
    "rrf one rank": lambda m: m.Rrf([dense(m, return_rank=True)]),
    "rrf weights": lambda m: m.Rrf(
        ranks=[dense(m, return_rank=True), dense(m, key="b", return_rank=True)],
        weights=[0.7, 0.3],
    ),
    "rrf int weights": lambda m: m.Rrf(
        ranks=[dense(m, return_rank=True), dense(m, key="b", return_rank=True)], weights=[2, 1]
    ),
    "rrf normalized": lambda m: m.Rrf(
        ranks=[dense(m, return_rank=True), dense(m, key="b", return_rank=True)],
        weights=[3.0, 1.0],
        normalize=True,
    ),
    "rrf normalized without weights": lambda m: m.Rrf(
        ranks=[dense(m, return_rank=True), dense(m, key="b", return_rank=True)], normalize=True
    ),
    "rrf k": lambda m: m.Rrf(ranks=[dense(m, return_rank=True), m.Knn(query="fox")], k=100),
    "rrf three ranks": lambda m: m.Rrf(
        [dense(m, return_rank=True), dense(m, key="b", return_rank=True), m.Val(3)],
        k=1,
        weights=[1.0, 0.0, 2.0],
    ),
    "rrf of arithmetic": lambda m: m.Rrf([dense(m) + 1, dense(m, key="b") * 2]),
    "rrf inside arithmetic": lambda m: m.Rrf([dense(m, return_rank=True)]) * 0.5 + m.Val(1),
    "rrf of rrf": lambda m: m.Rrf([m.Rrf([dense(m, return_rank=True)]), m.Val(2)]),
}

PARTS: dict[str, Build] = {
    "limit default": lambda m: m.Limit(),
    "limit": lambda m: m.Limit(limit=10),
    "limit with offset": lambda m: m.Limit(offset=20, limit=10),
    "offset alone": lambda m: m.Limit(offset=5),
    "select nothing": lambda m: m.Select(),
    "select keys": lambda m: m.Select(keys={m.K.DOCUMENT, m.K.SCORE}),
    "select names": lambda m: m.Select(keys={"title", "author", "#embedding"}),
    "select mixed": lambda m: m.Select(keys={m.K.METADATA, "title", m.K("year")}),
    "select a key and its name": lambda m: m.Select(keys={m.K("title"), "title"}),
    "group by nothing": lambda m: m.GroupBy(),
    "group by keys without aggregate": lambda m: m.GroupBy(keys=m.K("genre")),
    "group by one key": lambda m: m.GroupBy(keys=m.K("genre"), aggregate=m.MinK(m.K.SCORE, 3)),
    "group by names": lambda m: m.GroupBy(
        keys=["genre", "year"], aggregate=m.MaxK(keys=["#score"], k=1)
    ),
    "group by keys list": lambda m: m.GroupBy(
        keys=[m.K("genre"), m.K("year")],
        aggregate=m.MinK(keys=[m.K("priority"), m.K.SCORE], k=2),
    ),
    "min k": lambda m: m.MinK(keys=m.K.SCORE, k=3),
    "max k": lambda m: m.MaxK(keys=[m.K("year"), "rating"], k=5),
}


def grouping(m: SimpleNamespace) -> Any:
    return m.GroupBy(keys=m.K("genre"), aggregate=m.MinK(keys=m.K.SCORE, k=2))


SEARCH: dict[str, Build] = {
    "empty": lambda m: m.Search(),
    "where": lambda m: m.Search().where(m.K("year") >= 2020),
    "where dict": lambda m: m.Search(where={"$and": [{"a": 1}, {"b": {"$gt": 2}}]}),
    "where cleared": lambda m: m.Search().where(m.K("a") == 1).where(None),
    "rank": lambda m: m.Search().rank(dense(m)),
    "rank dict": lambda m: m.Search(rank={"$knn": {"query": [0.5, 0.25], "limit": 4}}),
    "rank val dict": lambda m: m.Search().rank({"$val": 0.5}),
    "text rank": lambda m: m.Search().rank(m.Knn(query="fox", return_rank=True)),
    "limit": lambda m: m.Search().limit(10),
    "limit with offset": lambda m: m.Search().limit(10, offset=20),
    "limit as int": lambda m: m.Search(limit=7),
    "limit as dict": lambda m: m.Search(limit={"limit": 5, "offset": 15}),
    "limit as Limit": lambda m: m.Search(limit=m.Limit(offset=3)),
    "select": lambda m: m.Search().select(m.K.DOCUMENT, m.K.SCORE, "title"),
    "select nothing": lambda m: m.Search().select(),
    "select all": lambda m: m.Search().select_all(),
    "select list": lambda m: m.Search(select=["#document", "#metadata", "title"]),
    "select set": lambda m: m.Search(select={"#document", "#embedding"}),
    "select dict": lambda m: m.Search(select={"keys": ["#score", "#id"]}),
    "select Select": lambda m: m.Search(select=m.Select(keys={m.K.EMBEDDING})),
    "group by": lambda m: m.Search().rank(dense(m)).group_by(grouping(m)),
    "group by dict": lambda m: m.Search(
        group_by={"keys": ["genre"], "aggregate": {"$max_k": {"keys": ["#score"], "k": 1}}}
    ),
    "group by cleared": lambda m: m.Search(group_by=grouping(m)).group_by(None),
    "everything by builder": lambda m: (
        m.Search()
        .where((m.K("genre") == "drama") & m.K.DOCUMENT.contains("love"))
        .rank(m.Rrf([dense(m, return_rank=True), m.Knn(query="love", return_rank=True)]))
        .group_by(grouping(m))
        .limit(5, offset=1)
        .select(m.K.DOCUMENT, m.K.SCORE)
    ),
    "everything by constructor": lambda m: m.Search(
        where=m.K("year").is_in([2020, 2021]) | m.K.DOCUMENT.regex("^A"),
        rank=dense(m) * 0.8 + m.Val(0.5) * 0.2,
        group_by=grouping(m),
        limit=m.Limit(offset=2, limit=3),
        select=m.Select(keys={m.K.DOCUMENT}),
    ),
    "builder keeps the other parts": lambda m: (
        m.Search(where=m.K("a") == 1, limit=3, select=["#document"])
        .rank(dense(m))
        .group_by(grouping(m))
        .where(m.K("b") == 2)
    ),
}

CASES: dict[str, Build] = {
    **{f"where: {name}": build for name, build in WHERE.items()},
    **{f"rank: {name}": build for name, build in RANK.items()},
    **{f"part: {name}": build for name, build in PARTS.items()},
    **{f"search: {name}": build for name, build in SEARCH.items()},
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_wire_dict_is_chromadbs(name: str) -> None:
    build = CASES[name]
    ours, theirs = build(AZURITE), build(CHROMA)
    assert type(ours).__name__ == type(theirs).__name__
    assert outcome(ours.to_dict) == outcome(theirs.to_dict)
    assert outcome(ours.to_dict)[0] == "gives"


# ---- parsing the wire form


def parser(m: SimpleNamespace, expression: Any) -> Callable[[dict[str, Any]], Any]:
    """How the wire dict of `expression` is read back: its base class's from_dict, or, for
    a Search, its constructor (which the server calls with the request's parts)."""
    if isinstance(expression, m.Search):
        return lambda wire: m.Search(
            where=wire["filter"],
            rank=wire["rank"],
            group_by=wire["group_by"],
            limit=wire["limit"],
            select=wire["select"],
        )
    for base in (m.Where, m.Rank, m.Aggregate):
        if isinstance(expression, base):
            return base.from_dict  # type: ignore[no-any-return]
    return type(expression).from_dict  # type: ignore[no-any-return]


#: Cases whose wire form does not read back to itself, in chromadb as in Azurite.
NOT_READ_BACK_AS_WRITTEN = {
    # Parsing combines operands with the operators, which flatten what construction nested.
    "rank: constructed ops",
    "rank: neg of neg",
    "rank: rrf of rrf",
    "rank: rrf inside arithmetic",
    "where: constructed and",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_wire_dict_reads_back_as_chromadb_reads_it(name: str) -> None:
    wire = CASES[name](AZURITE).to_dict()

    def read_back(m: SimpleNamespace) -> Any:
        return parser(m, CASES[name](m))(json.loads(json.dumps(wire))).to_dict()

    assert_read_back_as_chromadb_reads_it(lambda m, w: parser(m, CASES[name](m))(w), wire)
    if name not in NOT_READ_BACK_AS_WRITTEN:
        assert unordered_selection(read_back(AZURITE)) == unordered_selection(wire)


def text_as_vectors(wire: Any) -> Any:
    """`wire` with each text query replaced by a one-number vector standing for that text,
    the same for equal texts: a form chromadb's parser reads too."""
    standing_for: dict[str, float] = {}

    def replace(part: Any) -> Any:
        if isinstance(part, list):
            return [replace(value) for value in part]
        if not isinstance(part, dict):
            return part
        replaced = {key: replace(value) for key, value in part.items()}
        knn = replaced.get("$knn")
        if isinstance(knn, dict) and isinstance(knn.get("query"), str):
            number = standing_for.setdefault(knn["query"], len(standing_for) + 0.5)
            replaced["$knn"] = {**knn, "query": [number]}
        return replaced

    return replace(wire)


def assert_read_back_as_chromadb_reads_it(
    parse: Callable[[SimpleNamespace, dict[str, Any]], Any], wire: dict[str, Any]
) -> None:
    """chromadb 1.5.9's parser refuses text queries (TypeError), Azurite's reads them (a
    deliberate difference: Chroma's Search API pages write them): with each text standing
    in as a vector, the two read the wire form alike, and Azurite reads the texts to the
    same expression."""

    def read(m: SimpleNamespace, form: dict[str, Any]) -> Any:
        return parse(m, json.loads(json.dumps(form))).to_dict()

    standing_in = text_as_vectors(wire)
    ours = outcome(lambda: read(AZURITE, standing_in))
    assert ours == outcome(lambda: read(CHROMA, standing_in))
    if not has_text_query(wire):
        return
    with_texts = outcome(lambda: text_as_vectors(read(AZURITE, wire)))
    assert with_texts == ours
    theirs = outcome(lambda: read(CHROMA, wire))
    assert theirs[0] == "raises" and theirs[1] is TypeError and "got str" in theirs[2]


def has_text_query(wire: Any) -> bool:
    if isinstance(wire, dict):
        knn = wire.get("$knn")
        if isinstance(knn, dict) and isinstance(knn.get("query"), str):
            return True
        return any(has_text_query(value) for value in wire.values())
    return isinstance(wire, list) and any(has_text_query(value) for value in wire)


def unordered_selection(wire: dict[str, Any]) -> dict[str, Any]:
    """`wire` with its selected keys sorted: a selection is a set, whose order a set built
    anew may change."""
    if set(wire) == {"keys"}:
        return {"keys": sorted(wire["keys"])}
    if "select" in wire:
        return {**wire, "select": unordered_selection(wire["select"])}
    return wire


def test_text_query_is_read_back_by_the_parser() -> None:
    wire = AZURITE.Knn(query="fox", limit=4, return_rank=True).to_dict()
    assert AZURITE.Rank.from_dict(wire) == AZURITE.Knn(query="fox", limit=4, return_rank=True)
    with pytest.raises(TypeError, match="got str"):
        CHROMA.Rank.from_dict(wire)


def test_parsed_dense_query_is_the_float32_array_chromadb_makes() -> None:
    wire = {"$knn": {"query": [0.1, 0.2], "key": "#embedding", "limit": 3}}
    ours, theirs = AZURITE.Rank.from_dict(wire), CHROMA.Rank.from_dict(wire)
    assert ours.query.dtype == theirs.query.dtype == np.float32
    assert ours.to_dict() == theirs.to_dict()
    assert ours.to_dict()["$knn"]["query"] == [float(np.float32(0.1)), float(np.float32(0.2))]


def test_parsed_sparse_query_is_azurites_sparse_vector() -> None:
    vector = AZURITE.SparseVector(indices=[2, 5], values=[1.0, 0.5], labels=["a", "b"])
    parsed = AZURITE.Rank.from_dict(AZURITE.Knn(query=vector, key="sparse").to_dict())
    assert parsed.query == vector
    assert (parsed.key, parsed.limit, parsed.default, parsed.return_rank) == (
        "sparse",
        16,
        None,
        False,
    )


def test_parsed_selection_holds_the_reserved_keys() -> None:
    selection = AZURITE.Select.from_dict({"keys": ["#document", "#score", "title"]})
    reserved = [key for key in selection.keys if key.name.startswith("#")]
    assert {id(key) for key in reserved} == {id(AZURITE.K.DOCUMENT), id(AZURITE.K.SCORE)}


# ---- bad input


def serialized(build: Build) -> Build:
    return lambda m: build(m).to_dict()


def parsed_rank(wire: Any) -> Build:
    return lambda m: m.Rank.from_dict(wire)


FOLDED = ("$sum", "$mul", "$max", "$min")

#: Rrf expressions chromadb builds but refuses to serialize.
BAD_RRF: dict[str, Build] = {
    "without ranks": lambda m: m.Rrf([]),
    "k zero": lambda m: m.Rrf([m.Val(1)], k=0),
    "k negative": lambda m: m.Rrf([m.Val(1)], k=-5),
    "too few weights": lambda m: m.Rrf([m.Val(1), m.Val(2)], weights=[1.0]),
    "too many weights": lambda m: m.Rrf([m.Val(1)], weights=[1.0, 2.0]),
    "empty weights": lambda m: m.Rrf([m.Val(1)], weights=[]),
    "negative weight": lambda m: m.Rrf([m.Val(1), m.Val(2)], weights=[1, -0.1]),
    "zero weights normalized": lambda m: m.Rrf(
        [m.Val(1), m.Val(2)], weights=[0.0, 0.0], normalize=True
    ),
}

INVALID: dict[str, Callable[[SimpleNamespace], Any]] = {
    # Refused when built.
    "document contains a number": lambda m: m.K.DOCUMENT.contains(1),
    "document not contains a number": lambda m: m.K.DOCUMENT.not_contains(2.5),
    "search where str": lambda m: m.Search(where="year > 3"),
    "search where list": lambda m: m.Search(where=[m.K("a") == 1]),
    "search rank number": lambda m: m.Search(rank=0.5),
    "search rank str": lambda m: m.Search().rank("fox"),
    "search group by list": lambda m: m.Search(group_by=["genre"]),
    "search limit str": lambda m: m.Search(limit="10"),
    "search limit float": lambda m: m.Search(limit=10.0),
    "search limit zero": lambda m: m.Search(limit=0),
    "search limit negative": lambda m: m.Search(limit=-3),
    "search select str": lambda m: m.Search(select="#document"),
    "search select tuple": lambda m: m.Search(select=("#document",)),
    "search empty where dict": lambda m: m.Search().where({}),
    # Refused when serialized.
    **{f"rrf {name}": serialized(build) for name, build in BAD_RRF.items()},
    "rrf in a search": lambda m: m.Search().rank(m.Rrf([])).to_dict(),
    "min k of None serialized": lambda m: m.MinK(keys=None, k=1).to_dict(),
    # Where dicts.
    "where not a dict": lambda m: m.Where.from_dict([{"a": 1}]),
    "where empty": lambda m: m.Where.from_dict({}),
    "where two fields": lambda m: m.Where.from_dict({"a": 1, "b": 2}),
    "where field not str": lambda m: m.Where.from_dict({1: 2}),
    "where empty operator": lambda m: m.Where.from_dict({"a": {}}),
    "where two operators": lambda m: m.Where.from_dict({"a": {"$gt": 1, "$lt": 3}}),
    "where unknown operator": lambda m: m.Where.from_dict({"a": {"$like": "x"}}),
    "where in not a list": lambda m: m.Where.from_dict({"a": {"$in": "x"}}),
    "where nin tuple": lambda m: m.Where.from_dict({"a": {"$nin": (1, 2)}}),
    "where contains a list": lambda m: m.Where.from_dict({"a": {"$contains": [1]}}),
    "where not contains None": lambda m: m.Where.from_dict({"a": {"$not_contains": None}}),
    "where document contains a number": lambda m: m.Where.from_dict(
        {"#document": {"$contains": 3}}
    ),
    "where document not contains a bool": lambda m: m.Where.from_dict(
        {"#document": {"$not_contains": True}}
    ),
    "where regex a number": lambda m: m.Where.from_dict({"#document": {"$regex": 1}}),
    "where not regex None": lambda m: m.Where.from_dict({"a": {"$not_regex": None}}),
    "where and not a list": lambda m: m.Where.from_dict({"$and": {"a": 1}}),
    "where and empty": lambda m: m.Where.from_dict({"$and": []}),
    "where and beside a field": lambda m: m.Where.from_dict({"$and": [{"a": 1}], "b": 2}),
    "where and beside or": lambda m: m.Where.from_dict({"$or": [{"a": 1}], "$and": [{"b": 2}]}),
    "where or not a list": lambda m: m.Where.from_dict({"$or": "a"}),
    "where or empty": lambda m: m.Where.from_dict({"$or": []}),
    "where or beside a field": lambda m: m.Where.from_dict({"$or": [{"a": 1}], "b": 2}),
    "where and of a non dict": lambda m: m.Where.from_dict({"$and": [{"a": 1}, "b"]}),
    "where nested bad operator": lambda m: m.Where.from_dict(
        {"$or": [{"a": 1}, {"$and": [{"b": {"$bad": 1}}]}]}
    ),
    # Rank dicts.
    "rank not a dict": lambda m: m.Rank.from_dict(0.5),
    "rank empty": lambda m: m.Rank.from_dict({}),
    "rank two operators": lambda m: m.Rank.from_dict({"$val": 1, "$exp": {"$val": 1}}),
    "rank unknown operator": lambda m: m.Rank.from_dict({"$pow": [1, 2]}),
    "val str": lambda m: m.Rank.from_dict({"$val": "1"}),
    "val None": lambda m: m.Rank.from_dict({"$val": None}),
    "knn not a dict": lambda m: m.Rank.from_dict({"$knn": [0.1]}),
    "knn without query": lambda m: m.Rank.from_dict({"$knn": {"key": "#embedding"}}),
    "knn query number": lambda m: m.Rank.from_dict({"$knn": {"query": 0.5}}),
    "knn query untyped dict": lambda m: m.Rank.from_dict(
        {"$knn": {"query": {"indices": [1], "values": [1.0]}}}
    ),
    "knn query wrong type tag": lambda m: m.Rank.from_dict(
        {"$knn": {"query": {"#type": "dense", "indices": [1], "values": [1.0]}}}
    ),
    "knn sparse unsorted": lambda m: m.Rank.from_dict(
        {"$knn": {"query": {"#type": "sparse_vector", "indices": [3, 1], "values": [1, 2]}}}
    ),
    "knn sparse lengths differ": lambda m: m.Rank.from_dict(
        {"$knn": {"query": {"#type": "sparse_vector", "indices": [1], "values": [1, 2]}}}
    ),
    "knn query empty": lambda m: m.Rank.from_dict({"$knn": {"query": []}}),
    "knn query tuple": lambda m: m.Rank.from_dict({"$knn": {"query": (0.1, 0.2)}}),
    "knn query strings": lambda m: m.Rank.from_dict({"$knn": {"query": ["a", "b"]}}),
    "knn query bools": lambda m: m.Rank.from_dict({"$knn": {"query": [True, False]}}),
    "knn two queries": lambda m: m.Rank.from_dict({"$knn": {"query": [[0.1], [0.2]]}}),
    "knn query matrix array": lambda m: m.Rank.from_dict(
        {"$knn": {"query": np.zeros((2, 3), dtype=np.float32)}}
    ),
    "knn query bool array": lambda m: m.Rank.from_dict(
        {"$knn": {"query": np.array([True, False])}}
    ),
    "knn query empty row": lambda m: m.Rank.from_dict(
        {"$knn": {"query": [np.array([], dtype=np.float32)]}}
    ),
    "knn key not str": lambda m: m.Rank.from_dict({"$knn": {"query": [0.1], "key": 3}}),
    "knn limit float": lambda m: m.Rank.from_dict({"$knn": {"query": [0.1], "limit": 2.0}}),
    "knn limit zero": lambda m: m.Rank.from_dict({"$knn": {"query": [0.1], "limit": 0}}),
    "knn return rank int": lambda m: m.Rank.from_dict({"$knn": {"query": [0.1], "return_rank": 1}}),
    **{f"{op} not a list": parsed_rank({op: {"$val": 1}}) for op in FOLDED},
    **{f"{op} of one": parsed_rank({op: [{"$val": 1}]}) for op in FOLDED},
    **{f"{op} of a number": parsed_rank({op: [{"$val": 1}, 2]}) for op in FOLDED},
    **{f"{op} not a dict": parsed_rank({op: [{"$val": 1}] * 2}) for op in ("$sub", "$div")},
    **{f"{op} without right": parsed_rank({op: {"left": {"$val": 1}}}) for op in ("$sub", "$div")},
    **{f"{op} of a list": parsed_rank({op: [{"$val": 1}]}) for op in ("$abs", "$exp", "$log")},
    "nested bad rank": lambda m: m.Rank.from_dict(
        {"$sum": [{"$val": 1}, {"$log": {"$knn": {"query": [0.1], "limit": -1}}}]}
    ),
    # Limit, Select, GroupBy and aggregate dicts.
    "limit not a dict": lambda m: m.Limit.from_dict(5),
    "limit offset str": lambda m: m.Limit.from_dict({"offset": "1"}),
    "limit offset negative": lambda m: m.Limit.from_dict({"offset": -1}),
    "limit limit float": lambda m: m.Limit.from_dict({"limit": 1.5}),
    "limit limit zero": lambda m: m.Limit.from_dict({"limit": 0}),
    "limit unexpected key": lambda m: m.Limit.from_dict({"limit": 1, "page": 2}),
    "limit unexpected keys": lambda m: m.Limit.from_dict({"page": 2, "size": 3, "from": 1}),
    "select not a dict": lambda m: m.Select.from_dict(["#document"]),
    "select keys str": lambda m: m.Select.from_dict({"keys": "#document"}),
    "select key not str": lambda m: m.Select.from_dict({"keys": ["#document", 1]}),
    "select unexpected key": lambda m: m.Select.from_dict({"keys": [], "fields": []}),
    "group by not a dict": lambda m: m.GroupBy.from_dict(["genre"]),
    "group by without keys": lambda m: m.GroupBy.from_dict({"aggregate": {}}),
    "group by without aggregate": lambda m: m.GroupBy.from_dict({"keys": ["genre"]}),
    "group by keys str": lambda m: m.GroupBy.from_dict({"keys": "genre", "aggregate": {}}),
    "group by keys empty": lambda m: m.GroupBy.from_dict({"keys": [], "aggregate": {}}),
    "group by aggregate list": lambda m: m.GroupBy.from_dict({"keys": ["g"], "aggregate": []}),
    "group by aggregate empty": lambda m: m.GroupBy.from_dict({"keys": ["g"], "aggregate": {}}),
    "aggregate not a dict": lambda m: m.Aggregate.from_dict("$min_k"),
    "aggregate empty": lambda m: m.Aggregate.from_dict({}),
    "aggregate two operators": lambda m: m.Aggregate.from_dict({"$min_k": {}, "$max_k": {}}),
    "aggregate unknown operator": lambda m: m.Aggregate.from_dict({"$top_k": {}}),
    "min k not a dict": lambda m: m.Aggregate.from_dict({"$min_k": ["#score"]}),
    "min k without keys": lambda m: m.Aggregate.from_dict({"$min_k": {"k": 1}}),
    "max k without k": lambda m: m.Aggregate.from_dict({"$max_k": {"keys": ["#score"]}}),
    "max k keys str": lambda m: m.Aggregate.from_dict({"$max_k": {"keys": "#score", "k": 1}}),
    "min k keys empty": lambda m: m.Aggregate.from_dict({"$min_k": {"keys": [], "k": 1}}),
    "min k k float": lambda m: m.Aggregate.from_dict({"$min_k": {"keys": ["a"], "k": 1.0}}),
    "max k k zero": lambda m: m.Aggregate.from_dict({"$max_k": {"keys": ["a"], "k": 0}}),
    "search bad group by dict": lambda m: m.Search(
        group_by={"keys": ["g"], "aggregate": {"$min_k": {"keys": ["#score"], "k": -2}}}
    ),
    "search bad select dict": lambda m: m.Search(select={"keys": [1]}),
    "search bad limit dict": lambda m: m.Search(limit={"offset": -1}),
}


@pytest.mark.parametrize("name", sorted(INVALID))
def test_bad_input_is_refused_as_chromadb_refuses_it(name: str) -> None:
    ours = outcome(lambda: INVALID[name](AZURITE))
    theirs = outcome(lambda: INVALID[name](CHROMA))
    assert theirs[0] == "raises"
    assert ours == theirs


#: What chromadb 1.5.9 refuses with a TypeError and Azurite accepts, because Chroma's
#: Search API pages write it (a deliberate difference: Azurite only accepts more): a text
#: query in the dict form of ``$knn``, and ``Key``s in a ``select`` list. Each with the
#: wire form Azurite makes of it.
ACCEPTED_BEYOND_CHROMADB: dict[str, tuple[Build, dict[str, Any]]] = {
    "knn query str": (
        lambda m: m.Rank.from_dict({"$knn": {"query": "fox"}}).to_dict(),
        {"$knn": {"query": "fox", "key": "#embedding", "limit": 16}},
    ),
    "search rank dict with a text query": (
        lambda m: m.Search(rank={"$knn": {"query": "fox", "limit": 3}}).to_dict()["rank"],
        {"$knn": {"query": "fox", "key": "#embedding", "limit": 3}},
    ),
    "search select list of keys": (
        lambda m: m.Search(select=[m.K.DOCUMENT]).to_dict()["select"],
        {"keys": ["#document"]},
    ),
    "search select list of keys and names": (
        lambda m: unordered_selection(
            m.Search(select=[m.K.SCORE, "author", m.K.METADATA]).to_dict()["select"]
        ),
        {"keys": ["#metadata", "#score", "author"]},
    ),
}


@pytest.mark.parametrize("name", sorted(ACCEPTED_BEYOND_CHROMADB))
def test_what_the_pages_write_is_accepted_where_chromadb_refuses_it(name: str) -> None:
    build, wire = ACCEPTED_BEYOND_CHROMADB[name]
    assert outcome(lambda: build(AZURITE)) == ("gives", json.dumps(wire))
    theirs = outcome(lambda: build(CHROMA))
    assert theirs[0] == "raises" and theirs[1] is TypeError


def test_a_select_list_takes_only_keys_and_names() -> None:
    for m in (AZURITE, CHROMA):
        with pytest.raises(TypeError, match="Select key must be a string, got int"):
            m.Search(select=["#document", 3])


@pytest.mark.parametrize("name", sorted(BAD_RRF))
def test_rrf_is_checked_when_serialized_not_when_built(name: str) -> None:
    """chromadb builds any Rrf and refuses a bad one only when it is serialized; Azurite
    refuses at the same moment, so code that builds one ahead of time runs the same."""
    for m in (AZURITE, CHROMA):
        rrf = BAD_RRF[name](m)
        with pytest.raises(ValueError):
            rrf.to_dict()


# ---- random expressions, built the same way in both libraries

FIELDS = st.sampled_from(["genre", "year", "#id", "tags"])
SCALARS = st.one_of(
    st.integers(-5, 5),
    st.floats(-10, 10, allow_nan=False, width=32),
    st.text(max_size=4),
    st.booleans(),
)
COMPARISONS = {
    "==": lambda key, value: key == value,
    "!=": lambda key, value: key != value,
    ">": lambda key, value: key > value,
    ">=": lambda key, value: key >= value,
    "<": lambda key, value: key < value,
    "<=": lambda key, value: key <= value,
}

WHERE_RECIPES = st.recursive(
    st.one_of(
        st.tuples(st.just("compare"), st.sampled_from(sorted(COMPARISONS)), FIELDS, SCALARS),
        st.tuples(st.sampled_from(["is_in", "not_in"]), FIELDS, st.lists(SCALARS, max_size=3)),
        st.tuples(
            st.sampled_from(["contains", "not_contains", "regex", "not_regex"]),
            st.sampled_from(["#document", "tags"]),
            st.text(min_size=1, max_size=4),
        ),
    ),
    lambda children: st.tuples(st.sampled_from(["&", "|"]), children, children),
    max_leaves=6,
)


def build_where(m: SimpleNamespace, recipe: tuple[Any, ...]) -> Any:
    kind = recipe[0]
    if kind == "compare":
        return COMPARISONS[recipe[1]](m.K(recipe[2]), recipe[3])
    if kind in ("&", "|"):
        left, right = build_where(m, recipe[1]), build_where(m, recipe[2])
        return left & right if kind == "&" else left | right
    return getattr(m.K(recipe[1]), kind)(recipe[2])


EXACT_FLOATS = st.integers(-16, 16).map(lambda n: n / 4)
KNN_RECIPES = st.tuples(
    st.just("knn"),
    st.one_of(
        st.tuples(st.just("list"), st.lists(EXACT_FLOATS, min_size=1, max_size=4)),
        st.tuples(
            st.sampled_from(["float32", "float64", "int32"]),
            st.lists(st.integers(-3, 3), min_size=1, max_size=4),
        ),
        st.tuples(st.just("sparse"), st.sets(st.integers(0, 50), max_size=4)),
        st.tuples(st.just("text"), st.text(max_size=6)),
    ),
    st.sampled_from([None, "Key", "#embedding", "sparse_embedding"]),
    st.integers(1, 50),
    st.one_of(st.none(), EXACT_FLOATS),
    st.booleans(),
)
NUMBERS = st.one_of(st.integers(-3, 3), EXACT_FLOATS)
RANK_RECIPES = st.recursive(
    st.one_of(KNN_RECIPES, st.tuples(st.just("val"), NUMBERS)),
    lambda children: st.one_of(
        st.tuples(st.sampled_from(["+", "-", "*", "/", "max", "min"]), children, children),
        st.tuples(
            st.sampled_from(["+", "-", "*", "/", "max", "min"]),
            children,
            st.tuples(st.just("number"), NUMBERS),
        ),
        st.tuples(st.sampled_from(["r+", "r-", "r*", "r/"]), NUMBERS, children),
        st.tuples(st.sampled_from(["neg", "abs", "abs()", "exp", "log"]), children),
        st.tuples(
            st.just("rrf"),
            st.lists(children, max_size=3),
            st.integers(-1, 100),
            st.one_of(st.none(), st.lists(st.sampled_from([-1.0, 0.0, 0.5, 1, 2.0]), max_size=3)),
            st.booleans(),
        ),
    ),
    max_leaves=6,
)

BINARY = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "max": lambda a, b: a.max(b),
    "min": lambda a, b: a.min(b),
}
UNARY = {
    "neg": lambda a: -a,
    "abs": abs,
    "abs()": lambda a: a.abs(),
    "exp": lambda a: a.exp(),
    "log": lambda a: a.log(),
}


def build_query(m: SimpleNamespace, recipe: tuple[Any, ...]) -> Any:
    kind, values = recipe
    if kind == "list":
        return list(values)
    if kind == "sparse":
        indices = sorted(values)
        return m.SparseVector(indices=indices, values=[i / 2 for i in indices])
    if kind == "text":
        return values
    return np.array(values, dtype=kind)


def build_rank(m: SimpleNamespace, recipe: tuple[Any, ...]) -> Any:
    kind = recipe[0]
    if kind == "knn":
        _, query, key, limit, default, return_rank = recipe
        options: dict[str, Any] = {"limit": limit, "default": default, "return_rank": return_rank}
        if key is not None:
            options["key"] = m.K.EMBEDDING if key == "Key" else key
        return m.Knn(query=build_query(m, query), **options)
    if kind in ("val", "number"):
        return m.Val(recipe[1]) if kind == "val" else recipe[1]
    if kind in BINARY:
        return BINARY[kind](build_rank(m, recipe[1]), build_rank(m, recipe[2]))
    if kind in ("r+", "r-", "r*", "r/"):
        number, rank = recipe[1], build_rank(m, recipe[2])
        return BINARY[kind[1:]](number, rank)
    if kind in UNARY:
        return UNARY[kind](build_rank(m, recipe[1]))
    _, ranks, k, weights, normalize = recipe
    return m.Rrf(ranks=[build_rank(m, r) for r in ranks], k=k, weights=weights, normalize=normalize)


SEARCH_RECIPES = st.tuples(
    st.one_of(st.none(), WHERE_RECIPES),
    st.one_of(st.none(), RANK_RECIPES),
    st.one_of(
        st.none(),
        st.tuples(
            st.lists(FIELDS, min_size=1, max_size=2),
            st.sampled_from(["MinK", "MaxK"]),
            st.lists(st.sampled_from(["#score", "year"]), min_size=1, max_size=2),
            st.integers(1, 5),
        ),
    ),
    st.one_of(st.none(), st.tuples(st.integers(1, 100), st.integers(0, 100))),
    st.one_of(
        st.none(),
        st.lists(st.sampled_from(["#document", "#embedding", "#score", "Key", "title"])),
    ),
    st.booleans(),
)


def build_search(m: SimpleNamespace, recipe: tuple[Any, ...]) -> Any:
    where, rank, group_by, limit, select, by_constructor = recipe
    parts: dict[str, Any] = {
        "where": None if where is None else build_where(m, where),
        "rank": None if rank is None else build_rank(m, rank),
        "group_by": None,
        "limit": None if limit is None else m.Limit(offset=limit[1], limit=limit[0]),
        "select": None,
    }
    if group_by is not None:
        keys, aggregate, by, k = group_by
        parts["group_by"] = m.GroupBy(
            keys=[m.K(key) for key in keys], aggregate=getattr(m, aggregate)(keys=by, k=k)
        )
    keys = [m.K.METADATA if key == "Key" else key for key in select or []]
    if by_constructor:
        if select is not None:
            parts["select"] = m.Select(keys=set(keys))
        return m.Search(**parts)
    search = m.Search()
    if parts["where"] is not None:
        search = search.where(parts["where"])
    if parts["rank"] is not None:
        search = search.rank(parts["rank"])
    if parts["group_by"] is not None:
        search = search.group_by(parts["group_by"])
    if limit is not None:
        search = search.limit(limit[0], offset=limit[1])
    return search if select is None else search.select(*keys)


def assert_same_everywhere(build: Callable[[SimpleNamespace], Any]) -> None:
    """Serialized, then read back, the expression gives what chromadb gives."""
    ours, theirs = build(AZURITE), build(CHROMA)
    assert outcome(ours.to_dict) == outcome(theirs.to_dict)
    try:
        wire = ours.to_dict()
    except Exception:
        return  # refused alike, checked above
    assert_read_back_as_chromadb_reads_it(
        lambda m, w: parser(m, ours if m is AZURITE else theirs)(w), wire
    )


RANDOM = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@RANDOM
@given(WHERE_RECIPES)
def test_random_conditions_are_chromadbs(recipe: tuple[Any, ...]) -> None:
    assert_same_everywhere(lambda m: build_where(m, recipe))


@RANDOM
@given(RANK_RECIPES)
def test_random_rank_expressions_are_chromadbs(recipe: tuple[Any, ...]) -> None:
    assert_same_everywhere(lambda m: build_rank(m, recipe))


@RANDOM
@given(SEARCH_RECIPES)
def test_random_searches_are_chromadbs(recipe: tuple[Any, ...]) -> None:
    assert_same_everywhere(lambda m: build_search(m, recipe))


# ---- what Rrf's wire form means


def evaluate(wire: dict[str, Any], knn_ranks: dict[str, float]) -> float:
    """The score a rank dict gives a record whose Knn ranks, by key, are `knn_ranks`."""
    ((op, operand),) = wire.items()
    if op == "$val":
        return float(operand)
    if op == "$knn":
        return knn_ranks[operand["key"]]
    if op in ("$sum", "$mul"):
        values = [evaluate(r, knn_ranks) for r in operand]
        return math.fsum(values) if op == "$sum" else math.prod(values)
    if op == "$div":
        return evaluate(operand["left"], knn_ranks) / evaluate(operand["right"], knn_ranks)
    raise AssertionError(f"Rrf's wire form holds an unexpected operator {op}")


@pytest.mark.parametrize(
    ("weights", "k", "normalize"),
    [
        (None, 60, False),
        ([0.7, 0.3, 1.0], 60, False),
        ([3.0, 1.0, 0.0], 10, False),
        ([3.0, 1.0, 4.0], 60, True),
        (None, 1, True),
    ],
)
def test_rrf_travels_as_the_fusion_formula(
    weights: list[float] | None, k: int, normalize: bool
) -> None:
    keys = ["#embedding", "sparse", "other"]
    rrf = AZURITE.Rrf(
        ranks=[AZURITE.Knn(query=[1.0], key=key, return_rank=True) for key in keys],
        k=k,
        weights=weights,
        normalize=normalize,
    )
    knn_ranks = {"#embedding": 0.0, "sparse": 4.0, "other": 15.0}
    used = weights or [1.0] * len(keys)
    if normalize:
        used = [w / sum(used) for w in used]
    expected = -sum(w / (k + knn_ranks[key]) for w, key in zip(used, keys))
    assert evaluate(rrf.to_dict(), knn_ranks) == pytest.approx(expected, rel=1e-12)


# ---- the builder


def test_builder_methods_leave_the_search_they_start_from_unchanged() -> None:
    base = AZURITE.Search(where=AZURITE.K("a") == 1)
    before = base.to_dict()
    derived = base.rank(dense(AZURITE)).limit(3).select_all().group_by(grouping(AZURITE))
    derived = derived.where(None)
    assert base.to_dict() == before
    assert derived.to_dict()["filter"] is None
    assert derived.to_dict()["limit"] == {"offset": 0, "limit": 3}


def test_search_keeps_its_parts_where_chromadbs_callers_read_them() -> None:
    knn = AZURITE.Knn(query="fox", key="sparse", limit=5, default=9.0, return_rank=True)
    where = AZURITE.K("a") == 1
    search = AZURITE.Search(where=where, rank=knn, limit=4, select=["#score"])
    assert search._where is where
    assert search._rank is knn
    assert (knn.query, knn.key, knn.limit, knn.default, knn.return_rank) == (
        "fox",
        "sparse",
        5,
        9.0,
        True,
    )
    assert (search._limit.offset, search._limit.limit) == (0, 4)
    assert [key.name for key in search._select.keys] == ["#score"]
    assert search._group_by.to_dict() == {}
    rrf = AZURITE.Rrf([knn], k=10, weights=[2.0], normalize=True)
    assert (rrf.ranks, rrf.k, rrf.weights, rrf.normalize) == ([knn], 10, [2.0], True)


# ---- the public names


def test_expression_package_exports_chromadbs_names() -> None:
    expected = sorted(chromadb.execution.expression.__all__)
    assert azurite.execution.expression.__all__ == expected
    assert azurite.search.__all__ == expected
    for name in chromadb.execution.expression.__all__:
        assert getattr(azurite.search, name) is getattr(azurite.execution.expression, name)


def test_chromadbs_top_level_search_names_are_the_expression_classes() -> None:
    for name in ("Search", "Key", "K", "Knn", "Rrf"):
        assert name in chromadb.__all__
        assert getattr(azurite, name) is getattr(azurite.execution.expression, name)


#: chromadb's executor plans for its own local segments: Azurite's engine plans in Rust.
EXECUTOR_PLANS = {
    "chromadb.execution.expression.operator": {"Scan", "Filter", "KNN", "Projection"},
    "chromadb.execution.expression.plan": {"CountPlan", "GetPlan", "KNNPlan"},
}


def defined_names(module: Any) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and getattr(value, "__module__", None) == module.__name__
        and (inspect.isclass(value) or inspect.isfunction(value))
    }


@pytest.mark.parametrize("chroma_module", sorted(EXECUTOR_PLANS))
def test_operator_and_plan_modules_define_chromadbs_names(chroma_module: str) -> None:
    theirs = importlib.import_module(chroma_module)
    ours = importlib.import_module(chroma_module.replace("chromadb", "azurite", 1))
    expected = defined_names(theirs) - EXECUTOR_PLANS[chroma_module]
    assert EXECUTOR_PLANS[chroma_module] <= defined_names(theirs)
    assert sorted(expected - defined_names(ours)) == []
    assert sorted(name for name in EXECUTOR_PLANS[chroma_module] if hasattr(ours, name)) == []
    if chroma_module.endswith("operator"):
        assert ours.K is ours.Key


CLASSES = sorted(
    name for name in chromadb.execution.expression.__all__ if name not in ("K", "SearchWhere")
)
OPERATORS = [
    "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
    "__rtruediv__", "__neg__", "__abs__", "__and__", "__or__", "__invert__", "__eq__",
    "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__hash__",
]  # fmt: skip


def comparable_default(value: Any) -> Any:
    if isinstance(value, (CHROMA.Key, AZURITE.Key)):
        return ("Key", value.name)
    if value is dataclasses.MISSING or value is inspect.Parameter.empty:
        return "no default"
    return value


def parameters(function: Any) -> list[tuple[str, Any, Any]]:
    return [
        (p.name, p.kind, comparable_default(p.default))
        for p in inspect.signature(function).parameters.values()
    ]


def fields(cls: type) -> list[tuple[str, Any, Any]]:
    return [
        (
            f.name,
            comparable_default(f.default),
            f.default_factory() if f.default_factory is not dataclasses.MISSING else None,
        )
        for f in dataclasses.fields(cls)
    ]


def defines(cls: type, name: str) -> bool:
    return getattr(cls, name, None) is not getattr(object, name, None)


@pytest.mark.parametrize("name", CLASSES)
def test_class_is_built_and_behaves_as_chromadbs(name: str) -> None:
    ours, theirs = getattr(AZURITE, name), getattr(CHROMA, name)
    assert [c.__name__ for c in ours.__mro__] == [c.__name__ for c in theirs.__mro__]
    assert parameters(ours) == parameters(theirs)
    assert dataclasses.is_dataclass(ours) == dataclasses.is_dataclass(theirs)
    if dataclasses.is_dataclass(theirs):
        assert fields(ours) == fields(theirs)
    assert {op for op in OPERATORS if defines(ours, op)} == {
        op for op in OPERATORS if defines(theirs, op)
    }
    assert (ours.__hash__ is None) == (theirs.__hash__ is None)
    methods = [
        method
        for method, value in inspect.getmembers(theirs)
        if not method.startswith("_") and callable(value) and not inspect.isclass(value)
    ]
    for method in methods:
        assert parameters(getattr(ours, method)) == parameters(getattr(theirs, method)), method
        assert isinstance(inspect.getattr_static(ours, method), staticmethod) == isinstance(
            inspect.getattr_static(theirs, method), staticmethod
        ), method


def test_reserved_keys_have_chromadbs_names() -> None:
    for reserved in ("ID", "DOCUMENT", "EMBEDDING", "METADATA", "SCORE"):
        assert getattr(AZURITE.Key, reserved).name == getattr(CHROMA.Key, reserved).name
        assert getattr(AZURITE.K, reserved) is getattr(AZURITE.Key, reserved)
