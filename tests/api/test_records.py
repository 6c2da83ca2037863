"""Records: add/get/query/update/upsert/delete/peek/count, their validation and the
distances of each space.

Expected values are those of chromadb 1.5.9's embedded client.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import azurite
from azurite import Collection, PersistentClient
from azurite.errors import DuplicateIDError, InternalError, InvalidArgumentError, NotFoundError

ALL = ["embeddings", "metadatas", "documents", "uris"]
QUERY_ALL = [*ALL, "distances"]
NO_EMBEDDING_FUNCTION = (
    "You must provide an embedding function to compute embeddings."
    "https://docs.trychroma.com/guides/embeddings"
)
NOT_FINITE = "Validation error: embeddings: Embeddings must not contain NaN or Infinity values"
EMPTY_ID = "Empty ID, ID must have at least one character"
OUT_OF_RANGE = "out of range integral type conversion attempted"

MakeCollection = Callable[..., Collection]


def f32(values: Any) -> list:
    """`values` rounded to float32, as Python floats (how embeddings are read back)."""
    return np.asarray(values, dtype=np.float32).astype(np.float64).tolist()


def raises(error: type, message: str, call: Callable[[], Any]) -> None:
    with pytest.raises(error) as raised:
        call()
    assert type(raised.value) is error
    assert str(raised.value) == message


# --------------------------------------------------------------------------- add and its inputs


def test_add_one_record_as_single_values(collection: Collection) -> None:
    assert (
        collection.add(
            ids="a", embeddings=[1, 2], metadatas={"k": 1}, documents="doc", uris="file://a"
        )
        is None
    )
    result = collection.get(include=ALL)
    assert result["ids"] == ["a"]
    assert result["embeddings"].tolist() == [[1.0, 2.0]]
    assert result["metadatas"] == [{"k": 1}]
    assert result["documents"] == ["doc"]
    assert result["uris"] == ["file://a"]
    assert result["included"] == ALL
    assert result["data"] is None


@pytest.mark.parametrize(
    ("embeddings", "expected"),
    [
        ([[0.1, 0.2], [0.3, 0.4]], f32([[0.1, 0.2], [0.3, 0.4]])),
        (np.array([[0.1, 0.2], [0.3, 0.4]]), f32([[0.1, 0.2], [0.3, 0.4]])),
        (np.array([[0.1, 0.2], [0.3, 0.4]], dtype=np.float32), f32([[0.1, 0.2], [0.3, 0.4]])),
        (np.array([[1, 2], [3, 4]], dtype=np.int64), [[1.0, 2.0], [3.0, 4.0]]),
        (
            [np.array([1, 2], dtype=np.int32), np.array([0.5, 4], dtype=np.float16)],
            [[1.0, 2.0], [0.5, 4.0]],
        ),
        ([[1, 2], [3, 4]], [[1.0, 2.0], [3.0, 4.0]]),
        ([[1, 2.5], [3, 4]], [[1.0, 2.5], [3.0, 4.0]]),
    ],
    ids=["lists", "2d-float64", "2d-float32", "2d-int64", "list-of-arrays", "ints", "mixed"],
)
def test_add_embedding_forms(collection: Collection, embeddings: Any, expected: list) -> None:
    collection.add(ids=["a", "b"], embeddings=embeddings)
    result = collection.get(include=["embeddings"])
    assert isinstance(result["embeddings"], np.ndarray)
    assert result["embeddings"].dtype == np.float64
    assert result["embeddings"].shape == (2, 2)
    assert result["embeddings"].tolist() == expected


@pytest.mark.parametrize(
    "embedding",
    [np.array([0.1, 0.2]), np.array([0.1, 0.2], dtype=np.float16), [0.1, 0.2]],
    ids=["1d-float64", "1d-float16", "list"],
)
def test_add_one_embedding(collection: Collection, embedding: Any) -> None:
    collection.add(ids="a", embeddings=embedding)
    stored = collection.get(include=["embeddings"])["embeddings"]
    assert stored.shape == (1, 2)
    assert stored.tolist() == [f32(np.asarray(embedding).astype(np.float32))]


def test_float_values_are_stored_as_float32(collection: Collection) -> None:
    collection.add(ids="a", embeddings=[0.1, 1e-50, 3.0000001])
    (stored,) = collection.get(include=["embeddings"])["embeddings"].tolist()
    assert stored == [0.10000000149011612, 0.0, 3.0]


def test_add_of_an_existing_id_is_ignored(collection: Collection) -> None:
    collection.add(ids="a", embeddings=[1, 2], documents="first", metadatas={"v": 1})
    collection.add(
        ids=["a", "b"],
        embeddings=[[5, 5], [6, 6]],
        documents=["second", "b"],
        metadatas=[{"v": 2}, {"v": 3}],
    )
    result = collection.get(include=ALL)
    assert result["ids"] == ["a", "b"]
    assert result["embeddings"].tolist() == [[1.0, 2.0], [6.0, 6.0]]
    assert result["documents"] == ["first", "b"]
    assert result["metadatas"] == [{"v": 1}, {"v": 3}]
    assert collection.count() == 2


def test_add_records_without_optional_fields(collection: Collection) -> None:
    collection.add(ids=["a", "b"], embeddings=[[1, 2], [3, 4]], documents=["x", None])
    result = collection.get(include=ALL)
    assert result["documents"] == ["x", None]
    assert result["metadatas"] == [None, None]
    assert result["uris"] == [None, None]


def test_empty_document_is_a_document(collection: Collection) -> None:
    collection.add(ids="a", embeddings=[1, 2], documents="")
    assert collection.get()["documents"] == [""]


def test_any_non_empty_string_is_an_id(collection: Collection) -> None:
    ids = ["with space", "slash/es", "per%cent", "ünïcødé", "日本", "x" * 1000, "a\nb"]
    collection.add(ids=ids, embeddings=[[float(i)] for i in range(len(ids))])
    assert collection.get()["ids"] == ids
    assert collection.get(ids="日本")["ids"] == ["日本"]


# --------------------------------------------------------------------------- metadata values


def test_metadata_value_types_round_trip(collection: Collection) -> None:
    metadata = {
        "s": "x",
        "i": 1,
        "neg": -7,
        "f": 1.5,
        "b": True,
        "b0": False,
        "ints": [1, 2],
        "strs": ["a", "b"],
        "bools": [True, False],
        "floats": [1.5, 2.0],
        "big": 2**63 - 1,
        "small": -(2**63),
    }
    collection.add(ids="a", embeddings=[1, 2], metadatas=metadata)
    (stored,) = collection.get()["metadatas"]
    assert stored == metadata
    assert {k: type(v) for k, v in stored.items()} == {k: type(v) for k, v in metadata.items()}
    assert type(stored["floats"][1]) is float


def test_int_out_of_i64_is_stored_as_float(collection: Collection) -> None:
    collection.add(ids="a", embeddings=[1, 2], metadatas={"k": 2**63})
    (stored,) = collection.get()["metadatas"]
    assert stored == {"k": float(2**63)}
    assert type(stored["k"]) is float


def test_nan_metadata_value_drops_the_key(collection: Collection) -> None:
    collection.add(
        ids=["a", "b"],
        embeddings=[[1, 2], [1, 2]],
        metadatas=[{"k": math.nan, "j": 1}, {"k": math.nan}],
    )
    assert collection.get()["metadatas"] == [{"j": 1}, None]


def test_chroma_prefixed_keys_are_accepted_but_never_returned(collection: Collection) -> None:
    collection.add(
        ids=["a", "b"],
        embeddings=[[1, 2], [1, 2]],
        metadatas=[{"chroma:x": 1, "k": 1}, {"chroma:x": 1}],
    )
    assert collection.get()["metadatas"] == [{"k": 1}, {}]
    result = collection.query(query_embeddings=[1, 2], include=["metadatas"])
    assert sorted(result["metadatas"][0], key=len) == [{}, {"k": 1}]


def test_none_metadata_value_on_add(collection: Collection) -> None:
    # Raised by the argument conversion of the engine, so without " in add." (as chromadb).
    raises(
        TypeError,
        "argument 'metadatas': Cannot convert Python object to MetadataValue",
        lambda: collection.add(ids="a", embeddings=[1, 2], metadatas={"a": 1, "k": None}),
    )
    assert collection.count() == 0


@pytest.mark.parametrize(
    ("metadatas", "index"),
    [
        ([{"#k": 1}], 0),
        ([{"$k": 1}], 0),
        ([{"": 1}], 0),
        ([{"k": 1}, {"$k": 1}], 1),
    ],
)
def test_invalid_metadata_keys(collection: Collection, metadatas: list, index: int) -> None:
    n = len(metadatas)
    raises(
        InvalidArgumentError,
        f"Validation error: metadatas: Invalid metadata at index {index}",
        lambda: collection.add(
            ids=[str(i) for i in range(n)], embeddings=[[1.0]] * n, metadatas=metadatas
        ),
    )
    assert collection.count() == 0


def test_reserved_metadata_key(collection: Collection) -> None:
    raises(
        ValueError,
        "Expected metadata to not contain the reserved key chroma:document in add.",
        lambda: collection.add(ids="a", embeddings=[1, 2], metadatas={"chroma:document": "x"}),
    )


# --------------------------------------------------------------------------- uris


def test_uris_round_trip(collection: Collection) -> None:
    collection.add(
        ids=["a", "b", "c"],
        embeddings=[[1, 2], [1, 2], [1, 2]],
        uris=["file://a", None, "s3://b"],
        metadatas=[None, None, {"k": 1}],
    )
    result = collection.get(include=["uris", "metadatas"])
    assert result["uris"] == ["file://a", None, "s3://b"]
    # A record with a URI but no metadata reports {} instead of None.
    assert result["metadatas"] == [{}, None, {"k": 1}]
    assert collection.get()["uris"] is None
    query = collection.query(query_embeddings=[1, 2], include=["uris"])
    assert sorted(query["uris"][0], key=str) == sorted(["file://a", None, "s3://b"], key=str)


def test_update_of_uris_only(collection: Collection) -> None:
    collection.add(ids="a", embeddings=[1, 2], documents="doc")
    collection.update(ids="a", uris="file://new")
    result = collection.get(include=ALL)
    assert result["uris"] == ["file://new"]
    assert result["documents"] == ["doc"]
    assert result["embeddings"].tolist() == [[1.0, 2.0]]
    assert result["metadatas"] == [{}]


# --------------------------------------------------------------------------- update


def test_update_of_a_missing_id_is_ignored(collection: Collection) -> None:
    collection.add(ids="a", embeddings=[1, 2], documents="doc")
    collection.update(ids=["missing"], embeddings=[[5, 5]], documents=["x"], metadatas=[{"k": 1}])
    result = collection.get(include=ALL)
    assert result["ids"] == ["a"]
    assert result["embeddings"].tolist() == [[1.0, 2.0]]
    assert collection.count() == 1
    # Some ids missing, some present: the present ones are updated.
    collection.update(ids=["zz", "a"], embeddings=[[0, 0], [2, 2]], documents=["p", "q"])
    result = collection.get(include=["documents", "embeddings"])
    assert result["documents"] == ["q"]
    assert result["embeddings"].tolist() == [[2.0, 2.0]]


def test_update_merges_metadata(collection: Collection) -> None:
    collection.add(
        ids=["a", "b", "c"],
        embeddings=[[1, 2], [3, 4], [5, 6]],
        metadatas=[{"x": 1, "y": 2}, None, {"keep": True}],
    )
    collection.update(ids=["a", "b"], metadatas=[{"y": None, "z": 3}, {"q": 1}])
    assert collection.get()["metadatas"] == [{"x": 1, "z": 3}, {"q": 1}, {"keep": True}]
    # Deleting the last key leaves a record without metadata.
    collection.update(ids="b", metadatas={"q": None})
    assert collection.get(ids="b")["metadatas"] == [None]


def test_update_replaces_documents_only_where_given(collection: Collection) -> None:
    collection.add(ids=["a", "b"], embeddings=[[1, 2], [3, 4]], documents=["da", "db"])
    collection.update(ids=["a", "b"], embeddings=[[0, 0], [1, 1]], documents=["new", None])
    result = collection.get(include=ALL)
    assert result["documents"] == ["new", "db"]
    assert result["embeddings"].tolist() == [[0.0, 0.0], [1.0, 1.0]]


def test_update_with_ids_only_changes_nothing(collection: Collection) -> None:
    collection.add(ids="a", embeddings=[1, 2], documents="d", metadatas={"k": 1})
    before = collection.get(include=ALL)
    collection.update(ids="a")
    after = collection.get(include=ALL)
    assert after["embeddings"].tolist() == before["embeddings"].tolist()
    assert (after["documents"], after["metadatas"]) == (before["documents"], before["metadatas"])


def test_update_of_metadata_keeps_embedding_and_document(collection: Collection) -> None:
    collection.add(ids="a", embeddings=[1, 2], documents="d")
    collection.update(ids="a", metadatas={"k": 1})
    result = collection.get(include=ALL)
    assert result["embeddings"].tolist() == [[1.0, 2.0]]
    assert result["documents"] == ["d"]
    assert result["metadatas"] == [{"k": 1}]


def test_updated_embedding_is_used_by_query(collection: Collection) -> None:
    collection.add(ids=["a", "b"], embeddings=[[0, 0], [10, 10]])
    collection.update(ids="b", embeddings=[1, 0])
    result = collection.query(query_embeddings=[1, 0], n_results=1, include=["distances"])
    assert (result["ids"], result["distances"]) == ([["b"]], [[0.0]])


# --------------------------------------------------------------------------- upsert


def test_upsert_inserts_and_updates(collection: Collection) -> None:
    collection.add(
        ids=["a", "b", "c"],
        embeddings=[[1, 2], [3, 4], [5, 6]],
        metadatas=[{"x": 1, "y": 2}, None, None],
        documents=["da", "db", "dc"],
    )
    collection.upsert(
        ids=["new", "a"],
        embeddings=[[9, 9], [0, 0]],
        metadatas=[{"n": 1}, {"y": None, "z": 3}],
        documents=["dn", None],
    )
    result = collection.get(include=ALL)
    # The updated record keeps its place; the new one goes to the end.
    assert result["ids"] == ["a", "b", "c", "new"]
    assert result["embeddings"].tolist() == [[0, 0], [3, 4], [5, 6], [9, 9]]
    assert result["metadatas"] == [{"x": 1, "z": 3}, None, None, {"n": 1}]
    assert result["documents"] == ["da", "db", "dc", "dn"]


def test_upsert_none_metadata_value_of_a_new_record(collection: Collection) -> None:
    collection.upsert(ids="a", embeddings=[1, 2], metadatas={"k": None, "j": 1})
    assert collection.get()["metadatas"] == [{"j": 1}]


# --------------------------------------------------------------------------- delete


def test_delete_by_ids_reports_every_id_given(collection: Collection) -> None:
    collection.add(ids=["a", "b"], embeddings=[[1, 2], [3, 4]])
    assert collection.delete(ids=["a", "missing", "also-missing"]) == {"deleted": 3}
    assert collection.get()["ids"] == ["b"]
    assert collection.delete(ids="gone") == {"deleted": 1}
    assert collection.delete(ids="b") == {"deleted": 1}
    assert collection.count() == 0


def test_delete_with_where_and_limit(collection: Collection) -> None:
    collection.add(
        ids=["a", "b", "c", "d", "e"],
        embeddings=[[1.0]] * 5,
        metadatas=[{"k": 1}, {"k": 2}, {"k": 1}, {"k": 1}, {"k": 1}],
    )
    assert collection.delete(where={"k": 1}, limit=2) == {"deleted": 2}
    assert collection.get()["ids"] == ["b", "d", "e"]
    assert collection.delete(where={"k": 1}, limit=0) == {"deleted": 0}
    assert collection.delete(where={"k": 1}) == {"deleted": 2}
    assert collection.get()["ids"] == ["b"]
    assert collection.delete(where={"k": 99}) == {"deleted": 0}


def test_delete_with_ids_and_where(collection: Collection) -> None:
    collection.add(
        ids=["a", "b", "c", "d"],
        embeddings=[[1.0]] * 4,
        metadatas=[{"k": 1}, {"k": 2}, {"k": 1}, {"k": 1}],
    )
    # Only the ids that also match the filter go, and only they are counted.
    assert collection.delete(ids=["a", "b", "d", "zz"], where={"k": 1}) == {"deleted": 2}
    assert collection.get()["ids"] == ["b", "c"]


def test_delete_with_where_document(collection: Collection) -> None:
    collection.add(ids=["a", "b", "c"], embeddings=[[1.0]] * 3, documents=["hello", "bye", "shell"])
    assert collection.delete(where_document={"$contains": "ell"}, limit=1) == {"deleted": 1}
    assert collection.get()["ids"] == ["b", "c"]
    assert collection.delete(where_document={"$contains": "ell"}) == {"deleted": 1}
    assert collection.get()["ids"] == ["b"]


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({}, ValueError, "At least one of ids, where, or where_document must be provided"),
        (
            {"ids": "a", "limit": 1},
            ValueError,
            "limit can only be specified when a where or where_document clause is provided",
        ),
        ({"where": {"k": 1}, "limit": True}, TypeError, "limit must be a non-negative integer"),
        ({"where": {"k": 1}, "limit": 1.5}, TypeError, "limit must be a non-negative integer"),
        ({"where": {"k": 1}, "limit": "1"}, TypeError, "limit must be a non-negative integer"),
        ({"where": {"k": 1}, "limit": -1}, ValueError, "limit must be a non-negative integer"),
        ({"ids": []}, ValueError, "Expected IDs to be a non-empty list, got 0 IDs"),
        (
            {"ids": ["a", "a"]},
            DuplicateIDError,
            "Expected IDs to be unique, found duplicates of: a",
        ),
        ({"where": "x"}, ValueError, "Expected where to be a dict, got x"),
        (
            {"where_document": {"$contains": ""}},
            ValueError,
            "Expected where document operand value for operator $contains to be a non-empty str",
        ),
    ],
)
def test_delete_errors(collection: Collection, arguments: dict, error: type, message: str) -> None:
    collection.add(ids="a", embeddings=[1.0], metadatas={"k": 1})
    raises(error, message + " in delete.", lambda: collection.delete(**arguments))
    assert collection.count() == 1


# --------------------------------------------------------------------------- get


def test_get_returns_insertion_order(collection: Collection) -> None:
    collection.add(ids=["c", "a", "b"], embeddings=[[1.0], [2.0], [3.0]])
    # The order of the ids argument is not honoured.
    assert collection.get(ids=["b", "a", "c"])["ids"] == ["c", "a", "b"]
    assert collection.get(ids=["b", "missing", "c"])["ids"] == ["c", "b"]
    # A deleted and re-added id moves to the end; update/upsert keep the place.
    collection.delete(ids="a")
    collection.add(ids="a", embeddings=[4.0])
    collection.update(ids="c", embeddings=[5.0])
    collection.upsert(ids=["b", "d"], embeddings=[[6.0], [7.0]])
    assert collection.get()["ids"] == ["c", "b", "a", "d"]


def test_get_by_missing_ids(collection: Collection) -> None:
    collection.add(ids="a", embeddings=[1, 2])
    result = collection.get(ids=["zz"])
    assert (result["ids"], result["documents"], result["metadatas"]) == ([], [], [])


def test_get_result_shape(collection: Collection) -> None:
    collection.add(ids="a", embeddings=[1, 2], documents="d", metadatas={"k": 1})
    assert collection.get() == {
        "ids": ["a"],
        "embeddings": None,
        "documents": ["d"],
        "uris": None,
        "included": ["metadatas", "documents"],
        "data": None,
        "metadatas": [{"k": 1}],
    }


def test_get_empty_embeddings(collection: Collection) -> None:
    result = collection.get(include=["embeddings"])
    assert isinstance(result["embeddings"], np.ndarray)
    assert result["embeddings"].dtype == np.float64
    assert result["embeddings"].shape == (0,)
    collection.add(ids="a", embeddings=[1, 2])
    assert collection.get(ids="zz", include=["embeddings"])["embeddings"].shape == (0,)


def test_get_with_filters(collection: Collection) -> None:
    collection.add(
        ids=["a", "b", "c"],
        embeddings=[[1.0]] * 3,
        metadatas=[{"k": 1}, {"k": 2}, {"k": 2}],
        documents=["hello", "bye", "hello again"],
    )
    assert collection.get(where={"k": 2})["ids"] == ["b", "c"]
    assert collection.get(where_document={"$contains": "hello"})["ids"] == ["a", "c"]
    assert collection.get(where={"k": 2}, where_document={"$contains": "hello"})["ids"] == ["c"]
    assert collection.get(ids=["a", "b"], where={"k": 2})["ids"] == ["b"]


@pytest.mark.parametrize(
    ("limit", "offset", "expected"),
    [
        (None, None, ["i0", "i1", "i2", "i3", "i4"]),
        (2, None, ["i0", "i1"]),
        (2, 1, ["i1", "i2"]),
        (None, 3, ["i3", "i4"]),
        (0, None, []),
        (None, 10, []),
        (10, 4, ["i4"]),
        (None, 0, ["i0", "i1", "i2", "i3", "i4"]),
    ],
)
def test_get_limit_and_offset(
    collection: Collection, limit: Any, offset: Any, expected: list
) -> None:
    collection.add(ids=[f"i{j}" for j in range(5)], embeddings=[[float(j)] for j in range(5)])
    assert collection.get(limit=limit, offset=offset)["ids"] == expected


def test_get_limit_applies_after_filtering(collection: Collection) -> None:
    collection.add(
        ids=[f"i{j}" for j in range(6)],
        embeddings=[[float(j)] for j in range(6)],
        metadatas=[{"even": j % 2 == 0} for j in range(6)],
    )
    assert collection.get(where={"even": True}, limit=2, offset=1)["ids"] == ["i2", "i4"]


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.get(limit=-1),
        lambda c: c.get(offset=-1),
        lambda c: c.peek(-1),
    ],
    ids=["limit", "offset", "peek"],
)
def test_negative_limit_or_offset(collection: Collection, call: Callable) -> None:
    with pytest.raises(OverflowError) as error:
        call(collection)
    assert str(error.value) == OUT_OF_RANGE


@pytest.mark.parametrize(
    ("include", "expected"),
    [
        ([], {"ids"}),
        (["documents"], {"ids", "documents"}),
        (["metadatas"], {"ids", "metadatas"}),
        (["uris"], {"ids", "uris"}),
        (["embeddings"], {"ids", "embeddings"}),
        (ALL, {"ids", *ALL}),
    ],
)
def test_get_include(collection: Collection, include: list, expected: set) -> None:
    collection.add(ids="a", embeddings=[1, 2], documents="d", metadatas={"k": 1}, uris="u")
    result = collection.get(include=include)
    assert result["included"] == include
    present = {k for k in ("ids", *ALL) if result[k] is not None}
    assert present == expected
    assert result["data"] is None


@pytest.mark.parametrize(
    ("include", "message"),
    [
        (["distances"], "Include item cannot be one of distances, got distances"),
        (["metadatas", "distances"], "Include item cannot be one of distances, got distances"),
        (
            ["foo"],
            "Expected include item to be one of documents, embeddings, metadatas, distances, "
            "uris, data, got foo",
        ),
        ("documents", "Expected include to be a list, got documents"),
        (None, "Expected include to be a list, got None"),
        (["data"], "You must set a data loader on the collection if loading from URIs."),
    ],
)
def test_get_invalid_include(collection: Collection, include: Any, message: str) -> None:
    collection.add(ids="a", embeddings=[1, 2])
    raises(ValueError, message + " in get.", lambda: collection.get(include=include))


# --------------------------------------------------------------------------- peek and count


def test_peek(collection: Collection) -> None:
    n = 12
    collection.add(
        ids=[f"i{j:02d}" for j in range(n)],
        embeddings=[[float(j), 0.0] for j in range(n)],
        uris=["u"] * n,
        documents=[f"d{j}" for j in range(n)],
    )
    result = collection.peek()
    assert result["ids"] == [f"i{j:02d}" for j in range(10)]
    assert result["embeddings"].tolist() == [[float(j), 0.0] for j in range(10)]
    assert result["documents"] == [f"d{j}" for j in range(10)]
    assert result["metadatas"] == [{}] * 10
    assert result["included"] == ["metadatas", "documents", "embeddings"]
    assert result["uris"] is None
    assert result["data"] is None
    assert collection.peek(2)["ids"] == ["i00", "i01"]
    assert collection.peek(limit=0)["ids"] == []
    assert len(collection.peek(100)["ids"]) == n


def test_peek_of_an_empty_collection(collection: Collection) -> None:
    result = collection.peek()
    assert result["ids"] == []
    assert result["embeddings"].shape == (0,)
    assert (result["documents"], result["metadatas"]) == ([], [])


def test_count(collection: Collection) -> None:
    assert collection.count() == 0
    collection.add(ids=["a", "b"], embeddings=[[1.0], [2.0]])
    assert collection.count() == 2
    assert collection.count(read_level="index_only") == 2
    collection.upsert(ids=["b", "c"], embeddings=[[1.0], [2.0]])
    assert collection.count() == 3
    collection.delete(ids="a")
    assert collection.count() == 2


# --------------------------------------------------------------------------- query


@pytest.mark.parametrize(
    ("space", "expected"),
    [
        # [2, 0] against [3, 4] and against [0, 0]; cosine with a zero vector is 1
        ("l2", {"a": 17.0, "zero": 4.0}),
        ("ip", {"a": -5.0, "zero": 1.0}),
        ("cosine", {"a": 0.39999998, "zero": 1.0}),
    ],
)
@pytest.mark.parametrize("how", ["configuration", "metadata"])
def test_distances_per_space(
    make_collection: MakeCollection, space: str, expected: dict, how: str
) -> None:
    if how == "configuration":
        collection = make_collection(configuration={"hnsw": {"space": space}})
    else:
        collection = make_collection(metadata={"hnsw:space": space})
    collection.add(ids=["a", "zero"], embeddings=[[3, 4], [0, 0]])
    result = collection.query(query_embeddings=[2, 0], include=["distances", "embeddings"])
    ids, distances = result["ids"][0], result["distances"][0]
    assert distances == sorted(distances)
    assert dict(zip(ids, distances)) == pytest.approx(expected, abs=1e-6)
    # Stored vectors come back as given (un-normalised for cosine).
    vectors = dict(zip(ids, result["embeddings"][0].tolist()))
    assert vectors["a"] == pytest.approx([3.0, 4.0], abs=1e-6)
    assert vectors["zero"] == [0.0, 0.0]
    stored = collection.get(ids="a", include=["embeddings"])["embeddings"]
    assert stored.tolist()[0] == pytest.approx([3.0, 4.0], abs=1e-6)


def test_query_with_a_zero_vector(make_collection: MakeCollection) -> None:
    for space, expected in [("l2", 25.0), ("ip", 1.0), ("cosine", 1.0)]:
        collection = make_collection(f"c_{space}", configuration={"hnsw": {"space": space}})
        collection.add(ids="a", embeddings=[3, 4])
        result = collection.query(query_embeddings=[0, 0], include=["distances"])
        assert result["distances"] == [[pytest.approx(expected)]]


def test_query_results_sorted_by_distance(collection: Collection) -> None:
    collection.add(
        ids=[f"i{j}" for j in range(10)], embeddings=[[float(j), 0.0] for j in range(10)]
    )
    result = collection.query(
        query_embeddings=[[4.2, 0.0], [0.0, 0.0]], n_results=4, include=["distances"]
    )
    assert result["ids"] == [["i4", "i5", "i3", "i6"], ["i0", "i1", "i2", "i3"]]
    assert result["distances"][0] == pytest.approx([0.04, 0.64, 1.44, 3.24], abs=1e-5)
    assert result["distances"][1] == [0.0, 1.0, 4.0, 9.0]


def test_query_result_shape(collection: Collection) -> None:
    collection.add(ids=["a", "b"], embeddings=[[1, 2], [1, 3]], metadatas=[{"k": 1}, None])
    result = collection.query(query_embeddings=[1, 2])
    assert result == {
        "ids": [["a", "b"]],
        "embeddings": None,
        "documents": [[None, None]],
        "uris": None,
        "included": ["metadatas", "documents", "distances"],
        "data": None,
        "metadatas": [[{"k": 1}, None]],
        "distances": [[0.0, 1.0]],
    }


def test_query_embeddings_are_a_list_of_2d_arrays(collection: Collection) -> None:
    collection.add(ids=["a", "b"], embeddings=[[0.1, 0.0], [0.0, 1.0]])
    result = collection.query(
        query_embeddings=np.array([[0.1, 0.0], [0.0, 1.0]]), n_results=1, include=["embeddings"]
    )
    assert result["ids"] == [["a"], ["b"]]
    assert len(result["embeddings"]) == 2
    for got, expected in zip(result["embeddings"], [[[0.1, 0.0]], [[0.0, 1.0]]]):
        assert isinstance(got, np.ndarray)
        assert got.dtype == np.float64
        assert got.tolist() == f32(expected)


def test_query_fewer_records_than_n_results(collection: Collection) -> None:
    collection.add(ids=["a", "b"], embeddings=[[1.0], [2.0]])
    result = collection.query(query_embeddings=[0.0], n_results=10, include=[])
    assert result["ids"] == [["a", "b"]]


def test_query_include(collection: Collection) -> None:
    collection.add(ids="a", embeddings=[1, 2], uris="u", metadatas={"k": 1}, documents="d")
    empty = collection.query(query_embeddings=[1, 2], include=[])
    assert empty["ids"] == [["a"]]
    assert empty["included"] == []
    assert all(
        empty[k] is None for k in ("embeddings", "documents", "uris", "metadatas", "distances")
    )
    full = collection.query(query_embeddings=[1, 2], include=QUERY_ALL)
    assert full["included"] == QUERY_ALL
    assert full["documents"] == [["d"]]
    assert full["uris"] == [["u"]]
    assert full["metadatas"] == [[{"k": 1}]]
    assert full["distances"] == [[0.0]]
    assert full["embeddings"][0].tolist() == [[1.0, 2.0]]
    # "data" without a data loader does not raise for query; it adds "uris" and, like
    # chromadb's engine, returns metadatas too.
    data = collection.query(query_embeddings=[1, 2], include=["data"])
    assert data["included"] == ["data", "uris"]
    assert (data["uris"], data["metadatas"], data["data"]) == ([["u"]], [[{"k": 1}]], None)


@pytest.mark.parametrize(
    ("include", "message"),
    [
        (
            ["foo"],
            "Expected include item to be one of documents, embeddings, metadatas, distances, "
            "uris, data, got foo",
        ),
        ("distances", "Expected include to be a list, got distances"),
        (None, "Expected include to be a list, got None"),
    ],
)
def test_query_invalid_include(collection: Collection, include: Any, message: str) -> None:
    collection.add(ids="a", embeddings=[1, 2])
    raises(
        ValueError,
        message + " in query.",
        lambda: collection.query(query_embeddings=[1, 2], include=include),
    )


@pytest.mark.parametrize(
    ("n_results", "error", "message"),
    [
        (0, TypeError, "Number of requested results 0, cannot be negative, or zero."),
        (-1, TypeError, "Number of requested results -1, cannot be negative, or zero."),
        (1.5, ValueError, "Expected requested number of results to be a int, got 1.5"),
        ("3", ValueError, "Expected requested number of results to be a int, got 3"),
        (np.int64(1), ValueError, "Expected requested number of results to be a int, got 1"),
        (None, ValueError, "Expected requested number of results to be a int, got None"),
    ],
)
def test_query_invalid_n_results(
    collection: Collection, n_results: Any, error: type, message: str
) -> None:
    collection.add(ids="a", embeddings=[1, 2])
    raises(
        error,
        message + " in query.",
        lambda: collection.query(query_embeddings=[1, 2], n_results=n_results),
    )


def test_query_n_results_true_is_one(collection: Collection) -> None:
    collection.add(ids=["a", "b"], embeddings=[[1, 2], [3, 4]])
    assert collection.query(query_embeddings=[1, 2], n_results=True, include=[])["ids"] == [["a"]]


def test_query_with_ids(collection: Collection) -> None:
    collection.add(ids=["a", "b", "c"], embeddings=[[1, 0], [2, 0], [3, 0]])
    result = collection.query(
        query_embeddings=[[0, 0], [3, 0]], ids=["c", "b"], include=["distances"]
    )
    assert result["ids"] == [["b", "c"], ["c", "b"]]
    assert result["distances"] == [[4.0, 9.0], [0.0, 1.0]]
    assert collection.query(query_embeddings=[0, 0], ids="c", include=[])["ids"] == [["c"]]
    # Duplicates are not rejected for query.
    assert collection.query(query_embeddings=[0, 0], ids=["a", "a"], include=[])["ids"] == [["a"]]


def test_query_with_empty_ids(collection: Collection) -> None:
    collection.add(ids=["a"], embeddings=[[1, 0]])
    result = collection.query(query_embeddings=[[0, 0], [1, 1]], ids=[], include=QUERY_ALL)
    assert result["ids"] == [[], []]
    assert result["documents"] == [[], []]
    assert result["metadatas"] == [[], []]
    assert result["uris"] == [[], []]
    assert result["distances"] == [[], []]
    assert [e.shape for e in result["embeddings"]] == [(0,), (0,)]


def test_query_with_an_unknown_id(collection: Collection) -> None:
    collection.add(ids=["a"], embeddings=[[1, 0]])
    raises(
        InternalError,
        "Error executing plan: Internal error: Error finding id",
        lambda: collection.query(query_embeddings=[0, 0], ids=["a", "missing"]),
    )


@pytest.mark.parametrize(
    "filters",
    [{"where": {"k": 1}}, {"where_document": {"$contains": "x"}}],
    ids=["where", "where_document"],
)
def test_query_with_unknown_ids_and_a_filter(collection: Collection, filters: dict) -> None:
    collection.add(
        ids=["a", "b"], embeddings=[[1, 0], [2, 0]], metadatas=[{"k": 1}] * 2, documents=["x"] * 2
    )
    result = collection.query(query_embeddings=[0, 0], ids=["a", "missing"], include=[], **filters)
    assert result["ids"] == [["a"]]


def test_query_with_filters(collection: Collection) -> None:
    collection.add(
        ids=["a", "b", "c"],
        embeddings=[[1, 0], [2, 0], [3, 0]],
        metadatas=[{"k": 1}, {"k": 2}, {"k": 2}],
        documents=["red", "green", "blue"],
    )
    assert collection.query(query_embeddings=[0, 0], where={"k": 2}, include=[])["ids"] == [
        ["b", "c"]
    ]
    result = collection.query(
        query_embeddings=[0, 0], where_document={"$contains": "re"}, include=[]
    )
    assert result["ids"] == [["a", "b"]]


def test_query_embeddings_win_over_texts(collection: Collection) -> None:
    collection.add(ids=["a"], embeddings=[[1, 2]])
    result = collection.query(query_embeddings=[[1, 2]], query_texts=["x"], include=[])
    assert result["ids"] == [["a"]]


@pytest.mark.parametrize(
    "setup",
    [
        lambda c: None,
        lambda c: c.update(ids="missing", metadatas={"k": 1}),
        lambda c: (c.add(ids="a", embeddings=[1, 2]), c.delete(ids="a")),
        lambda c: c.add(ids="a", embeddings=[1, 2], metadatas={"k": 1}),
    ],
    ids=["never-written", "no-vector-yet", "all-deleted", "filter-matches-nothing"],
)
def test_query_without_results(collection: Collection, setup: Callable) -> None:
    setup(collection)
    result = collection.query(query_embeddings=[[1, 2], [3, 4]], where={"k": 2}, include=QUERY_ALL)
    assert result["ids"] == [[], []]
    assert result["distances"] == [[], []]
    assert result["documents"] == [[], []]
    assert result["metadatas"] == [[], []]
    assert result["uris"] == [[], []]
    assert [e.shape for e in result["embeddings"]] == [(0,), (0,)]
    default = collection.query(query_embeddings=[1, 2], where={"k": 2})
    assert (default["ids"], default["documents"], default["metadatas"]) == ([[]], [[]], [[]])


def test_query_of_a_collection_without_vectors_checks_no_dimension(
    collection: Collection,
) -> None:
    result = collection.query(query_embeddings=[[1, 2, 3]], include=[])
    assert result["ids"] == [[]]


# --------------------------------------------------------------------------- dimensions


def dimension_error(expected: int, got: int) -> str:
    return f"Collection expecting embedding with dimension of {expected}, got {got}"


@pytest.mark.parametrize(
    ("call", "got"),
    [
        (lambda c: c.add(ids="b", embeddings=[1, 2, 3]), 3),
        (lambda c: c.add(ids="a", embeddings=[1, 2, 3]), 3),  # even for an existing id
        (lambda c: c.update(ids="a", embeddings=[1, 2, 3]), 3),
        (lambda c: c.update(ids="missing", embeddings=[1, 2, 3]), 3),
        (lambda c: c.upsert(ids="a", embeddings=[1, 2, 3]), 3),
        (lambda c: c.upsert(ids="b", embeddings=np.array([[1, 2, 3]])), 3),
        (lambda c: c.query(query_embeddings=[1, 2, 3]), 3),
        (lambda c: c.query(query_embeddings=[1.0]), 1),
    ],
    ids=[
        "add",
        "add-existing",
        "update",
        "update-missing",
        "upsert",
        "upsert-new",
        "query",
        "query-1",
    ],
)
def test_dimension_mismatch(collection: Collection, call: Callable, got: int) -> None:
    collection.add(ids="a", embeddings=[1, 2])
    raises(InvalidArgumentError, dimension_error(2, got), lambda: call(collection))
    assert collection.get(include=["embeddings"])["embeddings"].tolist() == [[1.0, 2.0]]


def test_dimension_is_fixed_by_the_first_write_with_embeddings(collection: Collection) -> None:
    # A write without embeddings does not fix it ...
    collection.update(ids="missing", metadatas={"k": 1})
    # ... an update of a missing id with embeddings does.
    collection.update(ids="missing", embeddings=[1, 2, 3])
    raises(
        InvalidArgumentError,
        dimension_error(3, 2),
        lambda: collection.add(ids="a", embeddings=[1, 2]),
    )
    collection.add(ids="a", embeddings=[1, 2, 3])
    # Deleting every record does not reset it.
    collection.delete(ids="a")
    raises(
        InvalidArgumentError,
        dimension_error(3, 2),
        lambda: collection.query(query_embeddings=[1, 2]),
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.add(ids=["a", "b"], embeddings=[[1, 2], [1]]),
        lambda c: c.update(ids=["a", "b"], embeddings=[[1, 2], [1]]),
        lambda c: c.upsert(ids=["a", "b"], embeddings=[[1, 2], [1]]),
        lambda c: c.upsert(ids=["a", "b"], embeddings=[np.array([1, 2]), np.array([1.0])]),
        lambda c: c.query(query_embeddings=[[1, 2], [1]]),
    ],
    ids=["add", "update", "upsert", "upsert-arrays", "query"],
)
def test_inconsistent_dimensions_in_one_call(collection: Collection, call: Callable) -> None:
    raises(
        InvalidArgumentError,
        "Inconsistent dimensions in provided embeddings",
        lambda: call(collection),
    )
    assert collection.count() == 0


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize(
    "method",
    ["add", "update", "upsert"],
)
def test_non_finite_embeddings(collection: Collection, value: float, method: str) -> None:
    collection.add(ids="a", embeddings=[1, 2])
    raises(
        InvalidArgumentError,
        NOT_FINITE,
        lambda: getattr(collection, method)(ids="a", embeddings=[1.0, value]),
    )
    assert collection.get(include=["embeddings"])["embeddings"].tolist() == [[1.0, 2.0]]


@pytest.mark.parametrize("method", ["add", "update", "upsert"])
def test_empty_id(collection: Collection, method: str) -> None:
    raises(
        InvalidArgumentError,
        EMPTY_ID,
        lambda: getattr(collection, method)(ids=["ok", ""], embeddings=[[1, 2], [3, 4]]),
    )
    assert collection.count() == 0


def test_empty_id_in_get_and_delete_is_just_missing(collection: Collection) -> None:
    collection.add(ids="a", embeddings=[1, 2])
    assert collection.get(ids="")["ids"] == []
    assert collection.delete(ids="") == {"deleted": 1}
    assert collection.count() == 1


# --------------------------------------------------------------------------- embedding sources


@pytest.mark.parametrize(
    ("call", "method"),
    [
        (lambda c: c.add(ids="a", documents="text"), "add"),
        (lambda c: c.upsert(ids="a", documents="text"), "upsert"),
        (lambda c: c.update(ids="a", documents="text"), "update"),
        (lambda c: c.query(query_texts="text"), "query"),
    ],
    ids=["add", "upsert", "update", "query"],
)
def test_documents_without_embedding_function(
    client: azurite.Client, call: Callable, method: str
) -> None:
    # A collection created with embedding_function=None embeds with the default function,
    # as in chromadb; one recorded with a legacy function has nothing to rebuild.
    class Legacy:
        def __call__(self, input: Any) -> Any:
            return [[1.0, 2.0] for _ in input]

    client.create_collection("legacy", embedding_function=Legacy())
    collection = client.get_collection("legacy", embedding_function=None)
    raises(ValueError, f"{NO_EMBEDDING_FUNCTION} in {method}.", lambda: call(collection))
    assert collection.count() == 0


def exactly_one_of(*fields: str) -> str:
    """chromadb lists the fields in set order, which varies between runs."""
    permutations = "|".join(re.escape(", ".join(p)) for p in itertools.permutations(fields))
    return f"Exactly one of ({permutations}) must be provided"


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (lambda c: c.add(ids="a"), exactly_one_of("documents", "images", "uris") + " in add."),
        (
            lambda c: c.add(ids="a", documents="x", uris="y"),
            exactly_one_of("documents", "images", "uris") + " in add.",
        ),
        (lambda c: c.upsert(ids="a"), exactly_one_of("documents", "images") + " in upsert."),
        (
            lambda c: c.upsert(ids="a", uris="y"),
            exactly_one_of("documents", "images") + " in upsert.",
        ),
        (
            lambda c: c.update(ids="a", documents="x", images=[np.zeros((2, 2))]),
            exactly_one_of("documents", "images") + " in update.",
        ),
        (
            lambda c: c.query(),
            re.escape(
                "At least one of one of embeddings, documents, images, uris must be provided "
                "in query."
            ),
        ),
        (
            lambda c: c.add(ids="a", uris="y"),
            re.escape("You must set a data loader on the collection if loading from URIs. in add."),
        ),
    ],
    ids=[
        "add-nothing",
        "add-two-sources",
        "upsert-nothing",
        "upsert-uris",
        "update-two-sources",
        "query-nothing",
        "add-uris",
    ],
)
def test_missing_embedding_source(collection: Collection, call: Callable, pattern: str) -> None:
    with pytest.raises(ValueError) as raised:
        call(collection)
    assert type(raised.value) is ValueError
    assert re.fullmatch(pattern, str(raised.value))
    assert collection.count() == 0


# --------------------------------------------------------------------------- Python-side validation


@pytest.mark.parametrize(
    ("method", "call", "error", "message"),
    [
        ("add", lambda c: c.add(ids=[], embeddings=[]), ValueError, None),
        (
            "add",
            lambda c: c.add(ids=["a", "b"], embeddings=[[1, 2]]),
            ValueError,
            "Unequal lengths for fields: ids: 2, embeddings: 1",
        ),
        (
            "add",
            lambda c: c.add(ids=["a", "b", "a", "b"], embeddings=[[1, 2]] * 4),
            DuplicateIDError,
            None,
        ),
        (
            "add",
            lambda c: c.add(ids=[1], embeddings=[[1, 2]]),
            ValueError,
            "Expected ID to be a str, got 1",
        ),
        (
            "add",
            lambda c: c.add(ids="a", embeddings=[[]]),
            IndexError,
            "list index out of range",
        ),
        (
            "add",
            lambda c: c.add(ids="a", embeddings=[1, 2], metadatas={}),
            ValueError,
            "Expected metadata to be a non-empty dict, got 0 metadata attributes",
        ),
        (
            "add",
            lambda c: c.add(ids="a", embeddings=[1, 2], metadatas={1: "x"}),
            TypeError,
            "Expected metadata key to be a str, got 1 which is a int",
        ),
        (
            "add",
            lambda c: c.add(ids="a", embeddings=[1, 2], documents=[3]),
            ValueError,
            "Expected document to be a str, got 3",
        ),
        (
            "add",
            lambda c: c.add(ids="a", embeddings=np.array([1, 2], dtype=np.uint8)),
            ValueError,
            None,
        ),
        (
            "update",
            lambda c: c.update(ids=[], embeddings=None),
            ValueError,
            "Non-empty lists are required for ['ids']",
        ),
        (
            "update",
            lambda c: c.update(ids="a", metadatas={"k": {"nested": 1}}),
            ValueError,
            None,
        ),
        (
            "upsert",
            lambda c: c.upsert(ids=["a", "a"], embeddings=[[1, 2]] * 2),
            DuplicateIDError,
            "Expected IDs to be unique, found duplicates of: a",
        ),
        (
            "upsert",
            lambda c: c.upsert(ids="a", embeddings=[1, 2], metadatas={"k": []}),
            ValueError,
            "Expected metadata list value for key 'k' to be non-empty",
        ),
        (
            "get",
            lambda c: c.get(ids=[]),
            ValueError,
            "Expected IDs to be a non-empty list, got 0 IDs",
        ),
        (
            "get",
            lambda c: c.get(where={}),
            ValueError,
            "Expected where to have exactly one operator, got {}",
        ),
        ("get", lambda c: c.get(where_document="x"), ValueError, None),
        (
            "query",
            lambda c: c.query(query_embeddings=[1, 2], where={"k": {"$foo": 1}}),
            ValueError,
            None,
        ),
        (
            "query",
            lambda c: c.query(query_embeddings=[]),
            ValueError,
            "Expected Embeddings to be non-empty list or numpy array, got []",
        ),
        ("delete", lambda c: c.delete(ids=[1]), ValueError, "Expected ID to be a str, got 1"),
    ],
)
def test_python_validation_messages_name_the_method(
    collection: Collection, method: str, call: Callable, error: type, message: str | None
) -> None:
    with pytest.raises(error) as raised:
        call(collection)
    assert type(raised.value) is error
    text = str(raised.value)
    assert text.endswith(f" in {method}.")
    if message is not None:
        assert text == f"{message} in {method}."


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda c: c.add(ids="", embeddings=[1, 2]),
            InvalidArgumentError,
            "Empty ID, ID must have at least one character",
        ),
        (
            lambda c: c.add(ids="a", embeddings=[1, math.nan]),
            InvalidArgumentError,
            "Validation error: embeddings: Embeddings must not contain NaN or Infinity values",
        ),
        (
            lambda c: c.add(ids="a", embeddings=[1, 2], metadatas={"#k": 1}),
            InvalidArgumentError,
            "Validation error: metadatas: Invalid metadata at index 0",
        ),
        (
            lambda c: c.query(query_embeddings=[1, 2, 3]),
            InvalidArgumentError,
            "Collection expecting embedding with dimension of 2, got 3",
        ),
        (
            lambda c: c.query(query_embeddings=[1, 2], ids=["missing"]),
            InternalError,
            "Error executing plan: Internal error: Error finding id",
        ),
    ],
)
def test_engine_errors_are_not_suffixed(
    collection: Collection, call: Callable, error: type, message: str
) -> None:
    collection.add(ids="x", embeddings=[0, 0])
    with pytest.raises(error) as raised:
        call(collection)
    assert type(raised.value) is error
    assert str(raised.value) == message
    assert not re.search(r" in (add|get|query|update|upsert|delete)\.$", str(raised.value))


# --------------------------------------------------------------------------- persistence


def test_records_survive_reopening(persistent_path: Path) -> None:
    with PersistentClient(persistent_path) as c:
        collection = c.create_collection(
            "coll", embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
        )
        collection.add(
            ids=["a", "b", "c"],
            embeddings=[[3, 4], [1, 0], [0, 1]],
            metadatas=[{"k": 1}, None, {"k": [1, 2]}],
            documents=["da", None, "dc"],
            uris=[None, "ub", None],
        )
        collection.delete(ids="b")
        collection.upsert(ids="b", embeddings=[1, 1])
    with PersistentClient(persistent_path) as c:
        collection = c.get_collection("coll")
        result = collection.get(include=ALL)
        assert result["ids"] == ["a", "c", "b"]
        np.testing.assert_allclose(result["embeddings"], [[3, 4], [0, 1], [1, 1]], atol=1e-6)
        assert result["metadatas"] == [{"k": 1}, {"k": [1, 2]}, None]
        assert result["documents"] == ["da", "dc", None]
        assert result["uris"] == [None, None, None]
        query = collection.query(query_embeddings=[3, 4], n_results=1, include=["distances"])
        assert query["ids"] == [["a"]]
        assert query["distances"][0][0] == pytest.approx(0.0, abs=1e-6)
        raises(
            InvalidArgumentError,
            dimension_error(2, 3),
            lambda: collection.add(ids="d", embeddings=[1, 2, 3]),
        )


def test_records_of_a_deleted_collection_are_gone(client: Any, collection: Collection) -> None:
    collection.add(ids="a", embeddings=[1, 2])
    client.delete_collection("coll")
    with pytest.raises(NotFoundError):
        collection.get()
    again = client.create_collection("coll", embedding_function=None)
    assert again.get()["ids"] == []
    again.add(ids="a", embeddings=[1, 2, 3])
    assert again.get(include=["embeddings"])["embeddings"].tolist() == [[1.0, 2.0, 3.0]]
