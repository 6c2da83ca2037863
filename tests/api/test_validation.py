"""Rules and exact messages of azurite.api.validation, which are chromadb 1.5.9's.

Every rule has accepted and rejected cases. The parity tests at the end feed the same
input to chromadb: first to each of its validators, then as whole calls to an azurite
collection and a chromadb collection side by side, and require the same outcome (the
same exception class and message, or success on both) and the same records afterwards.
"""

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import chromadb
import numpy as np
import pytest
from chromadb.config import Settings as ChromaSettings

import azurite
from azurite.api import validation as v
from azurite.errors import DuplicateIDError

SPARSE = {"#type": "sparse_vector", "indices": [0], "values": [1.0]}
GENERIC_EMBEDDINGS_ERROR = (
    "Expected embeddings to be a list of floats or ints, a list of lists, a numpy "
    "array, or a list of numpy arrays, got "
)
METADATA_VALUE_ERROR = (
    "Expected metadata value to be a str, int, float, bool, SparseVector, list, or None, got "
)
LIST_VALUE_ERROR = (
    "Expected metadata list value for key 'k' to contain only str, int, float, or "
    "bool and all elements must be the same type, got "
)


def outcome(function: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[type, str] | None:
    """The (exception class, message) a call raises, or None if it returns."""
    try:
        function(*args, **kwargs)
    except Exception as error:
        return type(error), str(error)
    return None


def assert_raises(
    expected: type,
    message: str,
    function: Callable[..., Any],
    *args: Any,
    **kwargs: Any,
) -> None:
    assert outcome(function, *args, **kwargs) == (expected, message)


# --------------------------------------------------------------------------- one or many


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (None, None),
        ("a", ["a"]),
        ({"k": 1}, [{"k": 1}]),
        (5, [5]),
        (1.5, [1.5]),
        (["a", "b"], ["a", "b"]),
        ([], []),
        # Only a list means "many"; a tuple is one value, as in chromadb.
        (("a", "b"), [("a", "b")]),
    ],
)
def test_maybe_cast_one_to_many(target: Any, expected: list | None) -> None:
    assert v.maybe_cast_one_to_many(target) == expected


def test_maybe_cast_one_to_many_returns_lists_unchanged() -> None:
    ids = ["a"]
    assert v.maybe_cast_one_to_many(ids) is ids
    array = np.zeros(3)
    (wrapped,) = v.maybe_cast_one_to_many(array)
    assert wrapped is array


# --------------------------------------------------------------------------- embeddings


@pytest.mark.parametrize(
    ("embeddings", "expected", "dtype"),
    [
        ([1, 2.5], [[1.0, 2.5]], np.float32),
        ([[1, 2], [3, 4]], [[1, 2], [3, 4]], np.float32),
        ([np.float64(1.0)], [[1.0]], np.float32),  # np.float64 is a float
        (np.array([1, 2], dtype=np.int64), [[1, 2]], np.int64),
        (np.array([[1, 2], [3, 4]], dtype=np.float16), [[1, 2], [3, 4]], np.float16),
        ([np.array([1.0], dtype=np.float64)], [[1.0]], np.float64),
    ],
)
def test_normalize_embeddings_accepts(embeddings: Any, expected: list, dtype: type) -> None:
    result = v.normalize_embeddings(embeddings)
    assert isinstance(result, list)
    assert [row.tolist() for row in result] == expected
    assert all(isinstance(row, np.ndarray) and row.dtype == dtype for row in result)


def test_normalize_embeddings_none_and_list_of_arrays() -> None:
    assert v.normalize_embeddings(None) is None
    arrays = [np.array([1.0]), np.array([2.0])]
    assert v.normalize_embeddings(arrays) is arrays


@pytest.mark.parametrize(
    ("embeddings", "error", "message"),
    [
        (
            [],
            ValueError,
            "Expected Embeddings to be non-empty list or numpy array, got []",
        ),
        (
            np.array([]),
            ValueError,
            "Expected Embeddings to be non-empty list or numpy array, got []",
        ),
        ([[]], IndexError, "list index out of range"),
        (np.zeros((1, 1, 1)), ValueError, GENERIC_EMBEDDINGS_ERROR + "[[[0.]]]"),
        ("abc", ValueError, GENERIC_EMBEDDINGS_ERROR + "abc"),
        ((1.0, 2.0), ValueError, GENERIC_EMBEDDINGS_ERROR + "(1.0, 2.0)"),
        ([True, False], ValueError, GENERIC_EMBEDDINGS_ERROR + "[True, False]"),
        ([[True]], ValueError, GENERIC_EMBEDDINGS_ERROR + "[[True]]"),
        ([["a"]], ValueError, GENERIC_EMBEDDINGS_ERROR + "[['a']]"),
        ([[[1.0]]], ValueError, GENERIC_EMBEDDINGS_ERROR + "[[[1.0]]]"),
        ([np.float32(1.0)], ValueError, GENERIC_EMBEDDINGS_ERROR + "[np.float32(1.0)]"),
        (5, TypeError, "object of type 'int' has no len()"),
        ([1.0, "a"], ValueError, "could not convert string to float: 'a'"),
    ],
)
def test_normalize_embeddings_rejects(embeddings: Any, error: type, message: str) -> None:
    assert_raises(error, message, v.normalize_embeddings, embeddings)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int32, np.int64])
def test_validate_embeddings_accepts_dtype(dtype: type) -> None:
    embeddings = [np.array([1, 2], dtype=dtype), np.array([3], dtype=dtype)]
    assert v.validate_embeddings(embeddings) is embeddings


@pytest.mark.parametrize(
    ("embeddings", "message"),
    [
        ("abc", "Expected embeddings to be a list, got str"),
        (
            [],
            "Expected embeddings to be a list with at least one item, got 0 embeddings",
        ),
        (
            [[1.0]],
            "Expected each embedding in the embeddings to be a numpy array, got ['list']",
        ),
        (
            [np.array(1.0)],
            "Expected a 1-dimensional array, got a 0-dimensional array 1.0",
        ),
        (
            [np.array([1.0]), np.array([])],
            (
                "Expected each embedding in the embeddings to be a 1-dimensional numpy array "
                "with at least 1 int/float value. Got a 1-dimensional numpy array with no "
                "values at pos 1"
            ),
        ),
        (
            [np.array([1], dtype=np.uint8)],
            (
                "Expected each value in the embedding to be a int or float, got an embedding "
                "with uint8 - [1]"
            ),
        ),
        (
            [np.array([True])],
            (
                "Expected each value in the embedding to be a int or float, got an embedding "
                "with bool - [ True]"
            ),
        ),
        (
            [np.array(["a"])],
            (
                "Expected each value in the embedding to be a int or float, got an embedding "
                "with <U1 - ['a']"
            ),
        ),
    ],
)
def test_validate_embeddings_rejects(embeddings: Any, message: str) -> None:
    assert_raises(ValueError, message, v.validate_embeddings, embeddings)


# --------------------------------------------------------------------------- ids


@pytest.mark.parametrize(
    "ids", [["a"], ["a", "b"], [""], ["a/b%c d", "ünï", "+", "id.1"], ["A", "a"]]
)
def test_validate_ids_accepts(ids: list) -> None:
    assert v.validate_ids(ids) is ids


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        (None, "Expected IDs to be a list, got NoneType as IDs"),
        ("a", "Expected IDs to be a list, got str as IDs"),
        (("a",), "Expected IDs to be a list, got tuple as IDs"),
        ([], "Expected IDs to be a non-empty list, got 0 IDs"),
        ([1], "Expected ID to be a str, got 1"),
        (["a", None], "Expected ID to be a str, got None"),
        # The type check wins over an earlier duplicate.
        (["a", "a", 2], "Expected ID to be a str, got 2"),
    ],
)
def test_validate_ids_rejects(ids: Any, message: str) -> None:
    assert_raises(ValueError, message, v.validate_ids, ids)


def test_validate_ids_one_duplicate() -> None:
    assert_raises(
        DuplicateIDError,
        "Expected IDs to be unique, found duplicates of: a",
        v.validate_ids,
        ["a", "b", "a", "a"],
    )


def test_validate_ids_few_duplicates_lists_them_all() -> None:
    prefix = "Expected IDs to be unique, found duplicates of: "
    with pytest.raises(DuplicateIDError) as info:
        v.validate_ids(["a", "b", "c", "b", "a", "c", "d"])
    message = str(info.value)
    assert message.startswith(prefix)
    assert sorted(message.removeprefix(prefix).split(", ")) == ["a", "b", "c"]


@pytest.mark.parametrize("count", [10, 12, 30])
def test_validate_ids_many_duplicates_are_summarised(count: int) -> None:
    ids = [f"id{i}" for i in range(count)] * 2
    with pytest.raises(DuplicateIDError) as info:
        v.validate_ids(ids)
    head, examples = str(info.value).split(": ", 1)
    assert head == f"Expected IDs to be unique, found {count} duplicated IDs"
    first, last = examples.split(", ..., ")
    shown = first.split(", ") + last.split(", ")
    assert len(shown) == len(set(shown)) == 10
    assert set(shown) <= set(ids)


# --------------------------------------------------------------------------- metadata

VALID_METADATA = [
    None,
    {"a": 1},
    {"s": "x", "i": -3, "f": 1.5, "b": True, "big": 2**63},
    {"f64": np.float64(0.5)},  # np.float64 is a float
    {"strs": ["a", "b"], "ints": [1, 2], "floats": [1.5], "bools": [True, False]},
    {"": 1, "#k": 2, "$k": 3, "chroma:uri": "u"},  # the core judges key prefixes
]

# (metadata, exception, message): Python-layer rules, the same for add and update.
INVALID_METADATA = [
    (5, ValueError, "Expected metadata to be a dict or None, got int as metadata"),
    ("abc", ValueError, "Expected metadata to be a dict or None, got str as metadata"),
    (
        [{"a": 1}],
        ValueError,
        "Expected metadata to be a dict or None, got list as metadata",
    ),
    (
        {},
        ValueError,
        "Expected metadata to be a non-empty dict, got 0 metadata attributes",
    ),
    (
        {"chroma:document": "x"},
        ValueError,
        "Expected metadata to not contain the reserved key chroma:document",
    ),
    (
        {"chroma:document": "x", 1: "y"},
        ValueError,
        "Expected metadata to not contain the reserved key chroma:document",
    ),
    ({1: "x"}, TypeError, "Expected metadata key to be a str, got 1 which is a int"),
    (
        {None: "x"},
        TypeError,
        "Expected metadata key to be a str, got None which is a NoneType",
    ),
    ({"k": {"a": 1}}, ValueError, METADATA_VALUE_ERROR + "{'a': 1} which is a dict"),
    ({"k": (1,)}, ValueError, METADATA_VALUE_ERROR + "(1,) which is a tuple"),
    ({"k": np.float32(1)}, ValueError, METADATA_VALUE_ERROR + "1.0 which is a float32"),
    ({"k": b"x"}, ValueError, METADATA_VALUE_ERROR + "b'x' which is a bytes"),
    ({"k": []}, ValueError, "Expected metadata list value for key 'k' to be non-empty"),
    ({"k": [1, 2.5]}, ValueError, LIST_VALUE_ERROR + "[1, 2.5]"),
    ({"k": [True, 1]}, ValueError, LIST_VALUE_ERROR + "[True, 1]"),
    ({"k": [1, True]}, ValueError, LIST_VALUE_ERROR + "[1, True]"),
    ({"k": ["a", 1]}, ValueError, LIST_VALUE_ERROR + "['a', 1]"),
    ({"k": [[1]]}, ValueError, LIST_VALUE_ERROR + "[[1]]"),
    ({"k": [None]}, ValueError, LIST_VALUE_ERROR + "[None]"),
    ({"k": [np.float64(1)]}, ValueError, LIST_VALUE_ERROR + "[np.float64(1.0)]"),
    # Python rules are checked before the store's None rule.
    ({"a": None, "k": {}}, ValueError, METADATA_VALUE_ERROR + "{} which is a dict"),
]


@pytest.mark.parametrize("metadata", VALID_METADATA)
def test_validate_metadatas_accepts_each_valid_metadata(metadata: Any) -> None:
    metadatas = [metadata]
    assert v.validate_metadatas(metadatas) is metadatas


@pytest.mark.parametrize(("metadata", "error", "message"), INVALID_METADATA)
def test_validate_metadatas_rejects_each_invalid_metadata(
    metadata: Any, error: type, message: str
) -> None:
    assert_raises(error, message, v.validate_metadatas, [metadata])


@pytest.mark.parametrize("metadata", [{"a": 1, "b": None}, {"sv": SPARSE}])
def test_none_values_and_sparse_vectors_pass_the_python_rules(metadata: Any) -> None:
    # The engine refuses them while converting the batch (tests/api/test_records.py).
    metadatas = [metadata]
    assert v.validate_metadatas(metadatas) is metadatas


def test_validate_metadatas_accepts() -> None:
    metadatas = [{"a": 1}, None, {"b": [1, 2]}]
    assert v.validate_metadatas(metadatas) is metadatas


@pytest.mark.parametrize(
    ("metadatas", "error", "message"),
    [
        ({"a": 1}, ValueError, "Expected metadatas to be a list, got {'a': 1}"),
        ([{"a": 1}, {}], ValueError, INVALID_METADATA[3][2]),
        # Every record passes the Python rules before the store rules are applied.
        (
            [{"a": None}, {"k": {}}],
            ValueError,
            METADATA_VALUE_ERROR + "{} which is a dict",
        ),
        (
            [{"a": SPARSE}, {1: 1}],
            TypeError,
            "Expected metadata key to be a str, got 1 which is a int",
        ),
    ],
)
def test_validate_metadatas_rejects(metadatas: Any, error: type, message: str) -> None:
    assert_raises(error, message, v.validate_metadatas, metadatas)


def test_validate_metadatas_allows_none_values_for_update() -> None:
    metadatas = [{"a": None}, {"b": 1, "c": None}]
    assert v.validate_metadatas(metadatas) is metadatas


@pytest.mark.parametrize(
    "metadata",
    [
        None,
        {"a": 1},
        {"a": None},
        {"hnsw:M": 5, "hnsw:construction_ef": 10},
        {"k": [1]},
    ],
)
def test_modify_metadata_accepts(metadata: Any) -> None:
    assert v.validate_collection_metadata_for_modify(metadata) is None


CHANGE_SPACE_ERROR = (
    "Changing the distance function of a collection once it is created is not supported currently."
)


@pytest.mark.parametrize(
    ("metadata", "error", "message"),
    [
        *[case for case in INVALID_METADATA if case[0] != {"a": None, "k": {}}],
        ({"hnsw:space": "l2"}, ValueError, CHANGE_SPACE_ERROR),
        ({"hnsw:space": "cosine", "x": 1}, ValueError, CHANGE_SPACE_ERROR),
        # modify does not recognise sparse-vector dicts: they are nested dicts there.
        ({"k": SPARSE}, ValueError, METADATA_VALUE_ERROR + f"{SPARSE} which is a dict"),
        (
            {"hnsw:space": "l2", "x": {}},
            ValueError,
            METADATA_VALUE_ERROR + "{} which is a dict",
        ),
    ],
)
def test_modify_metadata_rejects(metadata: Any, error: type, message: str) -> None:
    assert_raises(error, message, v.validate_collection_metadata_for_modify, metadata)


# --------------------------------------------------------------------------- documents, images, uris


@pytest.mark.parametrize(
    ("documents", "nullable"),
    [(["a", ""], False), (["a", None], True), ([None], True), (["x"], True)],
)
def test_validate_documents_accepts(documents: list, nullable: bool) -> None:
    assert v.validate_documents(documents, nullable=nullable) is documents


@pytest.mark.parametrize(
    ("documents", "nullable", "message"),
    [
        ("abc", True, "Expected documents to be a list, got str"),
        ([], True, "Expected documents to be a non-empty list, got 0 documents"),
        (["a", None], False, "Expected document to be a str, got None"),
        ([1], True, "Expected document to be a str, got 1"),
        ([["a"]], False, "Expected document to be a str, got ['a']"),
    ],
)
def test_validate_documents_rejects(documents: Any, nullable: bool, message: str) -> None:
    assert_raises(ValueError, message, v.validate_documents, documents, nullable=nullable)


def test_validate_images_accepts() -> None:
    images = [np.zeros((2, 2)), np.zeros((2, 2, 3), dtype=np.uint8)]
    assert v.validate_images(images) is images


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (np.zeros((2, 2)), "Expected images to be a list, got ndarray"),
        ([], "Expected images to be a non-empty list, got 0 images"),
        ([np.zeros(3)], "Expected image to be a numpy array, got [0. 0. 0.]"),
        ([np.zeros((2, 2)), "img"], "Expected image to be a numpy array, got img"),
        ([[[0, 0]]], "Expected image to be a numpy array, got [[0, 0]]"),
    ],
)
def test_validate_images_rejects(images: Any, message: str) -> None:
    assert_raises(ValueError, message, v.validate_images, images)


# --------------------------------------------------------------------------- record set shape


@pytest.mark.parametrize(
    "fields",
    [
        {"ids": ["a"]},
        {"ids": ["a", "b"], "embeddings": [[1], [2]], "metadatas": None},
        {"embeddings": None, "documents": ["x"], "images": None, "uris": None},
    ],
)
def test_record_set_lengths_accepts(fields: dict) -> None:
    assert v.validate_record_set_lengths(**fields) is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"embeddings": None, "documents": None, "images": None, "uris": None},
            "At least one of one of embeddings, documents, images, uris must be provided",
        ),
        (
            {"ids": [], "metadatas": [], "embeddings": [[1]], "documents": []},
            "Non-empty lists are required for ['ids', 'metadatas', 'documents']",
        ),
        (
            {"ids": ["a", "b"], "embeddings": [[1]]},
            "Unequal lengths for fields: ids: 2, embeddings: 1",
        ),
        (
            {
                "ids": ["a", "b"],
                "metadatas": [{}],
                "embeddings": [[1], [2]],
                "uris": None,
            },
            "Unequal lengths for fields: ids: 2, metadatas: 1, embeddings: 2",
        ),
    ],
)
def test_record_set_lengths_rejects(fields: dict, message: str) -> None:
    assert_raises(ValueError, message, v.validate_record_set_lengths, **fields)


# --------------------------------------------------------------------------- where

VALID_WHERE = [
    {"a": "x"},
    {"a": 1},
    {"a": 1.5},
    {"a": True},
    {"a": {"$eq": "x"}},
    {"a": {"$ne": False}},
    {"a": {"$gt": 1}},
    {"a": {"$gte": 1.5}},
    {"a": {"$lt": True}},  # bool passes here; the core rejects it
    {"a": {"$lte": 0}},
    {"a": {"$in": ["x", "y"]}},
    {"a": {"$nin": [1, True]}},  # isinstance(True, int)
    {"a": {"$eq": [1]}},  # a list operand passes here; the core rejects it
    {"a": {"$contains": "x"}},
    {"a": {"$not_contains": 3}},
    {"#document": {"$contains": "x"}},
    {"#document": {"$not_contains": "x"}},
    {"$and": [{"a": 1}, {"b": {"$gt": 2}}]},
    {"$or": [{"a": 1}, {"$and": [{"b": 1}, {"c": 2}]}, {"d": "x"}]},
    # Not type-checked here; rejected by the core.
    {"$in": [1]},
    {"$nin": None},
    {"$foo": 5},
]


@pytest.mark.parametrize("where", VALID_WHERE)
def test_validate_where_accepts(where: Any) -> None:
    assert v.validate_where(where) is None


INVALID_WHERE = [
    ([1], "Expected where to be a dict, got [1]"),
    ("a", "Expected where to be a dict, got a"),
    ({}, "Expected where to have exactly one operator, got {}"),
    (
        {"a": 1, "b": 2},
        "Expected where to have exactly one operator, got {'a': 1, 'b': 2}",
    ),
    ({1: 1}, "Expected where key to be a str, got 1"),
    (
        {"$contains": "x"},
        (
            "Expected where key to be a metadata field name or a logical operator ($and, $or), "
            "got $contains"
        ),
    ),
    (
        {"$not_contains": "x"},
        (
            "Expected where key to be a metadata field name or a logical operator ($and, $or), "
            "got $not_contains"
        ),
    ),
    (
        {"a": None},
        "Expected where value to be a str, int, float, or operator expression, got None",
    ),
    (
        {"a": [1]},
        "Expected where value to be a str, int, float, or operator expression, got [1]",
    ),
    (
        {"$and": {"a": 1}},
        ("Expected where value for $and or $or to be a list of where expressions, got {'a': 1}"),
    ),
    (
        {"$or": []},
        (
            "Expected where value for $and or $or to be a list with at least two where "
            "expressions, got []"
        ),
    ),
    (
        {"$and": [{"a": 1}]},
        (
            "Expected where value for $and or $or to be a list with at least two where "
            "expressions, got [{'a': 1}]"
        ),
    ),
    ({"$and": [{"a": 1}, 5]}, "Expected where to be a dict, got 5"),
    (
        {"$or": [{"a": 1}, {"$and": [{"b": None}, {"c": 1}]}]},
        "Expected where value to be a str, int, float, or operator expression, got None",
    ),
    ({"a": {}}, "Expected operator expression to have exactly one operator, got {}"),
    (
        {"a": {"$gt": 1, "$lt": 5}},
        "Expected operator expression to have exactly one operator, got {'$gt': 1, '$lt': 5}",
    ),
    (
        {"a": {"$gt": "x"}},
        "Expected operand value to be an int or a float for operator $gt, got x",
    ),
    (
        {"a": {"$lte": None}},
        "Expected operand value to be an int or a float for operator $lte, got None",
    ),
    (
        {"a": {"$in": "x"}},
        "Expected operand value to be an list for operator $in, got x",
    ),
    (
        {"a": {"$nin": (1,)}},
        "Expected operand value to be an list for operator $nin, got (1,)",
    ),
    (
        {"#document": {"$contains": 1}},
        "Expected operand value to be a str for operator $contains on #document, got 1",
    ),
    (
        {"#document": {"$not_contains": None}},
        "Expected operand value to be a str for operator $not_contains on #document, got None",
    ),
    (
        {"a": {"$contains": [1]}},
        ("Expected operand value to be a str, int, float, or bool for operator $contains, got [1]"),
    ),
    (
        {"a": {"$not_contains": None}},
        (
            "Expected operand value to be a str, int, float, or bool for operator "
            "$not_contains, got None"
        ),
    ),
    (
        {"#document": {"$regex": "a"}},
        (
            "Expected where operator to be one of $gt, $gte, $lt, $lte, $ne, $eq, $in, $nin, "
            "$contains, $not_contains, got $regex"
        ),
    ),
    (
        {"a": {"$foo": None}},
        (
            "Expected where operator to be one of $gt, $gte, $lt, $lte, $ne, $eq, $in, $nin, "
            "$contains, $not_contains, got $foo"
        ),
    ),
    (
        {"a": {"$eq": None}},
        (
            "Expected where operand value to be a str, int, float, bool, or list of those "
            "type, got None"
        ),
    ),
    (
        {"a": {"$ne": {}}},
        (
            "Expected where operand value to be a str, int, float, bool, or list of those "
            "type, got {}"
        ),
    ),
    (
        {"a": {"$eq": (1,)}},
        (
            "Expected where operand value to be a str, int, float, bool, or list of those "
            "type, got (1,)"
        ),
    ),
    (
        {"a": {"$in": []}},
        (
            "Expected where operand value to be a non-empty list, and all values to be of "
            "the same type got []"
        ),
    ),
    (
        {"a": {"$in": [1, 1.5]}},
        (
            "Expected where operand value to be a non-empty list, and all values to be of "
            "the same type got [1, 1.5]"
        ),
    ),
    (
        {"a": {"$nin": [True, 1]}},
        (
            "Expected where operand value to be a non-empty list, and all values to be of "
            "the same type got [True, 1]"
        ),
    ),
    (
        {"a": {"$ne": []}},
        (
            "Expected where operand value to be a non-empty list, and all values to be of "
            "the same type got []"
        ),
    ),
    (
        {"$in": {"$eq": None}},
        (
            "Expected where operand value to be a str, int, float, bool, or list of those "
            "type, got None"
        ),
    ),
]


@pytest.mark.parametrize(("where", "message"), INVALID_WHERE)
def test_validate_where_rejects(where: Any, message: str) -> None:
    assert_raises(ValueError, message, v.validate_where, where)


VALID_WHERE_DOCUMENT = [
    {"$contains": "x"},
    {"$not_contains": "x y"},
    {"$regex": "^a.*b$"},
    {"$not_regex": "[0-9]+"},
    {"$and": [{"$contains": "a"}, {"$not_contains": "b"}]},
    {"$or": [{"$contains": "a"}, {"$and": [{"$regex": "b"}, {"$contains": "c"}]}]},
]


@pytest.mark.parametrize("where_document", VALID_WHERE_DOCUMENT)
def test_validate_where_document_accepts(where_document: Any) -> None:
    assert v.validate_where_document(where_document) is None


WHERE_DOCUMENT_OPERATOR_ERROR = (
    "Expected where document operator to be one of $contains, $not_contains, $regex, "
    "$not_regex, $and, $or, got "
)
INVALID_WHERE_DOCUMENT = [
    ([1], "Expected where document to be a dictionary, got [1]"),
    ("x", "Expected where document to be a dictionary, got x"),
    ({}, "Expected where document to have exactly one operator, got {}"),
    (
        {"$contains": "a", "$regex": "b"},
        (
            "Expected where document to have exactly one operator, got "
            "{'$contains': 'a', '$regex': 'b'}"
        ),
    ),
    ({"$foo": "a"}, WHERE_DOCUMENT_OPERATOR_ERROR + "$foo"),
    ({"text": "a"}, WHERE_DOCUMENT_OPERATOR_ERROR + "text"),
    ({1: "a"}, WHERE_DOCUMENT_OPERATOR_ERROR + "1"),
    (
        {"$and": "a"},
        (
            "Expected document value for $and or $or to be a list of where document "
            "expressions, got a"
        ),
    ),
    (
        {"$or": [{"$contains": "a"}]},
        (
            "Expected document value for $and or $or to be a list with at least two where "
            "document expressions, got [{'$contains': 'a'}]"
        ),
    ),
    (
        {"$and": []},
        (
            "Expected document value for $and or $or to be a list with at least two where "
            "document expressions, got []"
        ),
    ),
    (
        {"$contains": 1},
        "Expected where document operand value for operator $contains to be a str, got 1",
    ),
    (
        {"$not_regex": None},
        ("Expected where document operand value for operator $not_regex to be a str, got None"),
    ),
    (
        {"$regex": ""},
        "Expected where document operand value for operator $regex to be a non-empty str",
    ),
    (
        {"$or": [{"$contains": "a"}, {"$contains": ""}]},
        "Expected where document operand value for operator $contains to be a non-empty str",
    ),
    (
        {"$and": [{"$contains": "a"}, 5]},
        "Expected where document to be a dictionary, got 5",
    ),
]


@pytest.mark.parametrize(("where_document", "message"), INVALID_WHERE_DOCUMENT)
def test_validate_where_document_rejects(where_document: Any, message: str) -> None:
    assert_raises(ValueError, message, v.validate_where_document, where_document)


# --------------------------------------------------------------------------- include, n_results, limit


@pytest.mark.parametrize(
    ("include", "allow_distances"),
    [
        ([], False),
        (["documents", "embeddings", "metadatas", "uris", "data"], False),
        (["distances", "documents"], True),
        (["documents", "documents"], False),
    ],
)
def test_validate_include_accepts(include: list, allow_distances: bool) -> None:
    assert v.validate_include(include, allow_distances=allow_distances) is include


INCLUDE_ITEM_ERROR = (
    "Expected include item to be one of documents, embeddings, metadatas, distances, "
    "uris, data, got "
)


@pytest.mark.parametrize(
    ("include", "allow_distances", "message"),
    [
        (None, True, "Expected include to be a list, got None"),
        ("documents", True, "Expected include to be a list, got documents"),
        (("documents",), True, "Expected include to be a list, got ('documents',)"),
        ([1], True, "Expected include item to be a str, got 1"),
        (["foo"], True, INCLUDE_ITEM_ERROR + "foo"),
        (["ids"], False, INCLUDE_ITEM_ERROR + "ids"),
        (["Documents"], False, INCLUDE_ITEM_ERROR + "Documents"),
        (
            ["distances"],
            False,
            "Include item cannot be one of distances, got distances",
        ),
        (
            ["documents", "distances"],
            False,
            "Include item cannot be one of distances, got distances",
        ),
    ],
)
def test_validate_include_rejects(include: Any, allow_distances: bool, message: str) -> None:
    assert_raises(
        ValueError,
        message,
        v.validate_include,
        include,
        allow_distances=allow_distances,
    )


@pytest.mark.parametrize(("n_results", "expected"), [(1, 1), (10, 10), (10**6, 10**6), (True, 1)])
def test_validate_n_results_accepts(n_results: Any, expected: int) -> None:
    result = v.validate_n_results(n_results)
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize(
    ("n_results", "error", "message"),
    [
        (1.0, ValueError, "Expected requested number of results to be a int, got 1.0"),
        (
            None,
            ValueError,
            "Expected requested number of results to be a int, got None",
        ),
        ("5", ValueError, "Expected requested number of results to be a int, got 5"),
        (
            np.int64(2),
            ValueError,
            "Expected requested number of results to be a int, got 2",
        ),
        (0, TypeError, "Number of requested results 0, cannot be negative, or zero."),
        (-3, TypeError, "Number of requested results -3, cannot be negative, or zero."),
        (
            False,
            TypeError,
            "Number of requested results False, cannot be negative, or zero.",
        ),
    ],
)
def test_validate_n_results_rejects(n_results: Any, error: type, message: str) -> None:
    assert_raises(error, message, v.validate_n_results, n_results)


@pytest.mark.parametrize(
    ("limit", "has_filter", "expected"),
    [(None, False, None), (None, True, None), (0, True, 0), (5, True, 5)],
)
def test_validate_delete_limit_accepts(limit: Any, has_filter: bool, expected: Any) -> None:
    assert v.validate_delete_limit(limit, has_filter=has_filter) == expected


LIMIT_FILTER_ERROR = "limit can only be specified when a where or where_document clause is provided"


@pytest.mark.parametrize(
    ("limit", "has_filter", "error", "message"),
    [
        (True, True, TypeError, "limit must be a non-negative integer"),
        (1.0, False, TypeError, "limit must be a non-negative integer"),
        ("1", True, TypeError, "limit must be a non-negative integer"),
        (-1, True, ValueError, "limit must be a non-negative integer"),
        (-1, False, ValueError, "limit must be a non-negative integer"),
        (1, False, ValueError, LIMIT_FILTER_ERROR),
        (0, False, ValueError, LIMIT_FILTER_ERROR),
    ],
)
def test_validate_delete_limit_rejects(
    limit: Any, has_filter: bool, error: type, message: str
) -> None:
    assert_raises(error, message, v.validate_delete_limit, limit, has_filter=has_filter)


# --------------------------------------------------------------------------- suffix_method


class CustomError(Exception):
    pass


def raiser(error: BaseException) -> Callable[[], None]:
    def function() -> None:
        raise error

    return function


@pytest.mark.parametrize(
    ("error", "expected_args"),
    [
        (ValueError("bad"), ("bad in add.",)),
        (TypeError("worse"), ("worse in add.",)),
        (DuplicateIDError("dup"), ("dup in add.",)),
        (CustomError("x", 2), ("('x', 2) in add.", 2)),
        (KeyError("k"), ("'k' in add.",)),
        (ValueError(), ()),
    ],
    ids=["value", "type", "chroma", "extra-args", "key", "no-args"],
)
def test_suffix_method_appends_and_keeps_the_exception(
    error: Exception, expected_args: tuple
) -> None:
    with pytest.raises(type(error)) as info:
        v.suffix_method("add")(raiser(error))()
    assert info.value is error
    assert type(info.value) is type(error)
    assert info.value.args == expected_args


def test_suffix_method_ignores_base_exceptions() -> None:
    error = KeyboardInterrupt("stop")
    with pytest.raises(KeyboardInterrupt):
        v.suffix_method("get")(raiser(error))()
    assert error.args == ("stop",)


def test_suffix_method_passes_arguments_and_results() -> None:
    class Collection:
        @v.suffix_method("query")
        def prepare(self, a: int, *, b: int) -> tuple:
            """Docstring."""
            return self, a, b

    collection = Collection()
    assert collection.prepare(1, b=2) == (collection, 1, 2)
    assert Collection.prepare.__name__ == "prepare"
    assert Collection.prepare.__doc__ == "Docstring."


# --------------------------------------------------------------------------- parity with chromadb


def chromadb_types() -> Any:
    return chromadb.api.types


def by_name(result: tuple[type, str] | None) -> tuple[str, str] | None:
    """Compare exception classes by name: chromadb's errors are its own classes."""
    return None if result is None else (result[0].__name__, result[1])


def same_outcome(ours: Callable[[], Any], theirs: Callable[[], Any]) -> None:
    assert by_name(outcome(ours)) == by_name(outcome(theirs))


@pytest.mark.parametrize("where", [*VALID_WHERE, *(case[0] for case in INVALID_WHERE)])
def test_where_parity(where: Any) -> None:
    same_outcome(lambda: v.validate_where(where), lambda: chromadb_types().validate_where(where))


@pytest.mark.parametrize(
    "where_document",
    [*VALID_WHERE_DOCUMENT, *(case[0] for case in INVALID_WHERE_DOCUMENT)],
)
def test_where_document_parity(where_document: Any) -> None:
    same_outcome(
        lambda: v.validate_where_document(where_document),
        lambda: chromadb_types().validate_where_document(where_document),
    )


@pytest.mark.parametrize(
    "ids",
    [
        None,
        [],
        [1],
        ["a", "b", "a"],
        ["a", "b", "c", "b", "a", "c", "d"],
        [f"id{i}" for i in range(9)] * 2,
        [f"id{i}" for i in range(10)] * 2,
        [f"id{i}" for i in range(40)] * 3,
    ],
)
def test_ids_parity(ids: Any) -> None:
    # Duplicate examples follow set order, which depends on the per-process string
    # hash seed; both sides run in this process, so they must agree exactly.
    same_outcome(lambda: v.validate_ids(ids), lambda: chromadb_types().validate_ids(ids))


EMBEDDING_INPUTS = [
    [1, 2.5],
    [[1, 2], [3, 4]],
    np.array([[1, 2]], dtype=np.int32),
    [np.array([1.0]), [2.0]],
    [np.array([1.0]), np.array([])],
    [np.array(1.0)],
    [[1.0], 2.0],
    np.array([[1]], dtype=np.uint8),
    [np.array([1.0], dtype=">f4")],
    [],
    [[]],
    (1.0,),
    [True],
    "abc",
    5,
]


@pytest.mark.parametrize("embeddings", EMBEDDING_INPUTS)
def test_embeddings_parity(embeddings: Any) -> None:
    def normalise_then_validate(module: Any) -> Callable[[], Any]:
        return lambda: module.validate_embeddings(module.normalize_embeddings(embeddings))

    same_outcome(normalise_then_validate(v), normalise_then_validate(chromadb_types()))


@pytest.mark.parametrize(
    ("include", "allow_distances", "_"),
    [
        (None, True, None),
        ("documents", True, None),
        ([1], True, None),
        (["foo"], False, None),
        (["distances"], False, None),
        (["distances"], True, None),
        (["documents", "uris"], False, None),
    ],
)
def test_include_parity(include: Any, allow_distances: bool, _: None) -> None:
    disallowed = None if allow_distances else ["distances"]
    same_outcome(
        lambda: v.validate_include(include, allow_distances=allow_distances),
        lambda: chromadb_types().validate_include(include, disallowed),
    )


@pytest.mark.parametrize("n_results", [1, True, False, 0, -2, 1.0, None, np.int64(3)])
def test_n_results_parity(n_results: Any) -> None:
    same_outcome(
        lambda: v.validate_n_results(n_results),
        lambda: chromadb_types().validate_n_results(n_results),
    )


@pytest.mark.parametrize(
    ("documents", "nullable"),
    [(["a"], False), ([None], True), ([None], False), ([1], True), ([], False)],
)
def test_documents_parity(documents: list, nullable: bool) -> None:
    same_outcome(
        lambda: v.validate_documents(documents, nullable=nullable),
        lambda: chromadb_types().validate_documents(documents, nullable=nullable),
    )


@pytest.mark.parametrize("images", [[np.zeros((2, 2))], [np.zeros(2)], ["x"], []])
def test_images_parity(images: list) -> None:
    same_outcome(
        lambda: v.validate_images(images),
        lambda: chromadb_types().validate_images(images),
    )


@pytest.mark.parametrize(
    "error", [ValueError("bad"), KeyError("k"), CustomError("x", 2), ValueError()]
)
def test_suffix_method_parity(error: Exception) -> None:
    from chromadb.api.models.CollectionCommon import validation_context

    def args_after(
        decorator: Callable[[Callable[..., None]], Callable[..., None]],
    ) -> tuple:
        copy = type(error)(*error.args)

        def method(self: object) -> None:
            raise copy

        with pytest.raises(type(error)):
            decorator(method)(object())
        return copy.args

    assert args_after(v.suffix_method("add")) == args_after(validation_context("add"))


# --------------------------------------------------------------------------- parity of whole calls


@pytest.fixture(scope="module")
def parity_clients(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Any, azurite.Client]]:
    """A chromadb client and an azurite client, each on its own new directory: persistent
    clients share no process-wide state (nor settings) with the ephemeral clients of other
    tests."""
    theirs = chromadb.PersistentClient(
        path=tmp_path_factory.mktemp("chromadb"),
        settings=ChromaSettings(anonymized_telemetry=False),
    )
    ours = azurite.PersistentClient(tmp_path_factory.mktemp("azurite"))
    yield theirs, ours
    ours.close()


COLLECTION_NUMBERS = itertools.count()


@pytest.fixture
def collection_pair(parity_clients: tuple[Any, azurite.Client]) -> tuple[Any, azurite.Collection]:
    """A new collection of each client without embedding function, holding record "a"."""
    name = f"parity-{next(COLLECTION_NUMBERS)}"
    pair = tuple(
        client.create_collection(name, embedding_function=None) for client in parity_clients
    )
    for collection in pair:
        collection.add(ids=["a"], embeddings=[[1.0]], metadatas=[{"k": 1}], documents=["doc"])
    return pair[0], pair[1]


def snapshot(collection: Any) -> tuple:
    """What a call may have changed: the collection's name and metadata, and its records."""
    records = collection.get(include=["embeddings", "metadatas", "documents"])
    embeddings = [[float(x) for x in row] for row in records["embeddings"]]
    return (
        collection.name,
        collection.metadata,
        records["ids"],
        embeddings,
        records["metadatas"],
        records["documents"],
    )


def call_both(
    collection_pair: tuple[Any, azurite.Collection], method: str, kwargs: dict
) -> tuple[str, str] | None:
    """Call ``method`` with ``kwargs`` on both collections; both must succeed or raise the
    same class (by name: chromadb's errors are its own classes) with the same message, and
    leave their collections alike. Returns chromadb's outcome."""
    theirs, ours = collection_pair
    expected = by_name(outcome(getattr(theirs, method), **kwargs))
    assert by_name(outcome(getattr(ours, method), **kwargs)) == expected
    assert snapshot(ours) == snapshot(theirs)
    return expected


E = [[1.0]]
# Every case is rejected by chromadb; the order of its checks and the " in <method>."
# suffix of its messages are what is compared.
REJECTED_CASES = {
    "add": [
        {"ids": None, "embeddings": E},
        {"ids": 5, "embeddings": E},
        {"ids": ("a", "b"), "embeddings": [[1.0], [2.0]]},
        {"ids": [], "embeddings": E},
        {"ids": [], "embeddings": []},
        {
            "ids": ["a", "b"],
            "embeddings": E,
            "metadatas": [{"a": 1}],
            "documents": ["x"],
            "uris": ["u"],
        },
        {"ids": ["a"], "embeddings": E, "metadatas": [], "documents": []},
        {"ids": ["a", "a"], "embeddings": [[1.0], [2.0]]},
        {"ids": ["a"], "embeddings": [[]]},
        {"ids": ["a"], "embeddings": [[1.0], 2.0]},
        {"ids": ["a"], "embeddings": np.array([[1]], dtype=np.uint8)},
        {"ids": ["a"], "embeddings": E, "documents": [1]},
        {"ids": ["a"], "embeddings": E, "images": [np.zeros(3)]},
        {"ids": ["a"], "embeddings": E, "metadatas": {}},
        {"ids": ["a"], "embeddings": E, "metadatas": {1: "x"}},
        {"ids": ["a"], "embeddings": E, "metadatas": {"k": [1, 2.5]}},
        {"ids": ["a"], "embeddings": E, "metadatas": {"chroma:document": "x"}},
        {"ids": [1], "embeddings": E, "documents": [1]},
        {"ids": ["b"], "embeddings": [[1.0, 2.0]]},
    ],
    "update": [
        {"ids": []},
        {"ids": ["a", "a"]},
        {"ids": ["a"], "embeddings": [[1.0], [2.0]]},
        {"ids": ["a"], "embeddings": [[1.0, 2.0]]},
        {"ids": ["a"], "documents": [1]},
        {"ids": ["a"], "metadatas": {}},
    ],
    # (upsert without embeddings, documents or images is left out: chromadb's message
    # lists the two sources in set order, which changes with the string hash seed.)
    "upsert": [
        {"ids": [], "embeddings": []},
        {"ids": ["a"], "embeddings": E, "metadatas": [{1: 2}]},
        {"ids": ["a", "b"], "embeddings": [[1.0], [2.0]], "documents": [None, 1]},
    ],
    "get": [
        {"ids": []},
        {"ids": ["a", "b", "a"]},
        {"ids": [None]},
        {"where": {"a": None}},
        {"where": {"$and": [{"a": 1}]}},
        {"where_document": {"$regex": ""}},
        {"include": None},
        {"include": ["distances"]},
        {"ids": [], "where": {}},
        {"limit": -1},
        {"offset": -1},
    ],
    "query": [
        {},
        {"query_embeddings": []},
        {"query_embeddings": E, "n_results": 0},
        {"query_embeddings": E, "n_results": 1.5},
        {"query_embeddings": E, "include": ["foo"]},
        {"query_embeddings": E, "where": {"a": {"$in": []}}},
        {"query_embeddings": [[True]]},
        {"query_embeddings": [[1.0, 2.0]]},
    ],
    "delete": [
        {},
        {"ids": ["a"], "limit": 1},
        {"where": {"a": 1}, "limit": True},
        {"where": {"a": 1}, "limit": -1},
        {"ids": ["a"], "limit": 1.0},
        {"ids": ["a", "a"]},
        {"ids": ["a"], "where_document": {"$foo": "x"}},
    ],
    "peek": [{"limit": -1}],
    "modify": [
        {"metadata": {}},
        {"metadata": {"hnsw:space": "ip"}},
        {"metadata": {"k": SPARSE}},
        {"metadata": {"k": []}},
        {"metadata": {1: 1}},
        {"name": ""},
        {"name": "a"},
        {"configuration": {"spann": {}}},
    ],
}
ACCEPTED_CASES = {
    "update": [{"ids": ["missing"], "embeddings": E}, {"ids": ["a"], "embeddings": [[2.0]]}],
    "get": [{"ids": ["a"], "include": ["embeddings", "uris"]}],
    "query": [{"query_embeddings": E, "ids": []}],
    "peek": [{"limit": 0}, {"limit": None}, {"limit": True}],
    "modify": [{"metadata": {"hnsw:M": 5}}, {"name": "renamed"}],
}


def cases(table: dict[str, list[dict]]) -> list[Any]:
    return [
        pytest.param(method, kwargs, id=f"{method}-{number}")
        for method, method_cases in table.items()
        for number, kwargs in enumerate(method_cases)
    ]


@pytest.mark.parametrize(("method", "kwargs"), cases(REJECTED_CASES))
def test_collection_rejects_like_chromadb(
    collection_pair: tuple[Any, azurite.Collection], method: str, kwargs: dict
) -> None:
    assert call_both(collection_pair, method, kwargs) is not None, "chromadb must reject it"


@pytest.mark.parametrize(("method", "kwargs"), cases(ACCEPTED_CASES))
def test_collection_accepts_like_chromadb(
    collection_pair: tuple[Any, azurite.Collection], method: str, kwargs: dict
) -> None:
    assert call_both(collection_pair, method, kwargs) is None


RECORD_METADATA_CASES = [*VALID_METADATA, {"a": None}, *(case[0] for case in INVALID_METADATA)]


@pytest.mark.parametrize("method", ["add", "update", "upsert"])
@pytest.mark.parametrize(
    "metadata", [m for m in RECORD_METADATA_CASES if m is None or isinstance(m, dict)]
)
def test_record_metadata_parity(
    collection_pair: tuple[Any, azurite.Collection], method: str, metadata: Any
) -> None:
    # Record "b" is new to add; update and upsert change the existing record "a".
    record_id = "b" if method == "add" else "a"
    call_both(
        collection_pair, method, {"ids": [record_id], "embeddings": E, "metadatas": [metadata]}
    )


@pytest.mark.parametrize("method", ["add", "update", "upsert"])
@pytest.mark.parametrize(
    ("metadata", "error", "message"),
    [case for case in INVALID_METADATA if not isinstance(case[0], dict)],
)
def test_record_metadata_that_is_not_a_dict(
    collection: azurite.Collection, method: str, metadata: Any, error: type, message: str
) -> None:
    # chromadb's collection fails here with an AttributeError, a class outside its API,
    # before its validator runs; azurite raises the validator's error.
    with pytest.raises(error) as raised:
        getattr(collection, method)(ids=["a"], embeddings=E, metadatas=[metadata])
    assert str(raised.value) == f"{message} in {method}."
