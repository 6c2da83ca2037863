"""Table-driven tests of `where` / `where_document` semantics.

Every row is (filter, expected ids) against the fixed dataset RECORDS below. Expected ids
are always listed in insertion order, which is the order `get` returns them in. Most rows
are also replayed on chromadb 1.5.9 (same data, same calls) and must return the same ids in
the same order; the only deliberate difference is a float operand compared with int
metadata (FLOAT_OPERAND_ON_INT_ROWS), which azurite compares numerically and chromadb
truncates.
"""

from __future__ import annotations

import uuid
from typing import Any

import chromadb
import numpy as np
import pytest

import azurite
from azurite.errors import InvalidArgumentError

# --------------------------------------------------------------------------- dataset
#
# Keys: s = str, i = int, f = float, b = bool, n = numeric (int in some records, float in
# others), x = one key holding values of every type, a = arrays of every element type (and
# two scalars), z and w = zeros of both signs (z with an int 0, w without), other = a key
# only r08 has.
# r05 and r15 have no metadata; r08, r13 and r15 have no document; r19's document is "".
RECORDS: list[tuple[str, dict[str, Any] | None, str | None]] = [
    (
        "r01",
        {"s": "apple", "i": 1, "f": 1.5, "b": True, "n": 1, "x": 1, "a": ["red", "green"]},
        "Hello World",
    ),
    (
        "r02",
        {"s": "banana", "i": 2, "f": 2.5, "b": False, "n": 1.0, "x": 1.0, "a": [1, 2, 3]},
        "hello world",
    ),
    (
        "r03",
        {"s": "cherry", "i": 3, "f": -0.5, "b": True, "n": 2, "x": "1", "a": [1.5, 2.0], "w": 0.0},
        "HELLO",
    ),
    (
        "r04",
        {"s": "Apple", "i": -1, "f": 0.0, "b": False, "n": 2.5, "x": True, "a": [True], "w": -0.0},
        "foo_bar",
    ),
    ("r05", None, "100%"),
    ("r06", {"s": "apple pie", "i": 0, "f": 10.0, "n": -1, "x": 0, "a": "red", "z": 0}, "a\\b"),
    ("r07", {"s": "1", "i": 10, "f": 1.0, "b": True, "x": False, "a": 1, "z": 0.0}, "fooXbar"),
    ("r08", {"other": "z"}, None),
    ("r09", {"s": "date", "i": 5, "n": 3.0, "a": ["green", "blue"], "z": -0.0}, "50 percent"),
    (
        "r10",
        {"s": "elder", "i": 2, "f": 2.0, "b": False, "n": -2.5, "a": [2, 5]},
        "The quick brown fox",
    ),
    ("r11", {"s": "fig", "f": 3.0, "a": [3], "z": -1}, "jumps over the lazy dog"),
    ("r12", {"i": 7, "w": -1.5}, "ab"),
    ("r13", {"s": "grape", "i": 4, "f": 4.5, "b": True, "n": 4, "a": ["red"]}, None),
    ("r14", {"s": "apple", "i": 1, "f": 1.5, "a": [10, 20]}, "Hello again"),
    ("r15", None, None),
    ("r16", {"s": "École", "a": [False]}, "ÉCOLE normale"),
    ("r17", {"s": "apple", "n": 1.5, "a": [1.0]}, "xy"),
    ("r18", {"s": "hello", "x": 2}, "say hello"),
    ("r19", {"i": -3, "f": -3.5}, ""),
]
IDS = [record_id for record_id, _, _ in RECORDS]
# Record number k sits at distance rank p = 7k mod 19 (a permutation of 0..18), so nearest
# neighbours come in an order unrelated to insertion order.
EMBEDDINGS = {record_id: [float(7 * k % 19), 1.0] for k, record_id in enumerate(IDS, start=1)}
Q1 = [0.0, 1.0]  # squared L2 distance p**2: nearest is r19 (p=0), farthest r08 (p=18)
Q2 = [18.0, 1.0]  # squared L2 distance (18 - p)**2: the reverse order


def all_but(*excluded: str) -> list[str]:
    """Every id except the given ones, in insertion order."""
    unknown = set(excluded) - set(IDS)
    assert not unknown, unknown
    return [record_id for record_id in IDS if record_id not in excluded]


ALL = all_but()


def fill(collection: Any) -> Any:
    collection.add(
        ids=IDS,
        embeddings=[EMBEDDINGS[record_id] for record_id in IDS],
        metadatas=[metadata for _, metadata, _ in RECORDS],
        documents=[document for _, _, document in RECORDS],
    )
    return collection


def new_collection(module: Any) -> Any:
    # All ephemeral clients of one process share one database: names must be unique.
    name = f"filters-{uuid.uuid4().hex}"
    return fill(module.EphemeralClient().create_collection(name, embedding_function=None))


@pytest.fixture(scope="module")
def az() -> Any:
    return new_collection(azurite)


@pytest.fixture(scope="module")
def ch() -> Any:
    return new_collection(chromadb)


def outcome(function: Any, *args: Any, **kwargs: Any) -> Any:
    """What a call returns, or (exception class name, message) if it raises."""
    try:
        return function(*args, **kwargs)
    except Exception as error:
        return type(error).__name__, str(error)


def get_ids(collection: Any, **kwargs: Any) -> Any:
    return outcome(lambda: collection.get(**kwargs)["ids"])


def label(value: Any) -> str:
    return repr(value)


# --------------------------------------------------------------------------- where rows

EQUALITY_ROWS = [
    # str: exact and case-sensitive
    ({"s": "apple"}, ["r01", "r14", "r17"]),
    ({"s": {"$eq": "apple"}}, ["r01", "r14", "r17"]),
    ({"s": "Apple"}, ["r04"]),
    ({"s": "appl"}, []),
    ({"s": "École"}, ["r16"]),
    ({"s": "école"}, []),
    ({"s": {"$ne": "apple"}}, all_but("r01", "r14", "r17")),
    ({"s": {"$in": ["banana", "fig", "nope"]}}, ["r02", "r11"]),
    ({"s": {"$nin": ["apple", "banana"]}}, all_but("r01", "r02", "r14", "r17")),
    ({"s": {"$gt": 0}}, []),  # numeric comparison never matches a string value
    # int
    ({"i": 2}, ["r02", "r10"]),
    ({"i": {"$eq": 2}}, ["r02", "r10"]),
    ({"i": {"$ne": 2}}, all_but("r02", "r10")),
    ({"i": {"$gt": 2}}, ["r03", "r07", "r09", "r12", "r13"]),
    ({"i": {"$gte": 2}}, ["r02", "r03", "r07", "r09", "r10", "r12", "r13"]),
    ({"i": {"$lt": 0}}, ["r04", "r19"]),
    ({"i": {"$lte": 0}}, ["r04", "r06", "r19"]),
    ({"i": {"$gt": -1}}, ["r01", "r02", "r03", "r06", "r07", "r09", "r10", "r12", "r13", "r14"]),
    ({"i": {"$in": [1, 5, 99]}}, ["r01", "r09", "r14"]),
    ({"i": {"$nin": [1, 2]}}, all_but("r01", "r02", "r10", "r14")),
    # float
    ({"f": 1.5}, ["r01", "r14"]),
    ({"f": {"$eq": 4.5}}, ["r13"]),
    ({"f": {"$ne": 1.5}}, all_but("r01", "r14")),
    ({"f": {"$gt": 2.0}}, ["r02", "r06", "r11", "r13"]),
    ({"f": {"$gte": 2.0}}, ["r02", "r06", "r10", "r11", "r13"]),
    ({"f": {"$lt": 0.0}}, ["r03", "r19"]),
    ({"f": {"$lte": 0.0}}, ["r03", "r04", "r19"]),
    ({"f": {"$lt": -0.5}}, ["r19"]),
    ({"f": {"$in": [0.0, 4.5]}}, ["r04", "r13"]),
    ({"f": {"$nin": [1.5, 2.5]}}, all_but("r01", "r02", "r14")),
    # bool
    ({"b": True}, ["r01", "r03", "r07", "r13"]),
    ({"b": {"$eq": False}}, ["r02", "r04", "r10"]),
    ({"b": {"$ne": True}}, all_but("r01", "r03", "r07", "r13")),
    ({"b": {"$in": [False]}}, ["r02", "r04", "r10"]),
    ({"b": {"$nin": [True, False]}}, all_but("r01", "r02", "r03", "r04", "r07", "r10", "r13")),
]

TYPE_ROWS = [
    # int and float are one numeric type: int 1 == float 1.0 in both directions
    ({"n": 1}, ["r01", "r02"]),
    ({"n": 1.0}, ["r01", "r02"]),
    ({"n": {"$eq": 2.0}}, ["r03"]),
    ({"n": {"$gt": 1}}, ["r03", "r04", "r09", "r13", "r17"]),
    ({"n": {"$gte": 2}}, ["r03", "r04", "r09", "r13"]),
    ({"n": {"$lt": 2}}, ["r01", "r02", "r06", "r10", "r17"]),
    ({"n": {"$lte": 1.0}}, ["r01", "r02", "r06", "r10"]),
    ({"n": {"$in": [2, 3]}}, ["r03", "r09"]),
    ({"n": {"$in": [1.0, 3.0]}}, ["r01", "r02", "r09"]),
    ({"n": {"$ne": 3}}, all_but("r09")),
    ({"n": {"$nin": [1]}}, all_but("r01", "r02")),
    ({"f": 1}, ["r07"]),
    ({"f": 10}, ["r06"]),
    ({"f": {"$gt": 2}}, ["r02", "r06", "r11", "r13"]),
    ({"i": 2.0}, ["r02", "r10"]),
    ({"i": {"$lte": 1.0}}, ["r01", "r04", "r06", "r14", "r19"]),
    # x holds 1, 1.0, "1", True, 0, False, 2: bool is never a number, "1" is never 1
    ({"x": 1}, ["r01", "r02"]),
    ({"x": 1.0}, ["r01", "r02"]),
    ({"x": "1"}, ["r03"]),
    ({"x": True}, ["r04"]),
    ({"x": 0}, ["r06"]),
    ({"x": False}, ["r07"]),
    ({"x": {"$ne": 1}}, all_but("r01", "r02")),
    ({"x": {"$ne": "1"}}, all_but("r03")),
    ({"x": {"$ne": True}}, all_but("r04")),
    ({"x": {"$in": [1, 2]}}, ["r01", "r02", "r18"]),
    ({"x": {"$in": ["1", "2"]}}, ["r03"]),
    ({"x": {"$in": [True]}}, ["r04"]),
    ({"x": {"$nin": [0, 1]}}, all_but("r01", "r02", "r06")),
    ({"x": {"$gt": 0}}, ["r01", "r02", "r18"]),
    ({"x": {"$gte": 0}}, ["r01", "r02", "r06", "r18"]),
    ({"x": {"$lt": 1}}, ["r06"]),
    ({"x": {"$lte": 1.0}}, ["r01", "r02", "r06"]),
    ({"x": {"$gt": 0.5}}, ["r01", "r02", "r18"]),
    ({"b": 1}, []),
    ({"b": {"$in": [1, 0]}}, []),
    ({"b": {"$ne": 1}}, ALL),
]

# z holds int 0 (r06), float 0.0 (r07), float -0.0 (r09) and int -1 (r11); w holds float
# 0.0 (r03), float -0.0 (r04) and -1.5 (r12). Numerically -0.0 == 0.0 == 0 (IEEE 754 and
# SQLite agree), so all zeros are one value.
NEGATIVE_ZERO_ROWS = [
    ({"w": 0.0}, ["r03", "r04"]),
    ({"w": -0.0}, ["r03", "r04"]),
    ({"w": 0}, ["r03", "r04"]),
    ({"w": {"$in": [0.0]}}, ["r03", "r04"]),
    ({"w": {"$gte": -0.0}}, ["r03", "r04"]),
    ({"w": {"$gt": -1}}, ["r03", "r04"]),
    ({"w": {"$lt": 0.0}}, ["r12"]),
    ({"w": {"$lte": 0}}, ["r03", "r04", "r12"]),
    ({"w": {"$ne": 0}}, all_but("r03", "r04")),
    ({"w": {"$nin": [-0.0]}}, all_but("r03", "r04")),
    ({"z": 0}, ["r06", "r07", "r09"]),
    ({"z": 0.0}, ["r06", "r07", "r09"]),
    ({"z": -0.0}, ["r06", "r07", "r09"]),
    ({"z": {"$in": [-0.0]}}, ["r06", "r07", "r09"]),
    ({"z": {"$gte": 0}}, ["r06", "r07", "r09"]),
    ({"z": {"$gt": -1}}, ["r06", "r07", "r09"]),
    ({"z": {"$lt": 0.0}}, ["r11"]),
    ({"z": {"$lte": -0.0}}, ["r06", "r07", "r09", "r11"]),
    ({"z": {"$ne": 0.0}}, all_but("r06", "r07", "r09")),
    ({"z": {"$nin": [0]}}, all_but("r06", "r07", "r09")),
]

MISSING_KEY_ROWS = [
    # only $ne, $nin and $not_contains match records without the key / without metadata
    ({"other": "z"}, ["r08"]),
    ({"other": {"$ne": "z"}}, all_but("r08")),
    ({"nokey": "v"}, []),
    ({"nokey": {"$eq": 1}}, []),
    ({"nokey": {"$gt": 0}}, []),
    ({"nokey": {"$gte": 0}}, []),
    ({"nokey": {"$lt": 0}}, []),
    ({"nokey": {"$lte": 0}}, []),
    ({"nokey": {"$in": ["v"]}}, []),
    ({"nokey": {"$contains": "v"}}, []),
    ({"nokey": {"$ne": "v"}}, ALL),
    ({"nokey": {"$nin": [1, 2]}}, ALL),
    ({"nokey": {"$not_contains": "v"}}, ALL),
]

ARRAY_ROWS = [
    # $contains: element equality with the same element type; scalars never match
    ({"a": {"$contains": "red"}}, ["r01", "r13"]),
    ({"a": {"$contains": "green"}}, ["r01", "r09"]),
    ({"a": {"$contains": "blue"}}, ["r09"]),
    ({"a": {"$contains": "gre"}}, []),
    ({"a": {"$contains": 1}}, ["r02"]),
    ({"a": {"$contains": 2}}, ["r02", "r10"]),
    ({"a": {"$contains": 10}}, ["r14"]),
    ({"a": {"$contains": 1.0}}, ["r17"]),
    ({"a": {"$contains": 2.0}}, ["r03"]),
    ({"a": {"$contains": 1.5}}, ["r03"]),
    ({"a": {"$contains": True}}, ["r04"]),
    ({"a": {"$contains": False}}, ["r16"]),
    ({"a": {"$contains": "1"}}, []),
    ({"s": {"$contains": "apple"}}, []),
    ({"i": {"$contains": 1}}, []),
    ({"a": {"$not_contains": "red"}}, all_but("r01", "r13")),
    ({"a": {"$not_contains": 1}}, all_but("r02")),
    ({"a": {"$not_contains": True}}, all_but("r04")),
    ({"i": {"$not_contains": 1}}, ALL),
    # arrays are invisible to the scalar operators
    ({"a": "red"}, ["r06"]),
    ({"a": 1}, ["r07"]),
    ({"a": True}, []),
    ({"a": {"$in": ["red", "green", "blue"]}}, ["r06"]),
    ({"a": {"$gt": 0}}, ["r07"]),
    ({"a": {"$ne": "red"}}, all_but("r06")),
    ({"a": {"$nin": [1]}}, all_but("r07")),
]

LOGICAL_ROWS = [
    ({"$and": [{"s": "apple"}, {"i": 1}]}, ["r01", "r14"]),
    ({"$and": [{"s": "apple"}, {"s": "banana"}]}, []),
    ({"$and": [{"i": {"$gte": 1}}, {"i": {"$lt": 3}}]}, ["r01", "r02", "r10", "r14"]),
    ({"$or": [{"s": "banana"}, {"i": {"$gt": 6}}]}, ["r02", "r07", "r12"]),
    ({"$or": [{"nokey": 1}, {"other": {"$eq": "z"}}]}, ["r08"]),
    ({"$or": [{"s": "fig"}, {"i": 7}, {"x": "1"}]}, ["r03", "r11", "r12"]),
    (
        {"$and": [{"b": True}, {"i": {"$gt": 1}}, {"f": {"$lt": 4}}]},
        ["r03", "r07"],
    ),
    (
        {
            "$and": [
                {"$or": [{"b": True}, {"f": {"$lt": 0}}]},
                {
                    "$or": [
                        {"s": {"$in": ["apple", "cherry"]}},
                        {"$and": [{"i": {"$gt": -5}}, {"i": {"$lt": 0}}]},
                    ]
                },
            ]
        },
        ["r01", "r03", "r19"],
    ),
    (
        {
            "$or": [
                {"$and": [{"a": {"$contains": "red"}}, {"b": True}]},
                {"$and": [{"x": {"$ne": 1}}, {"$or": [{"n": {"$lt": 0}}, {"i": 7}]}]},
            ]
        },
        ["r01", "r06", "r10", "r12", "r13"],
    ),
    (
        {"$or": [{"$and": [{"$or": [{"i": 1}, {"i": 2}]}, {"b": {"$ne": True}}]}, {"s": "fig"}]},
        ["r02", "r10", "r11", "r14"],
    ),
]

DOCUMENT_IN_WHERE_ROWS = [
    ({"#document": {"$contains": "hello"}}, ["r02", "r18"]),
    ({"#document": {"$contains": "_"}}, ["r04"]),
    (
        {"#document": {"$not_contains": "o"}},
        ["r03", "r05", "r06", "r08", "r09", "r12", "r13", "r15", "r17", "r19"],
    ),
    ({"$and": [{"#document": {"$contains": "Hello"}}, {"s": "apple"}]}, ["r01", "r14"]),
    ({"$or": [{"#document": {"$contains": "fox"}}, {"i": 7}]}, ["r10", "r12"]),
]

WHERE_ROWS = (
    EQUALITY_ROWS
    + TYPE_ROWS
    + NEGATIVE_ZERO_ROWS
    + MISSING_KEY_ROWS
    + ARRAY_ROWS
    + LOGICAL_ROWS
    + DOCUMENT_IN_WHERE_ROWS
)

# The ONE deliberate difference from chromadb: a float operand against int metadata.
# azurite compares numerically (int 1 is not 1.5, and 1 < 1.5); chromadb 1.5.9 truncates
# the operand toward zero for the int column (1.5 -> 1, -0.5 -> 0).
# Rows: (where, azurite ids, chromadb ids). i holds ints only; n mixes ints and floats.
FLOAT_OPERAND_ON_INT_ROWS = [
    ({"i": {"$eq": 1.5}}, [], ["r01", "r14"]),
    ({"i": {"$in": [1.5, 4.5]}}, [], ["r01", "r13", "r14"]),
    ({"i": {"$ne": 1.5}}, ALL, all_but("r01", "r14")),
    ({"i": {"$nin": [1.5]}}, ALL, all_but("r01", "r14")),
    ({"i": {"$lt": 1.5}}, ["r01", "r04", "r06", "r14", "r19"], ["r04", "r06", "r19"]),
    (
        {"i": {"$gte": 1.5}},
        ["r02", "r03", "r07", "r09", "r10", "r12", "r13"],
        ["r01", "r02", "r03", "r07", "r09", "r10", "r12", "r13", "r14"],
    ),
    (
        {"i": {"$gt": -0.5}},
        ["r01", "r02", "r03", "r06", "r07", "r09", "r10", "r12", "r13", "r14"],
        ["r01", "r02", "r03", "r07", "r09", "r10", "r12", "r13", "r14"],
    ),
    ({"i": {"$lte": -0.5}}, ["r04", "r19"], ["r04", "r06", "r19"]),
    ({"n": 1.5}, ["r17"], ["r01", "r17"]),
    ({"n": {"$in": [1.0, 2.5]}}, ["r01", "r02", "r04"], ["r01", "r02", "r03", "r04"]),
    ({"x": {"$lt": 0.5}}, ["r06"], []),
]


@pytest.mark.parametrize(("where", "expected"), WHERE_ROWS, ids=label)
def test_where(az: Any, where: dict[str, Any], expected: list[str]) -> None:
    assert get_ids(az, where=where) == expected


@pytest.mark.parametrize(("where", "expected"), WHERE_ROWS, ids=label)
def test_where_parity_with_chromadb(az: Any, ch: Any, where: dict[str, Any], expected: Any) -> None:
    assert get_ids(az, where=where) == get_ids(ch, where=where)


@pytest.mark.parametrize(
    ("where", "azurite_expected", "chromadb_expected"), FLOAT_OPERAND_ON_INT_ROWS, ids=label
)
def test_float_operand_on_int_metadata_is_numeric(
    az: Any, ch: Any, where: dict[str, Any], azurite_expected: Any, chromadb_expected: Any
) -> None:
    # Deliberate difference: azurite's answer is the numerically correct one; chromadb's is
    # pinned too so that the table keeps documenting what the difference is.
    assert azurite_expected != chromadb_expected
    assert get_ids(az, where=where) == azurite_expected
    assert get_ids(ch, where=where) == chromadb_expected


# --------------------------------------------------------------------------- where_document rows

WHERE_DOCUMENT_ROWS = [
    # $contains: case-sensitive substring; % _ \ are literal
    ({"$contains": "hello"}, ["r02", "r18"]),
    ({"$contains": "Hello"}, ["r01", "r14"]),
    ({"$contains": "HELLO"}, ["r03"]),
    ({"$contains": "ÉCOLE"}, ["r16"]),
    ({"$contains": "école"}, []),
    ({"$contains": "_"}, ["r04"]),
    ({"$contains": "o_b"}, ["r04"]),
    ({"$contains": "%"}, ["r05"]),
    ({"$contains": "0%"}, ["r05"]),
    ({"$contains": "\\"}, ["r06"]),
    ({"$contains": "a\\b"}, ["r06"]),
    ({"$contains": "xy"}, ["r17"]),
    ({"$contains": "o"}, ["r01", "r02", "r04", "r07", "r10", "r11", "r14", "r16", "r18"]),
    ({"$contains": "Hello World!"}, []),
    # $not_contains: records without a document match
    ({"$not_contains": "hello"}, all_but("r02", "r18")),
    (
        {"$not_contains": "o"},
        ["r03", "r05", "r06", "r08", "r09", "r12", "r13", "r15", "r17", "r19"],
    ),
    ({"$not_contains": "%"}, all_but("r05")),
    # $regex: unanchored search, case-sensitive unless (?i)
    ({"$regex": "hello"}, ["r02", "r18"]),
    ({"$regex": "(?i)hello"}, ["r01", "r02", "r03", "r14", "r18"]),
    ({"$regex": "(?i)h(?-i)ELLO"}, ["r03"]),
    ({"$regex": "(?i)école"}, ["r16"]),
    ({"$regex": "^h"}, ["r02"]),
    ({"$regex": "^H"}, ["r01", "r03", "r14"]),
    ({"$regex": "d$"}, ["r01", "r02"]),
    ({"$regex": "^(?i)hello$"}, ["r03"]),
    ({"$regex": "^$"}, ["r19"]),
    ({"$regex": "fo+.bar"}, ["r04", "r07"]),
    ({"$regex": "[0-9]+%"}, ["r05"]),
    ({"$regex": "\\\\"}, ["r06"]),
    ({"$regex": "a.b"}, ["r06"]),
    ({"$regex": "\\bhello\\b"}, ["r02", "r18"]),
    # $not_regex: records without a document match
    ({"$not_regex": "(?i)hello"}, all_but("r01", "r02", "r03", "r14", "r18")),
    (
        {"$not_regex": "^[a-z]"},
        ["r01", "r03", "r05", "r08", "r09", "r10", "r13", "r14", "r15", "r16", "r19"],
    ),
    # logical
    (
        {"$and": [{"$contains": "o"}, {"$not_contains": "Hello"}]},
        ["r02", "r04", "r07", "r10", "r11", "r16", "r18"],
    ),
    ({"$or": [{"$contains": "HELLO"}, {"$contains": "foo"}]}, ["r03", "r04", "r07"]),
    ({"$and": [{"$regex": "^[a-z]"}, {"$not_regex": "o"}, {"$contains": "b"}]}, ["r06", "r12"]),
    (
        {
            "$or": [
                {"$and": [{"$regex": "^[A-Z]"}, {"$not_contains": "World"}]},
                {"$and": [{"$contains": "o"}, {"$or": [{"$regex": "x$"}, {"$contains": "lazy"}]}]},
            ]
        },
        ["r03", "r10", "r11", "r14"],
    ),
]


@pytest.mark.parametrize(("where_document", "expected"), WHERE_DOCUMENT_ROWS, ids=label)
def test_where_document(az: Any, where_document: dict[str, Any], expected: list[str]) -> None:
    assert get_ids(az, where_document=where_document) == expected


@pytest.mark.parametrize(("where_document", "expected"), WHERE_DOCUMENT_ROWS, ids=label)
def test_where_document_parity_with_chromadb(
    az: Any, ch: Any, where_document: dict[str, Any], expected: Any
) -> None:
    assert get_ids(az, where_document=where_document) == get_ids(ch, where_document=where_document)


# --------------------------------------------------------------------------- get: ids + where + where_document, limit/offset

GET_ROWS = [
    # ids only restrict (their order is not honoured), unknown ids are ignored
    (
        {
            "ids": ["r14", "r01", "r02", "r13", "r18"],
            "where": {"s": {"$ne": "banana"}},
            "where_document": {"$contains": "ello"},
        },
        ["r01", "r14", "r18"],
    ),
    ({"ids": ["r15", "r08"], "where_document": {"$not_contains": "x"}}, ["r08", "r15"]),
    ({"ids": ["r99", "r14", "r01"], "where": {"i": 1}}, ["r01", "r14"]),
    ({"ids": ["r05"], "where": {"i": 1}}, []),
    ({"where": {"b": True}, "where_document": {"$regex": "^H"}}, ["r01", "r03"]),
    (
        {"where": {"#document": {"$contains": "o"}}, "where_document": {"$contains": "e"}},
        ["r01", "r02", "r10", "r11", "r14", "r16", "r18"],
    ),
    # limit/offset apply after filtering, over insertion order
    ({"where": {"s": {"$ne": "apple"}}, "limit": 3}, ["r02", "r03", "r04"]),
    ({"where": {"s": {"$ne": "apple"}}, "limit": 3, "offset": 2}, ["r04", "r05", "r06"]),
    ({"where": {"s": {"$ne": "apple"}}, "limit": 10, "offset": 14}, ["r18", "r19"]),
    ({"where": {"s": {"$ne": "apple"}}, "limit": 5, "offset": 16}, []),
    ({"where": {"s": {"$ne": "apple"}}, "limit": 0}, []),
    ({"where": {"b": True}, "offset": 3}, ["r13"]),
    ({"where_document": {"$contains": "o"}, "limit": 2, "offset": 1}, ["r02", "r04"]),
    (
        {"ids": ["r19", "r01", "r10", "r02"], "where": {"i": {"$gte": 2}}, "limit": 1, "offset": 1},
        ["r10"],
    ),
]


@pytest.mark.parametrize(("kwargs", "expected"), GET_ROWS, ids=label)
def test_get_combined(az: Any, kwargs: dict[str, Any], expected: list[str]) -> None:
    assert get_ids(az, **kwargs) == expected


@pytest.mark.parametrize(("kwargs", "expected"), GET_ROWS, ids=label)
def test_get_combined_parity_with_chromadb(
    az: Any, ch: Any, kwargs: dict[str, Any], expected: Any
) -> None:
    assert get_ids(az, **kwargs) == get_ids(ch, **kwargs)


# --------------------------------------------------------------------------- query

# (filters, n_results, every matching id, nearest to Q1, nearest to Q2)
QUERY_ROWS = [
    ({"where": {"s": "apple"}}, 2, ["r01", "r14", "r17"], ["r14", "r17"], ["r01", "r17"]),
    (
        {"where": {"b": True}},
        10,
        ["r01", "r03", "r07", "r13"],
        ["r03", "r01", "r07", "r13"],
        ["r13", "r07", "r01", "r03"],
    ),
    (
        {"where_document": {"$contains": "o"}},
        3,
        ["r01", "r02", "r04", "r07", "r10", "r11", "r14", "r16", "r18"],
        ["r11", "r14", "r01"],
        ["r16", "r02", "r10"],
    ),
    ({"where": {"i": {"$gt": 100}}}, 5, [], [], []),
    (
        {"where": {"a": {"$not_contains": "red"}}, "where_document": {"$not_contains": "o"}},
        4,
        ["r03", "r05", "r06", "r08", "r09", "r12", "r15", "r17", "r19"],
        ["r19", "r03", "r06", "r17"],
        ["r08", "r05", "r15", "r12"],
    ),
    (
        {"ids": ["r04", "r03", "r02", "r01"], "where": {"n": {"$gte": 1}}},
        2,
        ["r01", "r02", "r03", "r04"],
        ["r03", "r01"],
        ["r02", "r04"],
    ),
    (
        {"where": {"$or": [{"i": {"$lt": 0}}, {"f": {"$gt": 4}}]}},
        19,
        ["r04", "r06", "r13", "r19"],
        ["r19", "r06", "r04", "r13"],
        ["r13", "r04", "r06", "r19"],
    ),
]


def squared_l2(a: list[float], b: list[float]) -> float:
    return float(np.sum((np.asarray(a) - np.asarray(b)) ** 2))


def test_query_vectors_have_distinct_distances() -> None:
    for query in (Q1, Q2):
        distances = [squared_l2(EMBEDDINGS[record_id], query) for record_id in IDS]
        assert len(set(distances)) == len(IDS)


@pytest.mark.parametrize(
    ("filters", "n_results", "matching", "nearest_q1", "nearest_q2"), QUERY_ROWS, ids=label
)
def test_query_returns_nearest_matches(
    az: Any,
    filters: dict[str, Any],
    n_results: int,
    matching: list[str],
    nearest_q1: list[str],
    nearest_q2: list[str],
) -> None:
    # The table itself: `matching` is what get returns, the nearest lists are brute force.
    assert get_ids(az, **filters) == matching
    for query, nearest in ((Q1, nearest_q1), (Q2, nearest_q2)):
        assert (
            nearest == sorted(matching, key=lambda i: squared_l2(EMBEDDINGS[i], query))[:n_results]
        )

    result = az.query(
        query_embeddings=[Q1, Q2], n_results=n_results, include=["distances"], **filters
    )
    assert result["ids"] == [nearest_q1, nearest_q2]
    for query, nearest, distances in zip((Q1, Q2), result["ids"], result["distances"]):
        assert distances == pytest.approx([squared_l2(EMBEDDINGS[i], query) for i in nearest])


@pytest.mark.parametrize(
    ("filters", "n_results", "matching", "nearest_q1", "nearest_q2"), QUERY_ROWS, ids=label
)
def test_query_parity_with_chromadb(
    az: Any,
    ch: Any,
    filters: dict[str, Any],
    n_results: int,
    matching: Any,
    nearest_q1: Any,
    nearest_q2: Any,
) -> None:
    def ids(collection: Any) -> Any:
        return outcome(
            lambda: collection.query(query_embeddings=[Q1, Q2], n_results=n_results, **filters)[
                "ids"
            ]
        )

    assert ids(az) == ids(ch)


# --------------------------------------------------------------------------- delete

# (delete kwargs, the ids it deletes)
DELETE_ROWS = [
    ({"where": {"s": "apple"}}, ["r01", "r14", "r17"]),
    ({"where": {"s": {"$ne": "apple"}}, "limit": 2}, ["r02", "r03"]),
    ({"where": {"nokey": {"$ne": 1}}, "limit": 5}, ["r01", "r02", "r03", "r04", "r05"]),
    (
        {"where": {"b": {"$ne": True}}, "where_document": {"$contains": "o"}, "limit": 3},
        ["r02", "r04", "r10"],
    ),
    (
        {"where_document": {"$not_contains": "o"}},
        ["r03", "r05", "r06", "r08", "r09", "r12", "r13", "r15", "r17", "r19"],
    ),
    ({"where_document": {"$not_contains": "o"}, "limit": 0}, []),
    ({"ids": ["r01", "r02", "r03", "r99"], "where": {"b": True}}, ["r01", "r03"]),
    ({"where": {"i": {"$gt": 100}}}, []),
]


@pytest.mark.parametrize(("kwargs", "deleted"), DELETE_ROWS, ids=label)
def test_delete_with_filter(kwargs: dict[str, Any], deleted: list[str]) -> None:
    collection = new_collection(azurite)
    assert collection.delete(**kwargs) == {"deleted": len(deleted)}
    assert collection.get()["ids"] == all_but(*deleted)
    assert collection.count() == len(IDS) - len(deleted)


@pytest.mark.parametrize(("kwargs", "deleted"), DELETE_ROWS, ids=label)
def test_delete_parity_with_chromadb(kwargs: dict[str, Any], deleted: Any) -> None:
    def observe(module: Any) -> Any:
        collection = new_collection(module)
        return outcome(collection.delete, **kwargs), collection.get()["ids"]

    assert observe(azurite) == observe(chromadb)


# --------------------------------------------------------------------------- validation (Python layer)

# The Python layer's `where` rules: (where, ValueError message without the " in <method>."
# suffix)
WHERE_VALIDATION_ROWS = [
    ("x", "Expected where to be a dict, got x"),
    (["x"], "Expected where to be a dict, got ['x']"),
    ({}, "Expected where to have exactly one operator, got {}"),
    ({"a": 1, "b": 2}, "Expected where to have exactly one operator, got {'a': 1, 'b': 2}"),
    ({1: "x"}, "Expected where key to be a str, got 1"),
    (
        {"$contains": "x"},
        "Expected where key to be a metadata field name or a logical operator ($and, $or), got $contains",
    ),
    (
        {"$not_contains": "x"},
        "Expected where key to be a metadata field name or a logical operator ($and, $or), got $not_contains",
    ),
    ({"x": None}, "Expected where value to be a str, int, float, or operator expression, got None"),
    (
        {"x": [1, 2]},
        "Expected where value to be a str, int, float, or operator expression, got [1, 2]",
    ),
    (
        {"$and": {"x": 1}},
        "Expected where value for $and or $or to be a list of where expressions, got {'x': 1}",
    ),
    ({"$or": "x"}, "Expected where value for $and or $or to be a list of where expressions, got x"),
    (
        {"$and": [{"x": 1}]},
        "Expected where value for $and or $or to be a list with at least two where expressions, got [{'x': 1}]",
    ),
    (
        {"$or": []},
        "Expected where value for $and or $or to be a list with at least two where expressions, got []",
    ),
    ({"x": {}}, "Expected operator expression to have exactly one operator, got {}"),
    (
        {"x": {"$gt": 1, "$lt": 5}},
        "Expected operator expression to have exactly one operator, got {'$gt': 1, '$lt': 5}",
    ),
    ({"x": {"$gt": "a"}}, "Expected operand value to be an int or a float for operator $gt, got a"),
    (
        {"x": {"$gte": None}},
        "Expected operand value to be an int or a float for operator $gte, got None",
    ),
    (
        {"x": {"$lt": [1]}},
        "Expected operand value to be an int or a float for operator $lt, got [1]",
    ),
    (
        {"x": {"$lte": "1"}},
        "Expected operand value to be an int or a float for operator $lte, got 1",
    ),
    ({"x": {"$in": 1}}, "Expected operand value to be an list for operator $in, got 1"),
    ({"x": {"$nin": "abc"}}, "Expected operand value to be an list for operator $nin, got abc"),
    (
        {"#document": {"$contains": 5}},
        "Expected operand value to be a str for operator $contains on #document, got 5",
    ),
    (
        {"#document": {"$not_contains": None}},
        "Expected operand value to be a str for operator $not_contains on #document, got None",
    ),
    (
        {"x": {"$contains": [1]}},
        "Expected operand value to be a str, int, float, or bool for operator $contains, got [1]",
    ),
    (
        {"x": {"$not_contains": None}},
        "Expected operand value to be a str, int, float, or bool for operator $not_contains, got None",
    ),
    (
        {"x": {"$regex": "a"}},
        "Expected where operator to be one of $gt, $gte, $lt, $lte, $ne, $eq, $in, $nin, $contains, $not_contains, got $regex",
    ),
    (
        {"#document": {"$regex": "a"}},
        "Expected where operator to be one of $gt, $gte, $lt, $lte, $ne, $eq, $in, $nin, $contains, $not_contains, got $regex",
    ),
    (
        {"x": {"$and": [{"y": 1}, {"z": 2}]}},
        "Expected where operator to be one of $gt, $gte, $lt, $lte, $ne, $eq, $in, $nin, $contains, $not_contains, got $and",
    ),
    (
        {"x": {"$eq": None}},
        "Expected where operand value to be a str, int, float, bool, or list of those type, got None",
    ),
    (
        {"x": {"$ne": {"y": 1}}},
        "Expected where operand value to be a str, int, float, bool, or list of those type, got {'y': 1}",
    ),
    (
        {"x": {"$in": []}},
        "Expected where operand value to be a non-empty list, and all values to be of the same type got []",
    ),
    (
        {"x": {"$in": [1, 1.5]}},
        "Expected where operand value to be a non-empty list, and all values to be of the same type got [1, 1.5]",
    ),
    (
        {"x": {"$nin": ["a", 1]}},
        "Expected where operand value to be a non-empty list, and all values to be of the same type got ['a', 1]",
    ),
    (
        {"$and": [{"x": 1}, {"$or": [{"y": None}, {"z": 1}]}]},
        "Expected where value to be a str, int, float, or operator expression, got None",
    ),
]

# The Python layer's `where_document` rules: (where_document, ValueError message)
WHERE_DOCUMENT_VALIDATION_ROWS = [
    ("x", "Expected where document to be a dictionary, got x"),
    ({}, "Expected where document to have exactly one operator, got {}"),
    (
        {"$contains": "a", "$regex": "b"},
        "Expected where document to have exactly one operator, got {'$contains': 'a', '$regex': 'b'}",
    ),
    (
        {"$eq": "a"},
        "Expected where document operator to be one of $contains, $not_contains, $regex, $not_regex, $and, $or, got $eq",
    ),
    (
        {"contains": "a"},
        "Expected where document operator to be one of $contains, $not_contains, $regex, $not_regex, $and, $or, got contains",
    ),
    (
        {"$and": {"$contains": "a"}},
        "Expected document value for $and or $or to be a list of where document expressions, got {'$contains': 'a'}",
    ),
    (
        {"$or": [{"$contains": "a"}]},
        "Expected document value for $and or $or to be a list with at least two where document expressions, got [{'$contains': 'a'}]",
    ),
    (
        {"$contains": 1},
        "Expected where document operand value for operator $contains to be a str, got 1",
    ),
    (
        {"$not_contains": None},
        "Expected where document operand value for operator $not_contains to be a str, got None",
    ),
    (
        {"$regex": ["a"]},
        "Expected where document operand value for operator $regex to be a str, got ['a']",
    ),
    (
        {"$not_regex": 1.5},
        "Expected where document operand value for operator $not_regex to be a str, got 1.5",
    ),
    (
        {"$contains": ""},
        "Expected where document operand value for operator $contains to be a non-empty str",
    ),
    (
        {"$not_contains": ""},
        "Expected where document operand value for operator $not_contains to be a non-empty str",
    ),
    (
        {"$regex": ""},
        "Expected where document operand value for operator $regex to be a non-empty str",
    ),
    (
        {"$not_regex": ""},
        "Expected where document operand value for operator $not_regex to be a non-empty str",
    ),
    (
        {"$and": [{"$contains": "a"}, {"$or": [{"$regex": ""}, {"$contains": "b"}]}]},
        "Expected where document operand value for operator $regex to be a non-empty str",
    ),
]

VALIDATION_ROWS = [("where", where, message) for where, message in WHERE_VALIDATION_ROWS] + [
    ("where_document", where_document, message)
    for where_document, message in WHERE_DOCUMENT_VALIDATION_ROWS
]


@pytest.mark.parametrize(("argument", "value", "message"), VALIDATION_ROWS, ids=label)
def test_validation_error(az: Any, argument: str, value: Any, message: str) -> None:
    assert get_ids(az, **{argument: value}) == ("ValueError", message + " in get.")


@pytest.mark.parametrize(("argument", "value", "message"), VALIDATION_ROWS, ids=label)
def test_validation_error_parity_with_chromadb(
    az: Any, ch: Any, argument: str, value: Any, message: str
) -> None:
    assert get_ids(az, **{argument: value}) == get_ids(ch, **{argument: value})


@pytest.mark.parametrize(
    ("method", "call"),
    [
        ("get", lambda c, **kw: c.get(**kw)),
        ("query", lambda c, **kw: c.query(query_embeddings=[Q1], n_results=1, **kw)),
        ("delete", lambda c, **kw: c.delete(**kw)),
    ],
)
@pytest.mark.parametrize(
    ("argument", "value", "message"),
    [
        (
            "where",
            {"x": None},
            "Expected where value to be a str, int, float, or operator expression, got None",
        ),
        (
            "where_document",
            {"$regex": ""},
            "Expected where document operand value for operator $regex to be a non-empty str",
        ),
    ],
)
def test_validation_message_names_the_method(
    az: Any, method: str, call: Any, argument: str, value: Any, message: str
) -> None:
    assert outcome(call, az, **{argument: value}) == ("ValueError", f"{message} in {method}.")
    assert az.count() == len(IDS)


# --------------------------------------------------------------------------- engine errors

# Clauses Python lets through that the engine rejects: InvalidArgumentError.
ENGINE_WHERE_ERROR_ROWS = [
    {"x": {"$gt": True}},  # bool passes Python's int check
    {"x": {"$lte": False}},
    {"x": {"$in": [1, True]}},  # isinstance(True, int)
    {"x": {"$nin": [0, False]}},
    {"x": {"$eq": [1]}},
    {"x": {"$ne": [1]}},
    {"a": {"$in": [[1]]}},
    {"$and": [{"s": "apple"}, {"x": {"$gt": True}}]},
    # NaN / infinity are not JSON numbers (json.dumps writes NaN / Infinity)
    {"x": float("nan")},
    {"x": {"$lt": float("inf")}},
    {"x": {"$in": [float("nan")]}},
]


@pytest.mark.parametrize("where", ENGINE_WHERE_ERROR_ROWS, ids=label)
def test_engine_rejects_where(az: Any, where: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        az.get(where=where)
    assert str(caught.value) == "Invalid where clause"


@pytest.mark.parametrize("where", ENGINE_WHERE_ERROR_ROWS, ids=label)
def test_engine_rejects_where_parity_with_chromadb(az: Any, ch: Any, where: dict[str, Any]) -> None:
    assert get_ids(az, where=where) == get_ids(ch, where=where)


def test_document_key_only_supports_contains(az: Any) -> None:
    # chromadb says "Cannot filter using metadata key '#document' with type 'Str' because
    # indexing is disabled"; only the class is pinned here.
    for operator, operand in (("$eq", "HELLO"), ("$ne", "HELLO"), ("$in", ["HELLO"])):
        with pytest.raises(InvalidArgumentError):
            az.get(where={"#document": {operator: operand}})


ENGINE_REGEX_ERROR_ROWS = [
    (
        {"$regex": "("},
        "Regex syntax errror: regex parse error:\n    (\n    ^\nerror: unclosed group",
    ),
    (
        {"$not_regex": "[a-"},
        "Regex syntax errror: regex parse error:\n    [a-\n    ^\nerror: unclosed character class",
    ),
    (
        {"$regex": "a{2,1}"},
        "Regex syntax errror: regex parse error:\n    a{2,1}\n     ^^^^^\nerror: invalid repetition count range, the start must be <= the end",
    ),
    (
        {"$regex": "(?<=a)b"},
        "Regex syntax errror: regex parse error:\n    (?<=a)b\n    ^^^^\nerror: look-around, including look-ahead and look-behind, is not supported",
    ),
    (
        {"$and": [{"$contains": "a"}, {"$or": [{"$contains": "b"}, {"$regex": "*"}]}]},
        "Regex syntax errror: regex parse error:\n    *\n    ^\nerror: repetition operator missing expression",
    ),
]


@pytest.mark.parametrize(("where_document", "message"), ENGINE_REGEX_ERROR_ROWS, ids=label)
def test_regex_syntax_error(az: Any, where_document: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        az.get(where_document=where_document)
    assert str(caught.value) == message
    with pytest.raises(InvalidArgumentError) as caught:
        az.query(query_embeddings=[Q1], n_results=1, where_document=where_document)
    assert str(caught.value) == message


@pytest.mark.parametrize(("where_document", "message"), ENGINE_REGEX_ERROR_ROWS, ids=label)
def test_regex_syntax_error_parity_with_chromadb(
    az: Any, ch: Any, where_document: dict[str, Any], message: str
) -> None:
    assert get_ids(az, where_document=where_document) == get_ids(ch, where_document=where_document)
