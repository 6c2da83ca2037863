"""Clients, settings, tenants and databases, and the validation of their arguments.

Expected values are those of chromadb 1.5.9's embedded client.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import azurite
from azurite import (
    DEFAULT_DATABASE,
    DEFAULT_TENANT,
    AdminClient,
    Client,
    EphemeralClient,
    PersistentClient,
    Settings,
    SharedSystemClient,
    UserIdentity,
)
from azurite.errors import (
    AuthorizationError,
    ChromaError,
    InternalError,
    InvalidArgumentError,
    NotFoundError,
)

DIFFERENT_SETTINGS = "An instance of Chroma already exists for {} with different settings"


def create(client: Any, name: str = "coll", **kwargs: Any) -> Any:
    return client.create_collection(name, embedding_function=None, **kwargs)


def names(collections: list) -> list[str]:
    return [c.name for c in collections]


# --------------------------------------------------------------------------- constructors


def test_ephemeral_clients_share_one_database(client: Client) -> None:
    create(client).add(ids="a", embeddings=[1.0, 2.0])
    other = EphemeralClient(Settings(allow_reset=True))
    generic = Client(Settings(allow_reset=True))
    try:
        assert other.get_collection("coll").count() == 1
        assert names(generic.list_collections()) == ["coll"]
        assert other.get_settings().is_persistent is False
    finally:
        other.close()
        generic.close()


def test_client_without_arguments_is_ephemeral_with_default_settings(
    no_open_systems: None,
) -> None:
    default = Client()
    ephemeral = EphemeralClient()
    try:
        settings = default.get_settings()
        assert settings.is_persistent is False
        assert settings.allow_reset is False
        assert (default.tenant, default.database) == (DEFAULT_TENANT, DEFAULT_DATABASE)
        create(default)
        assert names(ephemeral.list_collections()) == ["coll"]
        with pytest.raises(AuthorizationError):
            default.reset()
    finally:
        default.close()
        ephemeral.close()


def test_ephemeral_client_with_different_settings_is_refused(client: Client) -> None:
    with pytest.raises(ValueError) as error:
        EphemeralClient(Settings(allow_reset=False))
    assert str(error.value) == DIFFERENT_SETTINGS.format("ephemeral")
    # The refused client did not disturb the open one.
    assert client.count_collections() == 0


@pytest.mark.parametrize("as_type", [str, Path], ids=["str", "Path"])
def test_persistent_client_path_types(persistent_path: Path, as_type: type) -> None:
    c = PersistentClient(as_type(persistent_path))
    try:
        settings = c.get_settings()
        assert settings.is_persistent is True
        assert settings.persist_directory == str(persistent_path)
        assert persistent_path.is_dir()
        create(c).add(ids="a", embeddings=[1.0, 2.0], documents="doc")
    finally:
        c.close()
    reopened = PersistentClient(as_type(persistent_path))
    try:
        assert reopened.get_collection("coll").get()["documents"] == ["doc"]
    finally:
        reopened.close()


def test_persistent_client_default_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    c = PersistentClient()
    try:
        assert c.get_settings().persist_directory == "./chroma"
        create(c)
        assert (tmp_path / "chroma").is_dir()
    finally:
        c.close()


def test_persistent_clients_of_one_path_share_data(
    persistent_client: Client, persistent_path: Path
) -> None:
    second = PersistentClient(str(persistent_path))
    try:
        create(persistent_client).add(ids=["a", "b"], embeddings=[[1.0], [2.0]])
        assert second.get_collection("coll").count() == 2
        second.get_collection("coll").delete(ids="a")
        assert persistent_client.get_collection("coll").get()["ids"] == ["b"]
    finally:
        second.close()


def test_persistent_client_with_different_settings_is_refused(
    persistent_client: Client, persistent_path: Path
) -> None:
    with pytest.raises(ValueError) as error:
        PersistentClient(persistent_path, settings=Settings(allow_reset=True))
    assert str(error.value) == DIFFERENT_SETTINGS.format(persistent_path)
    assert persistent_client.count_collections() == 0


def test_persistent_clients_of_one_directory_spelled_differently(
    persistent_client: Client, persistent_path: Path
) -> None:
    # chromadb 1.5.9 accepts both clients (its systems are keyed by the path as given)
    # and both see the same data.
    create(persistent_client)
    other = PersistentClient(str(persistent_path) + os.sep)
    try:
        assert names(other.list_collections()) == ["coll"]
    finally:
        other.close()


def test_persistent_and_ephemeral_databases_are_separate(
    client: Client, persistent_client: Client
) -> None:
    create(client, "ephemeral")
    create(persistent_client, "persistent")
    assert names(client.list_collections()) == ["ephemeral"]
    assert names(persistent_client.list_collections()) == ["persistent"]


# --------------------------------------------------------------------------- settings


def test_settings_defaults_and_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.lower() in azurite.config.DEFAULTS:
            monkeypatch.delenv(name)
    settings = Settings()
    assert settings.is_persistent is False
    assert settings.persist_directory == "./chroma"
    assert settings.allow_reset is False
    assert settings.chroma_server_api_default_path == "/api/v2"
    assert settings.azurite_durability == "process"
    overridden = Settings(allow_reset=True, persist_directory="/x", unknown_option=5)
    assert overridden.allow_reset is True
    assert overridden.persist_directory == "/x"
    assert overridden.unknown_option == 5
    assert overridden != settings
    assert Settings(allow_reset=True) == Settings(allow_reset=True)
    with pytest.raises(AttributeError):
        _ = settings.no_such_setting


def test_settings_read_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOW_RESET", "true")
    monkeypatch.setenv("PERSIST_DIRECTORY", "/from/env")
    settings = Settings()
    assert settings.allow_reset is True
    assert settings.persist_directory == "/from/env"
    # Explicit values win over the environment.
    assert Settings(allow_reset=False).allow_reset is False


def test_settings_copy_and_assignment() -> None:
    original = Settings(allow_reset=True)
    copy = original.copy()
    assert copy == original
    copy.allow_reset = False
    assert original.allow_reset is True
    assert copy != original
    assert "allow_reset=True" in repr(original)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"chroma_db_impl": "duckdb+parquet"}, "chroma_db_impl is a configuration of Chroma 0.3"),
        ({"azurite_durability": "sometimes"}, "azurite_durability must be 'process' or 'full'"),
    ],
)
def test_settings_rejected(overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        Settings(**overrides)


def test_constructors_do_not_modify_the_settings_given(persistent_path: Path) -> None:
    settings = Settings(allow_reset=True)
    c = PersistentClient(persistent_path, settings=settings)
    try:
        assert settings.is_persistent is False
        assert c.get_settings().is_persistent is True
        assert c.get_settings().allow_reset is True
    finally:
        c.close()


def test_get_settings(client: Client) -> None:
    settings = client.get_settings()
    assert isinstance(settings, Settings)
    assert settings.allow_reset is True
    assert settings.is_persistent is False


# --------------------------------------------------------------------------- server-like calls


def test_heartbeat_is_nanoseconds_since_the_epoch(client: Client) -> None:
    before = time.time_ns()
    beat = client.heartbeat()
    after = time.time_ns()
    assert type(beat) is int
    assert before <= beat <= after


def test_get_version(client: Client) -> None:
    version = client.get_version()
    assert isinstance(version, str)
    # As chromadb's embedded client: the chromadb release whose API is implemented.
    assert version == azurite.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", version)


def test_get_user_identity(client: Client) -> None:
    assert client.get_user_identity() == UserIdentity(
        user_id="", tenant=DEFAULT_TENANT, databases=[DEFAULT_DATABASE]
    )


def test_get_max_batch_size(client: Client) -> None:
    assert client.get_max_batch_size() == 5461


def test_batches_larger_than_max_batch_size_are_accepted(client: Client) -> None:
    # Deliberate difference from chromadb (which raises): Azurite has no batch limit.
    collection = create(client)
    n = client.get_max_batch_size() + 539
    ids = [f"id{i:05d}" for i in range(n)]
    embeddings = np.arange(2 * n, dtype=np.float32).reshape(n, 2)
    collection.add(ids=ids, embeddings=embeddings, metadatas=[{"i": i} for i in range(n)])
    assert collection.count() == n
    assert collection.get(ids=ids[-1], include=["metadatas"])["metadatas"] == [{"i": n - 1}]
    collection.upsert(ids=ids, embeddings=embeddings + 1)
    assert collection.get(ids=ids[0], include=["embeddings"])["embeddings"].tolist() == [[1.0, 2.0]]
    assert collection.delete(ids=ids) == {"deleted": n}
    assert collection.count() == 0


# --------------------------------------------------------------------------- reset


def test_reset_refused_unless_allowed(persistent_client: Client) -> None:
    create(persistent_client)
    with pytest.raises(AuthorizationError) as error:
        persistent_client.reset()
    assert str(error.value) == "Reset is disabled by config"
    assert names(persistent_client.list_collections()) == ["coll"]


def test_reset_refused_for_ephemeral_client_with_default_settings(no_open_systems: None) -> None:
    c = EphemeralClient()
    try:
        with pytest.raises(AuthorizationError, match=r"^Reset is disabled by config$"):
            c.reset()
    finally:
        c.close()


def test_reset_deletes_everything(client: Client, admin: AdminClient) -> None:
    admin.create_tenant("tenant1")
    admin.create_database("db1", tenant="tenant1")
    admin.create_database("db2")
    create(client).add(ids="a", embeddings=[1.0])
    create(client, "other")
    assert client.reset() is True
    assert client.list_collections() == []
    assert client.count_collections() == 0
    with pytest.raises(NotFoundError, match=re.escape("Tenant [tenant1] not found")):
        admin.get_tenant("tenant1")
    assert [d["name"] for d in admin.list_databases()] == [DEFAULT_DATABASE]
    assert admin.get_tenant(DEFAULT_TENANT) == {"name": DEFAULT_TENANT}
    # The database is usable again, with a fresh collection of the same name.
    assert create(client).count() == 0


def test_reset_of_a_persistent_database(persistent_path: Path) -> None:
    settings = Settings(allow_reset=True)
    c = PersistentClient(persistent_path, settings=settings)
    try:
        create(c).add(ids="a", embeddings=[1.0])
        assert c.reset() is True
        assert c.list_collections() == []
    finally:
        c.close()
    reopened = PersistentClient(persistent_path, settings=settings)
    try:
        assert reopened.list_collections() == []
    finally:
        reopened.close()


# --------------------------------------------------------------------------- tenants


def test_create_and_get_tenant(admin: AdminClient) -> None:
    assert admin.create_tenant("tenant1") is None
    assert admin.get_tenant("tenant1") == {"name": "tenant1"}
    # Only the length of a tenant name is checked.
    admin.create_tenant("a b/c")
    assert admin.get_tenant("a b/c") == {"name": "a b/c"}


def test_duplicate_tenant(admin: AdminClient) -> None:
    admin.create_tenant("tenant1")
    with pytest.raises(InternalError) as error:
        admin.create_tenant("tenant1")
    assert str(error.value) == "Tenant [tenant1] already exists"


@pytest.mark.parametrize("name", ["", "a", "te"])
def test_short_tenant_name(admin: AdminClient, name: str) -> None:
    with pytest.raises(InvalidArgumentError) as error:
        admin.create_tenant(name)
    message = str(error.value)
    # chromadb prints the two fields of the length error in either order.
    assert message.startswith("Validation error: name: Validation error: length [{")
    assert f'"value": String("{name}")' in message
    assert '"min": Number(3)' in message


def test_missing_tenant(admin: AdminClient) -> None:
    with pytest.raises(NotFoundError) as error:
        admin.get_tenant("nope")
    assert str(error.value) == "Tenant [nope] not found"


# --------------------------------------------------------------------------- databases


def test_default_database(admin: AdminClient) -> None:
    assert admin.get_database(DEFAULT_DATABASE) == {
        "id": uuid.UUID(int=0),
        "name": DEFAULT_DATABASE,
        "tenant": DEFAULT_TENANT,
    }


def test_create_get_and_delete_database(admin: AdminClient) -> None:
    admin.create_tenant("tenant1")
    assert admin.create_database("db1", tenant="tenant1") is None
    database = admin.get_database("db1", tenant="tenant1")
    assert isinstance(database["id"], uuid.UUID)
    assert database["id"] != uuid.UUID(int=0)
    assert (database["name"], database["tenant"]) == ("db1", "tenant1")
    # The same name in another tenant is another database.
    admin.create_database("db1")
    assert admin.get_database("db1")["id"] != database["id"]
    assert admin.delete_database("db1", tenant="tenant1") is None
    with pytest.raises(NotFoundError):
        admin.get_database("db1", tenant="tenant1")
    assert admin.get_database("db1")["tenant"] == DEFAULT_TENANT


def test_duplicate_database(admin: AdminClient) -> None:
    admin.create_database("db1")
    with pytest.raises(InternalError) as error:
        admin.create_database("db1")
    assert str(error.value) == "Database [db1] already exists"


@pytest.mark.parametrize("name", ["", "a", "db"])
def test_short_database_name(admin: AdminClient, name: str) -> None:
    with pytest.raises(InvalidArgumentError) as error:
        admin.create_database(name)
    assert str(error.value) == "database name must be at least 3 characters"


@pytest.mark.parametrize("name", ["abc", "a+b", "abc+def", "ab+def", "a+b+c", "a b", "x" * 600])
def test_database_names_accepted(admin: AdminClient, name: str) -> None:
    admin.create_database(name)
    assert admin.get_database(name)["name"] == name


def test_missing_database(admin: AdminClient) -> None:
    with pytest.raises(NotFoundError) as error:
        admin.get_database("nope")
    assert str(error.value) == "Database [nope] not found. Are you sure it exists?"
    with pytest.raises(NotFoundError) as error:
        admin.delete_database("nope")
    assert str(error.value) == "Database [nope] not found"


def test_database_of_a_missing_tenant_can_be_created(admin: AdminClient) -> None:
    admin.create_database("db1", tenant="ghost")
    assert admin.get_database("db1", tenant="ghost")["tenant"] == "ghost"
    assert [d["name"] for d in admin.list_databases(tenant="ghost")] == ["db1"]
    # The tenant itself still does not exist.
    with pytest.raises(NotFoundError, match=re.escape("Tenant [ghost] not found")):
        admin.get_tenant("ghost")


def test_list_databases_by_name_with_limit_and_offset(admin: AdminClient) -> None:
    for name in ["zzz", "aaa", "mmm", "ddd"]:
        admin.create_database(name)
    everything = ["aaa", "ddd", DEFAULT_DATABASE, "mmm", "zzz"]
    assert [d["name"] for d in admin.list_databases()] == everything
    assert [d["name"] for d in admin.list_databases(limit=2, offset=1)] == everything[1:3]
    assert [d["name"] for d in admin.list_databases(offset=3)] == everything[3:]
    assert [d["name"] for d in admin.list_databases(limit=3)] == everything[:3]
    assert admin.list_databases(limit=0) == []
    assert admin.list_databases(offset=10) == []


def test_list_databases_shape_and_tenant(admin: AdminClient) -> None:
    admin.create_tenant("tenant1")
    admin.create_database("db1", tenant="tenant1")
    (database,) = admin.list_databases(tenant="tenant1")
    assert database == admin.get_database("db1", tenant="tenant1")
    assert set(database) == {"id", "name", "tenant"}
    assert admin.list_databases(tenant="nope") == []


@pytest.mark.parametrize("arguments", [{"limit": -1}, {"offset": -1}])
def test_list_databases_negative_limit_or_offset(admin: AdminClient, arguments: dict) -> None:
    with pytest.raises(OverflowError) as error:
        admin.list_databases(**arguments)
    assert str(error.value) == "out of range integral type conversion attempted"


def test_deleting_a_database_deletes_its_collections(client: Client, admin: AdminClient) -> None:
    admin.create_database("db1")
    other = Client(client.get_settings(), database="db1")
    try:
        create(other).add(ids="a", embeddings=[1.0])
        create(client, "kept")
        admin.delete_database("db1")
        admin.create_database("db1")
        assert other.list_collections() == []
        assert other.count_collections() == 0
        with pytest.raises(NotFoundError, match=re.escape("Collection [coll] does not exist")):
            other.get_collection("coll")
        assert names(client.list_collections()) == ["kept"]
    finally:
        other.close()


def test_client_of_a_deleted_database(client: Client, admin: AdminClient) -> None:
    # chromadb 1.5.9: listing shows nothing and creating fails with InvalidArgumentError.
    admin.create_database("db1")
    other = Client(client.get_settings(), database="db1")
    try:
        create(other)
        admin.delete_database("db1")
        assert other.list_collections() == []
        assert other.count_collections() == 0
        with pytest.raises(InvalidArgumentError) as error:
            create(other, "new")
        assert str(error.value) == "Database [db1] does not exist"
    finally:
        other.close()


def test_admin_client_shares_the_database_of_its_settings(client: Client) -> None:
    with AdminClient(client.get_settings()) as admin:
        admin.create_database("db1")
    other = Client(client.get_settings(), database="db1")
    try:
        other.create_collection("in-db1", embedding_function=None)
        assert [c.name for c in other.list_collections()] == ["in-db1"]
        assert client.list_collections() == []
    finally:
        other.close()


# --------------------------------------------------------------------------- tenant/database of a client


def test_client_for_missing_tenant(client: Client) -> None:
    with pytest.raises(NotFoundError) as error:
        EphemeralClient(client.get_settings(), tenant="nope")
    assert str(error.value) == "Tenant [nope] not found"
    # tenant and database are converted with str()
    with pytest.raises(NotFoundError, match=re.escape("Tenant [123] not found")):
        EphemeralClient(client.get_settings(), tenant=123)


def test_client_for_missing_database(client: Client) -> None:
    with pytest.raises(NotFoundError) as error:
        EphemeralClient(client.get_settings(), database="nope")
    assert str(error.value) == "Database [nope] not found. Are you sure it exists?"


def test_client_for_existing_tenant_and_database(client: Client, admin: AdminClient) -> None:
    admin.create_tenant("tenant1")
    admin.create_database("123", tenant="tenant1")
    other = EphemeralClient(client.get_settings(), tenant="tenant1", database=123)
    try:
        assert (other.tenant, other.database) == ("tenant1", "123")
        collection = create(other)
        assert (collection.tenant, collection.database) == ("tenant1", "123")
    finally:
        other.close()


def test_set_tenant_and_set_database(client: Client, admin: AdminClient) -> None:
    admin.create_tenant("tenant1")
    admin.create_database("db1", tenant="tenant1")
    admin.create_database(DEFAULT_DATABASE, tenant="tenant1")
    admin.create_database("db2")

    client.set_tenant("tenant1", "db1")
    assert (client.tenant, client.database) == ("tenant1", "db1")
    collection = create(client, "in_db1")
    assert (collection.tenant, collection.database) == ("tenant1", "db1")

    client.set_tenant("tenant1")
    assert (client.tenant, client.database) == ("tenant1", DEFAULT_DATABASE)
    assert client.list_collections() == []

    client.set_database("db1")
    assert names(client.list_collections()) == ["in_db1"]

    client.set_tenant(DEFAULT_TENANT, database="db2")
    assert (client.tenant, client.database) == (DEFAULT_TENANT, "db2")


def test_set_tenant_and_set_database_failures_keep_the_current_ones(
    client: Client, admin: AdminClient
) -> None:
    admin.create_tenant("tenant1")
    with pytest.raises(NotFoundError, match=re.escape("Tenant [nope] not found")):
        client.set_tenant("nope")
    with pytest.raises(NotFoundError) as error:
        client.set_tenant("tenant1")  # it has no default_database
    assert str(error.value) == "Database [default_database] not found. Are you sure it exists?"
    with pytest.raises(NotFoundError) as error:
        client.set_database("nope")
    assert str(error.value) == "Database [nope] not found. Are you sure it exists?"
    assert (client.tenant, client.database) == (DEFAULT_TENANT, DEFAULT_DATABASE)


def test_collections_are_isolated_per_tenant_and_database(
    client: Client, admin: AdminClient
) -> None:
    admin.create_tenant("tenant1")
    admin.create_database(DEFAULT_DATABASE, tenant="tenant1")
    admin.create_database("db1")
    clients = [
        client,
        Client(client.get_settings(), database="db1"),
        Client(client.get_settings(), tenant="tenant1"),
    ]
    try:
        collections = []
        for i, c in enumerate(clients):
            collection = create(c, metadata={"owner": i})
            collection.add(ids=f"id{i}", embeddings=[float(i)])
            collections.append(collection)
        assert len({c.id for c in collections}) == 3
        for i, c in enumerate(clients):
            assert c.count_collections() == 1
            got = c.get_collection("coll")
            assert got.metadata == {"owner": i}
            assert got.get()["ids"] == [f"id{i}"]
            # A collection of another database is not visible by id either.
            other = collections[(i + 1) % 3]
            with pytest.raises(NotFoundError) as error:
                c.get_collection_by_id(other.id)
            assert str(error.value) == f"Collection [{other.id}] does not exist"
        clients[1].delete_collection("coll")
        assert client.get_collection("coll").count() == 1
        assert clients[2].get_collection("coll").count() == 1
    finally:
        for c in clients[1:]:
            c.close()


# --------------------------------------------------------------------------- close


def test_close_releases_the_client(persistent_path: Path) -> None:
    first = PersistentClient(persistent_path)
    second = PersistentClient(persistent_path)
    create(first)
    first.close()
    with pytest.raises(ChromaError, match=r"^This client has been closed$"):
        first.list_collections()
    first.close()  # closing twice is harmless
    # The other client of the same database is unaffected.
    assert names(second.list_collections()) == ["coll"]
    second.close()
    # Once every client is closed the directory can be opened with other settings.
    third = PersistentClient(persistent_path, settings=Settings(allow_reset=True))
    try:
        assert names(third.list_collections()) == ["coll"]
    finally:
        third.close()


def test_context_manager(persistent_path: Path) -> None:
    with PersistentClient(persistent_path) as c:
        assert isinstance(c, Client)
        create(c).add(ids="a", embeddings=[1.0])
    with pytest.raises(ChromaError, match=r"^This client has been closed$"):
        c.count_collections()
    with PersistentClient(persistent_path) as again:
        assert again.get_collection("coll").count() == 1


def test_admin_client_close(client: Client) -> None:
    admin = AdminClient(client.get_settings())
    admin.close()
    with pytest.raises(ChromaError, match=r"^This client has been closed$"):
        admin.list_databases()
    # The shared database stays open for the other client.
    assert client.count_collections() == 0


def test_clear_system_cache_closes_every_database(no_open_systems: None, tmp_path: Path) -> None:
    c = PersistentClient(tmp_path / "db")
    create(c)
    SharedSystemClient.clear_system_cache()
    # The directory can be opened again, with other settings too.
    other = PersistentClient(tmp_path / "db", settings=Settings(allow_reset=True))
    try:
        assert names(other.list_collections()) == ["coll"]
    finally:
        other.close()
