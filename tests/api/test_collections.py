"""Collection management: names, metadata, configuration, create/get/list/modify/delete,
their validation, and the HNSW configuration a collection is created with.

Expected values are those of chromadb 1.5.9's embedded client.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from azurite import Client, Collection
from azurite.errors import ChromaError, InternalError, InvalidArgumentError, NotFoundError

CHARSET = (
    "Expected a name containing 3-512 characters from [a-zA-Z0-9._-], starting and ending "
    "with a character in [a-zA-Z0-9]. Got: {}"
)
DOUBLE_PERIOD = "Expected a name that does not contains two consecutive periods (..). Got {}"
IP_ADDRESS = "Expected a name that is not a valid ip address. Got {}"
TWO_TOPOLOGIES = "Expected a name to contain at most one topology:  Got two `+` characters."
TOO_LONG = "Expected a name containing 3-512 characters. Got: {}"
HNSW_PARSE = "Failed to parse hnsw parameters from segment metadata"
UNKNOWN_HNSW_FIELD = (
    "unknown field `foo`, expected one of `space`, `ef_construction`, `ef_search`, "
    "`max_neighbors`, `num_threads`, `resize_factor`, `sync_threshold`, `batch_size`"
)
UNKNOWN_MUTABLE_FIELD = (
    "unknown field `{}`, expected one of `ef_search`, `max_neighbors`, `num_threads`, "
    "`resize_factor`, `sync_threshold`, `batch_size`"
)
NO_SPACE_CHANGE = (
    "Changing the distance function of a collection once it is created is not supported currently."
)
RENAME_CONFLICT = (
    "Database error: error returned from database: (code: 2067) UNIQUE constraint failed: "
    "collections.name, collections.database_id"
)


def hnsw(**changes: Any) -> dict[str, Any]:
    """The stored HNSW configuration: defaults with `changes`."""
    defaults = {
        "space": "l2",
        "ef_construction": 100,
        "ef_search": 100,
        "max_neighbors": 16,
        "resize_factor": 1.2,
        "sync_threshold": 1000,
    }
    return {**defaults, **changes}


LEGACY = {"type": "legacy"}
DEFAULT_EF = {"type": "known", "name": "default", "config": {}}

MakeCollection = Callable[..., Collection]


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    "name",
    [
        "abc",
        "ABC",
        "a" * 512,
        "Abc_1.x-y",
        "a.b",
        "a_b",
        "a-b",
        "123",
        "1.2.3",  # not an ip address
        "1.2.3.4.5",
        "256.1.1.1",
        "abc+def",  # topology prefix
        "a" * 255 + "+" + "b" * 256,  # 512 in total
    ],
)
def test_valid_names(client: Client, make_collection: MakeCollection, name: str) -> None:
    assert make_collection(name).name == name
    assert client.get_collection(name).name == name


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", CHARSET.format("")),
        ("ab", CHARSET.format("ab")),
        ("a" * 513, CHARSET.format("a" * 513)),
        ("-abc", CHARSET.format("-abc")),
        ("abc-", CHARSET.format("abc-")),
        ("_ab", CHARSET.format("_ab")),
        ("ab_", CHARSET.format("ab_")),
        (".ab", CHARSET.format(".ab")),
        ("ab c", CHARSET.format("ab c")),
        ("ab/c", CHARSET.format("ab/c")),
        ("abé", CHARSET.format("abé")),
        ("::1", CHARSET.format("::1")),
        ("a..b", DOUBLE_PERIOD.format("a..b")),
        ("1.2.3.4", IP_ADDRESS.format("1.2.3.4")),
        ("127.0.0.1", IP_ADDRESS.format("127.0.0.1")),
        # With a topology prefix each half is checked on its own.
        ("abc+de", CHARSET.format("de")),
        ("ab+abc", CHARSET.format("ab")),
        ("abc+", CHARSET.format("")),
        ("+abc", CHARSET.format("")),
        ("abc+ab_", CHARSET.format("ab_")),
        ("a..b+abc", DOUBLE_PERIOD.format("a..b")),
        ("abc+1.2.3.4", IP_ADDRESS.format("1.2.3.4")),
        ("a+b+c", TWO_TOPOLOGIES),
        ("abc+def+", TWO_TOPOLOGIES),
    ],
)
def test_invalid_names(make_collection: MakeCollection, name: str, message: str) -> None:
    with pytest.raises(InvalidArgumentError) as error:
        make_collection(name)
    assert str(error.value) == "Validation error: name: " + message


@pytest.mark.parametrize(
    "name",
    ["a" * 256 + "+" + "b" * 256, "a" * 300 + "+" + "b" * 300, "a" * 513 + "+abc"],
)
def test_topology_names_longer_than_512(make_collection: MakeCollection, name: str) -> None:
    # Both halves are valid names but the whole is too long.
    with pytest.raises(InvalidArgumentError) as error:
        make_collection(name)
    assert str(error.value) == "Validation error: name: " + TOO_LONG.format(len(name))


def test_names_are_case_sensitive(client: Client, make_collection: MakeCollection) -> None:
    lower, upper = make_collection("abc"), make_collection("ABC")
    assert lower.id != upper.id
    assert client.count_collections() == 2


def test_name_must_be_a_string(make_collection: MakeCollection) -> None:
    # The engine's argument conversion refuses it; its wording is not chromadb's.
    with pytest.raises(TypeError, match="'int' object") as raised:
        make_collection(123)
    assert type(raised.value) is TypeError


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"configuration": {"hnsw": {"foo": 1}}}, InvalidArgumentError, UNKNOWN_HNSW_FIELD),
        ({"metadata": {"hnsw:foo": 1}}, InvalidArgumentError, HNSW_PARSE),
    ],
)
def test_configuration_is_checked_before_the_name(
    make_collection: MakeCollection, arguments: dict, error: type, message: str
) -> None:
    with pytest.raises(error) as raised:
        make_collection("x", **arguments)
    assert str(raised.value).startswith(message)


# --------------------------------------------------------------------------- metadata


@pytest.mark.parametrize(
    "metadata",
    [
        None,
        {"a": 1},
        {"s": "x", "i": -3, "f": 2.5, "b": True, "z": False},
        {"chroma:x": "stored like any key"},
        {"hnsw:space": "cosine", "other": "kept"},
    ],
)
def test_metadata_round_trip(
    client: Client, make_collection: MakeCollection, metadata: dict | None
) -> None:
    assert make_collection(metadata=metadata).metadata == metadata
    stored = client.get_collection("coll").metadata
    assert stored == metadata
    if metadata is not None:
        assert {k: type(v) for k, v in stored.items()} == {k: type(v) for k, v in metadata.items()}


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({}, "Validation error: metadata: Metadata cannot be empty"),
        ({"#k": 1}, "Validation error: metadata: Metadata key cannot start with '#' or '$': #k"),
        ({"$k": 1}, "Validation error: metadata: Metadata key cannot start with '#' or '$': $k"),
        ({"": 1}, "Validation error: metadata: Metadata key cannot be empty"),
    ],
)
def test_invalid_metadata(make_collection: MakeCollection, metadata: dict, message: str) -> None:
    with pytest.raises(InvalidArgumentError) as error:
        make_collection(metadata=metadata)
    assert str(error.value) == message


def test_none_metadata_value_on_create(make_collection: MakeCollection) -> None:
    with pytest.raises(TypeError) as error:
        make_collection(metadata={"k": None})
    assert str(error.value) == "argument 'metadata': Cannot convert Python object to MetadataValue"


def test_list_metadata_value_on_create_is_rejected(
    client: Client, make_collection: MakeCollection
) -> None:
    # chromadb panics on list values in collection metadata; Azurite refuses cleanly.
    with pytest.raises(InvalidArgumentError):
        make_collection(metadata={"k": [1, 2]})
    assert client.count_collections() == 0


@pytest.mark.parametrize(
    "metadata",
    [
        {"hnsw:foo": 1},
        {"hnsw:space": "foobar"},
        {"hnsw:space": 1},
        {"hnsw:M": "x"},
        {"hnsw:M": 8.0},
        {"hnsw:construction_ef": "100"},
        {"hnsw:sync_threshold": 1},
        {"hnsw:batch_size": 1},
    ],
)
def test_invalid_legacy_hnsw_metadata(
    client: Client, make_collection: MakeCollection, metadata: dict
) -> None:
    with pytest.raises(InvalidArgumentError) as error:
        make_collection(metadata=metadata)
    assert str(error.value) == HNSW_PARSE
    assert client.count_collections() == 0


# --------------------------------------------------------------------------- configuration


def test_configuration_json_of_a_plain_collection(make_collection: MakeCollection) -> None:
    collection = make_collection()
    assert collection.configuration_json == {
        "hnsw": hnsw(),
        "spann": None,
        "embedding_function": None,
    }
    assert collection.configuration == {"hnsw": hnsw(), "spann": None, "embedding_function": None}


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        # chromadb 1.5.9's observed outcomes
        ({"embedding_function": None}, {"hnsw": hnsw(), "embedding_function": None}),
        ({}, {"hnsw": hnsw(), "embedding_function": DEFAULT_EF}),
        (
            {"embedding_function": None, "metadata": {"hnsw:space": "cosine"}},
            {"hnsw": hnsw(space="cosine"), "embedding_function": None},
        ),
        (
            {"metadata": {"hnsw:space": "ip"}},
            {"hnsw": hnsw(space="ip"), "embedding_function": DEFAULT_EF},
        ),
        (
            {
                "embedding_function": None,
                "configuration": {"hnsw": {"space": "ip", "ef_search": 50}},
            },
            {"hnsw": hnsw(space="ip", ef_search=50), "embedding_function": LEGACY},
        ),
        (
            {
                "configuration": {"hnsw": {"ef_search": 50}},
                "metadata": {"hnsw:space": "cosine"},
            },
            {"hnsw": hnsw(ef_search=50), "embedding_function": DEFAULT_EF},
        ),
        (
            {
                "embedding_function": None,
                "configuration": {"hnsw": {"ef_search": 50}},
                "metadata": {"hnsw:space": "cosine"},
            },
            {"hnsw": hnsw(ef_search=50), "embedding_function": LEGACY},
        ),
        (
            {
                "embedding_function": None,
                "metadata": {
                    "hnsw:construction_ef": 5,
                    "hnsw:M": 4,
                    "hnsw:search_ef": 7,
                    "hnsw:resize_factor": 1.5,
                },
            },
            {
                "hnsw": hnsw(ef_construction=5, max_neighbors=4, ef_search=7, resize_factor=1.5),
                "embedding_function": None,
            },
        ),
        (
            {
                "embedding_function": None,
                "metadata": {
                    "hnsw:num_threads": 2,
                    "hnsw:batch_size": 50,
                    "hnsw:sync_threshold": 60,
                },
            },
            {"hnsw": hnsw(sync_threshold=60), "embedding_function": None},
        ),
        # An all-default hnsw configuration gives way to the legacy metadata ...
        (
            {
                "embedding_function": None,
                "configuration": {"hnsw": {"ef_search": 100}},
                "metadata": {"hnsw:M": 8, "hnsw:space": "ip"},
            },
            {"hnsw": hnsw(space="ip", max_neighbors=8), "embedding_function": LEGACY},
        ),
        # ... a non-default one wins over it.
        (
            {
                "embedding_function": None,
                "configuration": {"hnsw": {"ef_search": 99}},
                "metadata": {"hnsw:M": 8, "hnsw:space": "ip"},
            },
            {"hnsw": hnsw(ef_search=99), "embedding_function": LEGACY},
        ),
        (
            {
                "embedding_function": None,
                "configuration": {"hnsw": {}},
                "metadata": {"hnsw:space": "cosine"},
            },
            {"hnsw": hnsw(space="cosine"), "embedding_function": LEGACY},
        ),
        (
            {"embedding_function": None, "configuration": {}},
            {"hnsw": hnsw(), "embedding_function": None},
        ),
        (
            {"embedding_function": None, "configuration": {"hnsw": None}},
            {"hnsw": hnsw(), "embedding_function": LEGACY},
        ),
        # sync_threshold >= 2 is only enforced for the legacy metadata.
        (
            {"embedding_function": None, "configuration": {"hnsw": {"sync_threshold": 1}}},
            {"hnsw": hnsw(sync_threshold=1), "embedding_function": LEGACY},
        ),
        # num_threads and batch_size are never serialised.
        (
            {
                "embedding_function": None,
                "configuration": {"hnsw": {"num_threads": 2, "batch_size": 1}},
            },
            {"hnsw": hnsw(), "embedding_function": LEGACY},
        ),
        # Locally, spann becomes hnsw keeping only the space.
        (
            {
                "embedding_function": None,
                "configuration": {"spann": {"space": "cosine", "search_nprobe": 5, "ef_search": 7}},
            },
            {"hnsw": hnsw(space="cosine"), "embedding_function": LEGACY},
        ),
        (
            {"configuration": {"spann": {"search_nprobe": 5}}},
            {"hnsw": hnsw(), "embedding_function": DEFAULT_EF},
        ),
        (
            {"configuration": {"spann": {"space": "ip"}}},
            {"hnsw": hnsw(space="ip"), "embedding_function": DEFAULT_EF},
        ),
    ],
)
def test_configuration_resolution(
    client: Client, arguments: dict, expected: dict[str, Any]
) -> None:
    collection = client.create_collection("coll", **arguments)
    expected = {"hnsw": expected["hnsw"], "spann": None, **expected}
    assert collection.configuration_json == expected
    assert client.get_collection("coll").configuration_json == expected
    assert collection.metadata == arguments.get("metadata")


@pytest.mark.parametrize(
    ("configuration", "message"),
    [
        ({"hnsw": {"foo": 1}}, UNKNOWN_HNSW_FIELD),
        ({"hnsw": {"space": "foo"}}, "unknown variant `foo`, expected one of `l2`, `cosine`, `ip`"),
        ({"hnsw": {"ef_search": "x"}}, 'invalid type: string "x", expected usize'),
        ({"spann": {"foo": 1}}, "unknown field `foo`, expected one of "),
    ],
)
def test_invalid_configuration(
    client: Client, make_collection: MakeCollection, configuration: dict, message: str
) -> None:
    with pytest.raises(InvalidArgumentError) as error:
        make_collection(configuration=configuration)
    # chromadb appends the JSON position (" at line 1 column n").
    assert str(error.value).startswith(message)
    assert client.count_collections() == 0


def test_hnsw_and_spann_together(client: Client, make_collection: MakeCollection) -> None:
    with pytest.raises(ValueError) as error:
        make_collection(configuration={"hnsw": {"space": "ip"}, "spann": {"space": "ip"}})
    assert str(error.value) == "hnsw and spann cannot both be provided"
    assert client.count_collections() == 0


def test_configuration_survives_reopening(persistent_path: Any) -> None:
    from azurite import PersistentClient

    with PersistentClient(persistent_path) as c:
        c.create_collection(
            "coll",
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine", "ef_construction": 50}},
            metadata={"m": 1},
        )
    with PersistentClient(persistent_path) as c:
        collection = c.get_collection("coll")
        assert collection.configuration_json["hnsw"] == hnsw(space="cosine", ef_construction=50)
        assert collection.metadata == {"m": 1}


# --------------------------------------------------------------------------- create / get / delete


def test_create_collection_returns_the_collection(client: Client) -> None:
    collection = client.create_collection("coll", embedding_function=None, metadata={"a": 1})
    assert isinstance(collection, Collection)
    assert isinstance(collection.id, uuid.UUID)
    assert collection.name == "coll"
    assert collection.metadata == {"a": 1}
    assert collection.count() == 0
    assert client.count_collections() == 1


def test_duplicate_create(client: Client, make_collection: MakeCollection) -> None:
    first = make_collection(metadata={"a": 1})
    with pytest.raises(InternalError) as error:
        make_collection(metadata={"b": 2})
    assert str(error.value) == "Collection [coll] already exists"
    assert isinstance(error.value, ChromaError)
    assert client.get_collection("coll").id == first.id
    assert client.get_collection("coll").metadata == {"a": 1}


def test_create_with_get_or_create_flag(client: Client, make_collection: MakeCollection) -> None:
    first = make_collection(metadata={"a": 1})
    again = client.create_collection(
        "coll", embedding_function=None, metadata={"b": 2}, get_or_create=True
    )
    assert again.id == first.id
    assert again.metadata == {"a": 1}


def test_get_or_create_returns_the_existing_collection_unchanged(
    client: Client, make_collection: MakeCollection
) -> None:
    first = make_collection(metadata={"a": 1}, configuration={"hnsw": {"space": "ip"}})
    first.add(ids="x", embeddings=[1.0])
    again = client.get_or_create_collection(
        "coll",
        embedding_function=None,
        metadata={"b": 2},
        configuration={"hnsw": {"space": "cosine"}},
    )
    assert again.id == first.id
    assert again.metadata == {"a": 1}
    assert again.configuration_json == first.configuration_json
    assert again.configuration_json["hnsw"]["space"] == "ip"
    assert again.count() == 1
    assert client.count_collections() == 1


def test_get_or_create_creates_a_missing_collection(client: Client) -> None:
    created = client.get_or_create_collection(
        "coll", embedding_function=None, metadata={"b": 2}, configuration={"hnsw": {"space": "ip"}}
    )
    assert created.metadata == {"b": 2}
    assert created.configuration_json["hnsw"]["space"] == "ip"
    assert client.get_collection("coll").id == created.id


def test_get_or_create_validates_the_name(client: Client) -> None:
    with pytest.raises(InvalidArgumentError, match=re.escape(CHARSET.format("ab"))):
        client.get_or_create_collection("ab", embedding_function=None)


def test_get_collection(client: Client, make_collection: MakeCollection) -> None:
    created = make_collection(metadata={"a": 1})
    got = client.get_collection("coll", embedding_function=None)
    assert got == created
    assert got.id == created.id
    assert got.metadata == {"a": 1}


def test_get_collection_by_id(client: Client, make_collection: MakeCollection) -> None:
    created = make_collection()
    assert client.get_collection_by_id(created.id).name == "coll"
    assert client.get_collection_by_id(str(created.id)).id == created.id


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.get_collection("missing"),
        lambda c: c.delete_collection("missing"),
    ],
    ids=["get_collection", "delete_collection"],
)
def test_missing_collection_by_name(client: Client, call: Callable) -> None:
    with pytest.raises(NotFoundError) as error:
        call(client)
    assert str(error.value) == "Collection [missing] does not exist"


def test_missing_collection_by_id(client: Client) -> None:
    missing = uuid.UUID("12345678-1234-5678-1234-567812345678")
    with pytest.raises(NotFoundError) as error:
        client.get_collection_by_id(missing)
    assert str(error.value) == f"Collection [{missing}] does not exist"


def test_get_collection_by_invalid_id(client: Client) -> None:
    with pytest.raises(InvalidArgumentError) as error:
        client.get_collection_by_id("not-a-uuid")
    assert (
        str(error.value)
        == "Validation error: collection_id: Invalid collection ID format, expected UUID"
    )


def test_delete_collection(client: Client, make_collection: MakeCollection) -> None:
    doomed = make_collection()
    doomed.add(ids="a", embeddings=[1.0, 2.0])
    kept = make_collection("kept")
    assert client.delete_collection("coll") is None
    assert [c.name for c in client.list_collections()] == ["kept"]
    with pytest.raises(NotFoundError, match=re.escape("Collection [coll] does not exist")):
        client.get_collection("coll")
    with pytest.raises(NotFoundError):
        client.get_collection_by_id(doomed.id)
    # The name is free again, for a new, empty collection with another dimension.
    again = make_collection()
    assert again.id != doomed.id
    assert again.count() == 0
    again.add(ids="a", embeddings=[1.0, 2.0, 3.0])
    assert kept.count() == 0


# --------------------------------------------------------------------------- list / count


def test_list_collections_is_ordered_by_id(client: Client, make_collection: MakeCollection) -> None:
    created = [make_collection(f"coll{i}") for i in range(8)]
    by_id = sorted(created, key=lambda c: str(c.id))
    listed = client.list_collections()
    assert all(isinstance(c, Collection) for c in listed)
    assert [c.id for c in listed] == [c.id for c in by_id]
    assert [c.name for c in listed] == [c.name for c in by_id]


@pytest.mark.parametrize(
    ("limit", "offset", "window"),
    [
        (None, None, slice(None)),
        (2, None, slice(0, 2)),
        (2, 1, slice(1, 3)),
        (None, 3, slice(3, None)),
        (10, 4, slice(4, None)),
        (0, None, slice(0, 0)),
        (None, 5, slice(5, None)),
        (3, 9, slice(9, None)),
    ],
)
def test_list_collections_limit_and_offset(
    client: Client, make_collection: MakeCollection, limit: Any, offset: Any, window: slice
) -> None:
    ids = sorted(str(make_collection(f"coll{i}").id) for i in range(5))
    listed = client.list_collections(limit=limit, offset=offset)
    assert [str(c.id) for c in listed] == ids[window]


@pytest.mark.parametrize("arguments", [{"limit": -1}, {"offset": -1}])
def test_list_collections_negative(client: Client, arguments: dict) -> None:
    with pytest.raises(OverflowError) as error:
        client.list_collections(**arguments)
    assert str(error.value) == "out of range integral type conversion attempted"


def test_listed_collections_carry_their_model(
    client: Client, make_collection: MakeCollection
) -> None:
    created = make_collection(metadata={"a": 1}, configuration={"hnsw": {"space": "ip"}})
    (listed,) = client.list_collections()
    assert listed.id == created.id
    assert listed.metadata == {"a": 1}
    assert listed.configuration_json == created.configuration_json
    assert (listed.tenant, listed.database) == (created.tenant, created.database)


def test_count_collections(client: Client, make_collection: MakeCollection) -> None:
    assert client.count_collections() == 0
    for i in range(3):
        make_collection(f"coll{i}")
    assert client.count_collections() == 3
    client.delete_collection("coll1")
    assert client.count_collections() == 2


# --------------------------------------------------------------------------- modify


def test_modify_renames(client: Client, make_collection: MakeCollection) -> None:
    collection = make_collection(metadata={"a": 1})
    collection.add(ids="x", embeddings=[1.0])
    assert collection.modify(name="renamed") is None
    assert collection.name == "renamed"
    assert repr(collection) == "Collection(name=renamed)"
    got = client.get_collection("renamed")
    assert (got.id, got.metadata, got.count()) == (collection.id, {"a": 1}, 1)
    with pytest.raises(NotFoundError, match=re.escape("Collection [coll] does not exist")):
        client.get_collection("coll")
    # The old name is free again.
    make_collection("coll")


def test_modify_rename_to_the_same_name(client: Client, make_collection: MakeCollection) -> None:
    collection = make_collection()
    collection.modify(name="coll")
    assert client.get_collection("coll").id == collection.id


def test_modify_rename_to_an_existing_name(client: Client, make_collection: MakeCollection) -> None:
    make_collection()
    other = make_collection("other")
    with pytest.raises(InternalError) as error:
        other.modify(name="coll")
    assert str(error.value) == RENAME_CONFLICT
    assert other.name == "other"
    assert client.get_collection("other").id == other.id


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("ab", CHARSET.format("ab")),
        ("a..b", DOUBLE_PERIOD.format("a..b")),
        ("1.2.3.4", IP_ADDRESS.format("1.2.3.4")),
        ("a+b+c", TWO_TOPOLOGIES),
    ],
)
def test_modify_invalid_name(
    client: Client, make_collection: MakeCollection, name: str, message: str
) -> None:
    collection = make_collection()
    with pytest.raises(InvalidArgumentError) as error:
        collection.modify(name=name)
    assert str(error.value) == "Validation error: new_name: " + message
    assert client.get_collection("coll").id == collection.id


def test_modify_metadata_replaces_the_whole_metadata(
    client: Client, make_collection: MakeCollection
) -> None:
    collection = make_collection(metadata={"a": 1, "b": 2})
    collection.modify(metadata={"c": 3})
    assert collection.metadata == {"c": 3}
    assert client.get_collection("coll").metadata == {"c": 3}
    # A None value drops the key.
    collection.modify(metadata={"c": None, "d": "x"})
    assert client.get_collection("coll").metadata == {"d": "x"}
    # Only None values: the collection is left without metadata, as in chromadb.
    collection.modify(metadata={"d": None})
    assert client.get_collection("coll").metadata is None


def test_modify_name_and_metadata_together(client: Client, make_collection: MakeCollection) -> None:
    collection = make_collection(metadata={"a": 1})
    collection.modify(name="renamed", metadata={"b": 2})
    got = client.get_collection("renamed")
    assert (got.name, got.metadata) == ("renamed", {"b": 2})


def test_modify_without_arguments_changes_nothing(
    client: Client, make_collection: MakeCollection
) -> None:
    collection = make_collection(metadata={"a": 1})
    before = client.get_collection("coll").configuration_json
    collection.modify()
    got = client.get_collection("coll")
    assert (got.name, got.metadata, got.configuration_json) == ("coll", {"a": 1}, before)


@pytest.mark.parametrize(
    ("metadata", "error", "message"),
    [
        ({}, ValueError, "Expected metadata to be a non-empty dict, got 0 metadata attributes"),
        ("x", ValueError, "Expected metadata to be a dict or None, got str as metadata"),
        ({"hnsw:space": "ip"}, ValueError, NO_SPACE_CHANGE),
        (
            {"#a": 1},
            InvalidArgumentError,
            "Validation error: new_metadata: Metadata key cannot start with '#' or '$': #a",
        ),
    ],
)
def test_modify_invalid_metadata(
    client: Client, make_collection: MakeCollection, metadata: Any, error: type, message: str
) -> None:
    collection = make_collection(metadata={"a": 1})
    with pytest.raises(error) as raised:
        collection.modify(metadata=metadata)
    assert type(raised.value) is error
    assert str(raised.value) == message
    assert client.get_collection("coll").metadata == {"a": 1}


def test_modify_legacy_hnsw_metadata_is_plain_metadata(
    client: Client, make_collection: MakeCollection
) -> None:
    collection = make_collection()
    collection.modify(metadata={"hnsw:M": 5, "hnsw:search_ef": 3})
    got = client.get_collection("coll")
    assert got.metadata == {"hnsw:M": 5, "hnsw:search_ef": 3}
    assert got.configuration_json["hnsw"] == hnsw()


def test_modify_configuration_is_persisted(client: Client, make_collection: MakeCollection) -> None:
    collection = make_collection(configuration={"hnsw": {"space": "cosine"}})
    collection.modify(
        configuration={"hnsw": {"ef_search": 7, "max_neighbors": 20, "sync_threshold": 50}}
    )
    expected = hnsw(space="cosine", ef_search=7, max_neighbors=20, sync_threshold=50)
    assert client.get_collection("coll").configuration_json["hnsw"] == expected
    assert collection.configuration_json["hnsw"]["ef_search"] == 7
    # Only the given fields change.
    collection.modify(configuration={"hnsw": {"resize_factor": 2.0, "num_threads": 3}})
    expected = {**expected, "resize_factor": 2.0}
    assert client.get_collection("coll").configuration_json["hnsw"] == expected


def test_modified_configuration_keeps_the_collection_searchable(
    make_collection: MakeCollection,
) -> None:
    collection = make_collection()
    collection.add(ids=["a", "b"], embeddings=[[0.0, 0.0], [1.0, 1.0]])
    collection.modify(configuration={"hnsw": {"ef_search": 1}})
    result = collection.query(query_embeddings=[1.0, 1.0], n_results=2, include=[])
    assert result["ids"] == [["b", "a"]]


@pytest.mark.parametrize("field", ["space", "ef_construction", "foo"])
def test_modify_immutable_configuration(
    client: Client, make_collection: MakeCollection, field: str
) -> None:
    collection = make_collection()
    value = "ip" if field == "space" else 5
    with pytest.raises(InvalidArgumentError) as error:
        collection.modify(configuration={"hnsw": {field: value}})
    assert str(error.value).startswith(UNKNOWN_MUTABLE_FIELD.format(field))
    assert client.get_collection("coll").configuration_json["hnsw"] == hnsw()


def test_modify_configuration_with_a_wrong_type(make_collection: MakeCollection) -> None:
    with pytest.raises(InvalidArgumentError) as error:
        make_collection().modify(configuration={"hnsw": {"ef_search": "x"}})
    assert str(error.value).startswith('invalid type: string "x", expected usize')


def test_modify_spann_configuration_of_an_hnsw_collection(
    client: Client, make_collection: MakeCollection
) -> None:
    collection = make_collection()
    with pytest.raises(ValueError) as error:
        collection.modify(configuration={"spann": {"search_nprobe": 5}})
    assert str(error.value) == "Trying to update SPANN config but schema has HNSW"


def test_modify_list_metadata_is_rejected(client: Client, make_collection: MakeCollection) -> None:
    # chromadb panics on list values in collection metadata; Azurite refuses cleanly.
    collection = make_collection(metadata={"a": 1})
    with pytest.raises(InvalidArgumentError):
        collection.modify(metadata={"k": [1, 2]})
    assert client.get_collection("coll").metadata == {"a": 1}


# --------------------------------------------------------------------------- deleted collections

OPERATIONS_ON_A_COLLECTION = {
    "count": lambda c: c.count(),
    "add": lambda c: c.add(ids="x", embeddings=[1.0]),
    "get": lambda c: c.get(),
    "peek": lambda c: c.peek(),
    "query": lambda c: c.query(query_embeddings=[1.0]),
    "update": lambda c: c.update(ids="x", embeddings=[1.0]),
    "upsert": lambda c: c.upsert(ids="x", embeddings=[1.0]),
    "delete": lambda c: c.delete(ids="x"),
    "modify": lambda c: c.modify(name="renamed"),
}


@pytest.mark.parametrize(
    "operation", OPERATIONS_ON_A_COLLECTION.values(), ids=list(OPERATIONS_ON_A_COLLECTION)
)
def test_operations_on_a_deleted_collection(
    client: Client, make_collection: MakeCollection, operation: Callable
) -> None:
    collection = make_collection()
    collection.add(ids="x", embeddings=[1.0])
    client.delete_collection("coll")
    with pytest.raises(NotFoundError) as error:
        operation(collection)
    # chromadb's messages: with a period for the record calls (its embedded client also
    # puts "Error getting collection: " before it on add, update, upsert and query, a
    # difference README lists), without one for modify.
    period = "" if operation is OPERATIONS_ON_A_COLLECTION["modify"] else "."
    assert str(error.value) == f"Collection [{collection.id}] does not exist{period}"


def test_stale_collection_object_after_recreate(
    client: Client, make_collection: MakeCollection
) -> None:
    stale = make_collection()
    client.delete_collection("coll")
    fresh = make_collection()
    fresh.add(ids="x", embeddings=[1.0])
    with pytest.raises(NotFoundError):
        stale.count()
    assert fresh.count() == 1


# --------------------------------------------------------------------------- the Collection object


def test_collection_properties(client: Client, make_collection: MakeCollection) -> None:
    collection = make_collection(metadata={"a": 1})
    assert isinstance(collection.id, uuid.UUID)
    assert collection.name == "coll"
    assert collection.metadata == {"a": 1}
    assert collection.tenant == client.tenant == "default_tenant"
    assert collection.database == client.database == "default_database"
    assert repr(collection) == "Collection(name=coll)"
    assert make_collection("plain").metadata is None
    configuration = collection.configuration
    assert set(configuration) == {"hnsw", "spann", "embedding_function"}
    assert configuration["embedding_function"] is None
    assert configuration["hnsw"] == hnsw()


def test_collection_equality(client: Client, make_collection: MakeCollection) -> None:
    collection = make_collection()
    assert collection == client.get_collection("coll", embedding_function=None)
    assert collection != make_collection("other")
    assert collection != "coll"
    collection.modify(metadata={"changed": True})
    assert collection == client.get_collection("coll", embedding_function=None)
