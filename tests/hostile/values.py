"""Hypothesis strategies for hostile arguments of the Client and Collection API.

Each strategy mixes values a careless or malicious caller could pass: empty, duplicated,
huge and non-string ids; unicode including NUL and lone surrogates; NaN, infinities and
integers beyond 64 bits; nested and empty dicts; deep and malformed filter trees;
embeddings of the wrong dimension, type or shape. Valid values are mixed in so that calls
also get past the first check and reach the engine.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

NAN = float("nan")
INF = float("inf")
#: The dimension of the seeded collection.
DIMENSION = 3
#: Ids of the records every example starts with.
SEED_IDS = ("a", "b", "c")

huge_text = st.sampled_from([10_000, 1_000_000]).map(lambda n: "x" * n)
odd_text = st.sampled_from(
    ["", " ", "\x00", "a\x00b", "é", "日本語", "🙂", "\u202e", "..", "../x", "%00", "\n", "a" * 600]
)
lone_surrogates = st.text(alphabet=st.characters(categories=["Cs"]), min_size=1, max_size=2)
text = st.one_of(
    st.text(max_size=6), odd_text, lone_surrogates, huge_text, st.sampled_from(SEED_IDS)
)

big_ints = st.sampled_from([2**31, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64, 2**100])
numbers = st.one_of(
    st.integers(-5, 5),
    big_ints,
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([NAN, INF, -INF, -0.0, 1e308, 5e-324]),
)
scalars = st.one_of(numbers, st.booleans(), text, st.none())
odd_objects = st.sampled_from([b"bytes", (1, 2), {1, 2}, object(), np.float32(1.5), np.int64(3)])

# ---- ids

id_values = st.one_of(text, st.integers(), st.floats(), st.none(), st.booleans(), odd_objects)
ids = st.one_of(
    st.lists(text, min_size=1, max_size=4),
    st.lists(st.sampled_from(SEED_IDS), min_size=1, max_size=4),  # existing and duplicated
    st.lists(id_values, max_size=4),
    id_values,
)

# ---- metadata

metadata_keys = st.one_of(
    text,
    st.sampled_from(["", "#k", "$k", "chroma:document", "chroma:x", "n", "s", "l"]),
    st.integers(),
    st.none(),
    st.booleans(),
)
metadata_values = st.one_of(
    scalars,
    st.lists(scalars, max_size=3),
    st.lists(st.sampled_from([1.0, NAN, INF, -INF]), min_size=1, max_size=3),
    st.dictionaries(st.text(max_size=3), scalars, max_size=2),
    st.just({"#type": "sparse_vector", "indices": [1, 0], "values": [1.0, 2.0]}),
    odd_objects,
)
metadata = st.one_of(
    st.none(),
    st.dictionaries(metadata_keys, metadata_values, max_size=3),
    st.just({}),
    scalars,
    odd_objects,
)
metadatas = st.one_of(st.lists(metadata, max_size=4), metadata)

documents = st.one_of(
    st.none(),
    st.lists(st.one_of(text, st.none(), st.integers(), odd_objects), max_size=4),
    text,
    st.integers(),
)
uris = st.one_of(st.none(), st.lists(st.one_of(text, st.none(), st.integers()), max_size=4), text)

# ---- embeddings

vector_numbers = st.one_of(
    st.floats(-10, 10, width=32),
    st.integers(-10, 10),
    st.sampled_from([NAN, INF, -INF, 2**70, -(2**63)]),
)
good_vectors = st.lists(st.floats(-10, 10, width=32), min_size=DIMENSION, max_size=DIMENSION)
any_vectors = st.lists(vector_numbers, max_size=5)
DTYPES = (
    np.float16, np.float32, np.float64, np.int32, np.int64, np.uint8, np.bool_, np.complex64,
)  # fmt: skip
arrays = st.builds(
    lambda rows, dtype: np.array(rows).astype(dtype),
    st.lists(good_vectors, min_size=1, max_size=3),
    st.sampled_from(DTYPES),
)
embeddings = st.one_of(
    st.none(),
    st.lists(st.one_of(good_vectors, any_vectors), max_size=4),
    st.lists(good_vectors, min_size=1, max_size=4),
    any_vectors,
    arrays,
    st.lists(arrays.map(lambda a: a[0]), min_size=1, max_size=3),
    st.sampled_from(
        [
            [[]],
            [],
            [["a", "b", "c"]],
            "abc",
            b"abc",
            {},
            [[1.0, 2.0, 3.0], "x"],
            [None],
            np.zeros((2, 2, DIMENSION)),
            np.float32(1.0),
            np.array([], dtype=np.float32),
            np.zeros((0, DIMENSION)),
            np.array([[1, 2, 3]], dtype=object),
        ]
    ),
)

# ---- filters

OPERATORS = (
    "$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$contains", "$not_contains",
    "$regex", "$not_regex", "$and", "$or", "$not", "$bogus", "", "eq",
)  # fmt: skip
REGEXES = ("(", "[z-a]", "a{1000}{1000}", "(?P<", "\\", "(a|aa)*$", "^$", ".*", "\\p{Greek}", "é")
operands = st.one_of(
    scalars,
    st.lists(scalars, max_size=3),
    st.just([]),
    st.sampled_from(REGEXES),
    st.dictionaries(st.text(max_size=2), scalars, max_size=2),
)
filter_keys = st.one_of(metadata_keys, st.sampled_from(["#document", "$and", "$or", "$in"]))


def _deep(depth: int, leaf: dict[str, Any], operator: str) -> dict[str, Any]:
    clause = leaf
    for _ in range(depth):
        clause = {operator: [clause, leaf]}
    return clause


where_leaves = st.one_of(
    st.dictionaries(filter_keys, operands, max_size=2),
    st.builds(lambda k, op, v: {k: {op: v}}, filter_keys, st.sampled_from(OPERATORS), operands),
    st.builds(lambda k, v: {k: v}, st.sampled_from(["n", "s", "l"]), scalars),
)
where_trees = st.recursive(
    where_leaves,
    lambda children: st.builds(
        lambda op, xs: {op: xs},
        st.sampled_from(["$and", "$or", "$not", "n"]),
        st.one_of(st.lists(children, max_size=3), children),
    ),
    max_leaves=6,
)
# Beyond the JSON parser's nesting limit, and beyond Python's recursion limit.
deep_where = st.builds(
    _deep, st.sampled_from([3, 64, 200, 2500]), st.just({"n": 1}), st.sampled_from(["$and", "$or"])
)
where = st.one_of(st.none(), where_trees, deep_where, st.just({}), scalars, st.lists(scalars))

where_document_leaves = st.builds(
    lambda op, v: {op: v}, st.sampled_from(OPERATORS), st.one_of(operands, text)
)
where_document_trees = st.recursive(
    where_document_leaves,
    lambda children: st.builds(
        lambda op, xs: {op: xs},
        st.sampled_from(["$and", "$or", "$not", "$contains"]),
        st.one_of(st.lists(children, max_size=3), children),
    ),
    max_leaves=6,
)
deep_where_document = st.builds(
    _deep,
    st.sampled_from([3, 64, 200, 2500]),
    st.just({"$contains": "a"}),
    st.sampled_from(["$and", "$or"]),
)
where_document = st.one_of(
    st.none(), where_document_trees, deep_where_document, st.just({}), scalars
)

# ---- the other arguments

INCLUDE_ITEMS = ("documents", "embeddings", "metadatas", "distances", "uris", "data")
include = st.one_of(
    st.lists(st.one_of(st.sampled_from(INCLUDE_ITEMS), text, st.integers(), st.none()), max_size=4),
    st.lists(st.sampled_from(INCLUDE_ITEMS), max_size=4),
    text,
    st.none(),
    st.just(("documents",)),
)
counts = st.one_of(
    st.none(),
    st.integers(-3, 10),
    big_ints,
    st.floats(allow_nan=True),
    st.booleans(),
    st.text(max_size=2),
)
n_results = st.one_of(
    st.integers(-3, 10), big_ints, st.floats(allow_nan=True), st.booleans(), st.none(), text
)

collection_names = st.one_of(
    text,
    st.from_regex(r"[a-zA-Z0-9][a-zA-Z0-9._-]{1,10}[a-zA-Z0-9]", fullmatch=True),
    st.sampled_from(["hostile", "abc", "a..b", "127.0.0.1", "x" * 513, "ab", "a b c"]),
    st.integers(),
    st.none(),
)
HNSW_KEYS = (
    "space", "ef_search", "ef_construction", "max_neighbors", "num_threads", "resize_factor",
    "sync_threshold", "batch_size", "bogus",
)  # fmt: skip
tenants = st.one_of(
    st.sampled_from(["default_tenant", "other_tenant", "", "default_tenant\x00"]), text, st.none()
)
hnsw_values = st.one_of(numbers, st.sampled_from(["l2", "cosine", "ip", "bogus", ""]), st.none())
configurations = st.one_of(
    st.none(),
    st.just({}),
    st.builds(lambda key, value: {"hnsw": {key: value}}, st.sampled_from(HNSW_KEYS), hnsw_values),
    st.dictionaries(
        st.sampled_from(["hnsw", "spann", "bogus"]), st.one_of(scalars, st.just({})), max_size=2
    ),
    scalars,
)
collection_metadata = st.one_of(
    st.none(),
    st.dictionaries(
        st.one_of(metadata_keys, st.sampled_from(["hnsw:space", "hnsw:M", "hnsw:construction_ef"])),
        metadata_values,
        max_size=3,
    ),
    st.just({}),
    scalars,
)
