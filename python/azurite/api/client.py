"""Clients: the entry points that open a database and manage its collections.

A client is built with a :class:`~azurite.api.engine.Connection` and works the same over
whichever engine it holds: ``Client`` (and ``EphemeralClient`` / ``PersistentClient``)
hands it the engine of this process (:mod:`azurite.api.embedded`), ``HttpClient`` a server
reached over HTTP (:mod:`azurite.api.remote`). ``ClientAPI`` and ``AsyncClientAPI``
(and the admin classes) are siblings with the same methods, each preparing its calls with
:class:`~azurite.api.client_core.ClientCore`: only the engine call differs.
"""

from __future__ import annotations

import os
from typing import Any, TypeVar
from uuid import UUID

from azurite.api import embedding
from azurite.api.client_core import (
    ClientCore,
    database_record,
)
from azurite.api.collection import AsyncCollection, Collection
from azurite.api.embedded import MAX_BATCH_SIZE, clear_systems, embedded_connection
from azurite.api.engine import (
    CLIENT_CLOSED,
    AsyncConnection,
    AsyncEngine,
    AsyncServer,
    BackupReport,
    CollectionModel,
    Connection,
    Engine,
    Metadata,
    Server,
    UserIdentity,
)
from azurite.api.remote import server_connection
from azurite.api.validation import engine_offset
from azurite.config import (
    ASYNC_HTTP_API_IMPL,
    DEFAULT_DATABASE,
    DEFAULT_TENANT,
    EMBEDDED_API_IMPLS,
    HTTP_API_IMPL,
    HTTP_ONLY_CLIENT_ERROR,
    Settings,
    as_settings,
    is_thin_client,
)
from azurite.errors import ChromaError

ConnectedT = TypeVar("ConnectedT", bound="Connected")
AsyncConnectedT = TypeVar("AsyncConnectedT", bound="AsyncConnected")


class SharedSystemClient:
    """Chroma's name for the owner of the system cache."""

    @staticmethod
    def clear_system_cache() -> None:
        """Closes every open database of this process and forgets it."""
        clear_systems()


# ---- holding a connection


class Connected(SharedSystemClient):
    """A client's hold on its connection, until it is closed."""

    def __init__(self, connection: Connection, settings: Settings) -> None:
        self._connection: Connection | None = connection
        # Kept once closed: each server decides which of its calls still answer.
        self._server: Server = connection.server
        self._settings = settings

    @property
    def _engine(self) -> Engine:
        if self._connection is None:
            raise ChromaError(CLIENT_CLOSED)
        return self._connection.engine

    def close(self) -> None:
        """Releases this client's hold on the database (an embedded database closes with
        its last client; a remote one keeps running)."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.release()

    def __enter__(self: ConnectedT) -> ConnectedT:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_settings(self) -> Settings:
        return self._settings


class AsyncConnected:
    """An asynchronous client's hold on its connection, until it is closed."""

    def __init__(self, connection: AsyncConnection, settings: Settings) -> None:
        self._connection: AsyncConnection | None = connection
        # Kept once closed: each server decides which of its calls still answer.
        self._server: AsyncServer = connection.server
        self._settings = settings

    @property
    def _engine(self) -> AsyncEngine:
        if self._connection is None:
            raise ChromaError(CLIENT_CLOSED)
        return self._connection.engine

    async def close(self) -> None:
        """Releases this client's connections."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            await connection.release()

    async def __aenter__(self: AsyncConnectedT) -> AsyncConnectedT:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def get_settings(self) -> Settings:
        return self._settings


# ---- tenants and databases


class AdminAPI(Connected):
    """The tenant and database calls of an admin client."""

    def create_tenant(self, name: str) -> None:
        self._engine.create_tenant(name)

    def get_tenant(self, name: str) -> dict[str, str]:
        self._engine.get_tenant(name)
        return {"name": name}

    def create_database(self, name: str, tenant: str = DEFAULT_TENANT) -> None:
        self._engine.create_database(name, tenant)

    def get_database(self, name: str, tenant: str = DEFAULT_TENANT) -> dict[str, Any]:
        return database_record(self._engine.get_database(name, tenant))

    def delete_database(self, name: str, tenant: str = DEFAULT_TENANT) -> None:
        self._engine.delete_database(name, tenant)

    def list_databases(
        self,
        limit: int | None = None,
        offset: int | None = None,
        tenant: str = DEFAULT_TENANT,
    ) -> list[dict[str, Any]]:
        models = self._engine.list_databases(tenant, limit, engine_offset(offset))
        return [database_record(m) for m in models]


class AsyncAdminAPI(AsyncConnected):
    """The calls of :class:`AdminAPI`, as coroutines."""

    async def create_tenant(self, name: str) -> None:
        await self._engine.create_tenant(name)

    async def get_tenant(self, name: str) -> dict[str, str]:
        await self._engine.get_tenant(name)
        return {"name": name}

    async def create_database(self, name: str, tenant: str = DEFAULT_TENANT) -> None:
        await self._engine.create_database(name, tenant)

    async def get_database(self, name: str, tenant: str = DEFAULT_TENANT) -> dict[str, Any]:
        return database_record(await self._engine.get_database(name, tenant))

    async def delete_database(self, name: str, tenant: str = DEFAULT_TENANT) -> None:
        await self._engine.delete_database(name, tenant)

    async def list_databases(
        self,
        limit: int | None = None,
        offset: int | None = None,
        tenant: str = DEFAULT_TENANT,
    ) -> list[dict[str, Any]]:
        models = await self._engine.list_databases(tenant, limit, engine_offset(offset))
        return [database_record(m) for m in models]


# ---- clients of one tenant and database


class ClientAPI(ClientCore[Collection], Connected):
    """A client of one tenant and database, over the engine of its connection. The
    tenant and database are checked on creation; the connection is released if they do
    not exist."""

    def __init__(
        self,
        connection: Connection,
        settings: Settings,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
    ) -> None:
        Connected.__init__(self, connection, settings)
        try:
            self._check_tenant_and_database(str(tenant), str(database))
        except BaseException:
            self.close()
            raise
        self.tenant = str(tenant)
        self.database = str(database)

    def _check_tenant_and_database(self, tenant: str, database: str) -> None:
        self._engine.get_tenant(tenant)
        self._engine.get_database(database, tenant)

    def _new_collection(
        self, model: CollectionModel, embedding_function: Any, data_loader: Any
    ) -> Collection:
        return Collection(self, model, embedding_function, data_loader)

    # ---- server-level calls

    def heartbeat(self) -> int:
        """Nanoseconds since the Unix epoch."""
        return self._server.heartbeat()

    def get_version(self) -> str:
        return self._server.version()

    def get_max_batch_size(self) -> int:
        return self._server.max_batch_size()

    def get_user_identity(self) -> UserIdentity:
        return self._server.identity()

    def reset(self) -> bool:
        """Deletes everything, if allowed (``allow_reset`` of an embedded client's
        settings, or the server's)."""
        return self._server.reset()

    def backup(self, path: str | os.PathLike[str]) -> BackupReport:
        """Copies the whole database (every tenant) into ``path``, a new or empty
        directory, while writers keep writing: the copy holds every write acknowledged
        before the call and opens as it is (``PersistentClient(path)``, or ``azurite
        restore``). Over HTTP, ``path`` is a directory on the server's machine."""
        return self._engine.backup(os.fspath(path))

    def set_tenant(self, tenant: str, database: str = DEFAULT_DATABASE) -> None:
        self._check_tenant_and_database(tenant, database)
        self.tenant, self.database = tenant, database

    def set_database(self, database: str) -> None:
        self._check_tenant_and_database(self.tenant, database)
        self.database = database

    # ---- collections

    def list_collections(
        self, limit: int | None = None, offset: int | None = None
    ) -> list[Collection]:
        models = self._engine.list_collections(
            self.tenant, self.database, limit, engine_offset(offset)
        )
        return self._listed_collections(models)

    def count_collections(self) -> int:
        return self._engine.count_collections(self.tenant, self.database)

    def create_collection(
        self,
        name: str,
        schema: Any = None,
        configuration: dict[str, Any] | None = None,
        metadata: Metadata | None = None,
        embedding_function: Any = embedding.DEFAULT_EMBEDDING_FUNCTION,
        data_loader: Any = None,
        get_or_create: bool = False,
    ) -> Collection:
        call = self._prepare_create_collection(
            name, schema, configuration, metadata, embedding_function, get_or_create
        )
        model = self._engine.create_collection(*call)
        return self._created_collection(model, embedding_function, data_loader, get_or_create)

    def get_or_create_collection(
        self,
        name: str,
        schema: Any = None,
        configuration: dict[str, Any] | None = None,
        metadata: Metadata | None = None,
        embedding_function: Any = embedding.DEFAULT_EMBEDDING_FUNCTION,
        data_loader: Any = None,
    ) -> Collection:
        return self.create_collection(
            name,
            schema=schema,
            configuration=configuration,
            metadata=metadata,
            embedding_function=embedding_function,
            data_loader=data_loader,
            get_or_create=True,
        )

    def get_collection(
        self,
        name: str,
        embedding_function: Any = embedding.DEFAULT_EMBEDDING_FUNCTION,
        data_loader: Any = None,
    ) -> Collection:
        model = self._engine.get_collection(self.tenant, self.database, name)
        return self._opened_collection(model, embedding_function, data_loader)

    def get_collection_by_id(
        self,
        id: UUID | str,
        embedding_function: Any = embedding.DEFAULT_EMBEDDING_FUNCTION,
        data_loader: Any = None,
    ) -> Collection:
        model = self._engine.get_collection_by_id(self.tenant, self.database, str(id))
        return self._opened_collection(model, embedding_function, data_loader)

    def delete_collection(self, name: str) -> None:
        self._engine.delete_collection(self.tenant, self.database, name)


class AsyncClientAPI(ClientCore[AsyncCollection], AsyncConnected):
    """The methods of :class:`ClientAPI`, as coroutines. The tenant and database are
    checked by :meth:`_open`, which the factories await before handing the client out."""

    def __init__(
        self,
        connection: AsyncConnection,
        settings: Settings,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
    ) -> None:
        AsyncConnected.__init__(self, connection, settings)
        self.tenant = str(tenant)
        self.database = str(database)

    async def _open(self) -> None:
        """Checks the tenant and database; the connection is released if they do not
        exist."""
        try:
            await self._check_tenant_and_database(self.tenant, self.database)
        except BaseException:
            await self.close()
            raise

    async def _check_tenant_and_database(self, tenant: str, database: str) -> None:
        await self._engine.get_tenant(tenant)
        await self._engine.get_database(database, tenant)

    def _new_collection(
        self, model: CollectionModel, embedding_function: Any, data_loader: Any
    ) -> AsyncCollection:
        return AsyncCollection(self, model, embedding_function, data_loader)

    # ---- server-level calls

    async def heartbeat(self) -> int:
        """Nanoseconds since the Unix epoch."""
        return await self._server.heartbeat()

    async def get_version(self) -> str:
        return await self._server.version()

    async def get_max_batch_size(self) -> int:
        return await self._server.max_batch_size()

    async def get_user_identity(self) -> UserIdentity:
        return await self._server.identity()

    async def reset(self) -> bool:
        """Deletes everything, if the server allows it."""
        return await self._server.reset()

    async def backup(self, path: str | os.PathLike[str]) -> BackupReport:
        """Copies the whole database into ``path`` on the server's machine, a new or
        empty directory, while writers keep writing (see ``ClientAPI.backup``)."""
        return await self._engine.backup(os.fspath(path))

    async def set_tenant(self, tenant: str, database: str = DEFAULT_DATABASE) -> None:
        await self._check_tenant_and_database(tenant, database)
        self.tenant, self.database = tenant, database

    async def set_database(self, database: str) -> None:
        await self._check_tenant_and_database(self.tenant, database)
        self.database = database

    # ---- collections

    async def list_collections(
        self, limit: int | None = None, offset: int | None = None
    ) -> list[AsyncCollection]:
        models = await self._engine.list_collections(
            self.tenant, self.database, limit, engine_offset(offset)
        )
        return self._listed_collections(models)

    async def count_collections(self) -> int:
        return await self._engine.count_collections(self.tenant, self.database)

    async def create_collection(
        self,
        name: str,
        schema: Any = None,
        configuration: dict[str, Any] | None = None,
        metadata: Metadata | None = None,
        embedding_function: Any = embedding.DEFAULT_EMBEDDING_FUNCTION,
        data_loader: Any = None,
        get_or_create: bool = False,
    ) -> AsyncCollection:
        call = self._prepare_create_collection(
            name, schema, configuration, metadata, embedding_function, get_or_create
        )
        model = await self._engine.create_collection(*call)
        return self._created_collection(model, embedding_function, data_loader, get_or_create)

    async def get_or_create_collection(
        self,
        name: str,
        schema: Any = None,
        configuration: dict[str, Any] | None = None,
        metadata: Metadata | None = None,
        embedding_function: Any = embedding.DEFAULT_EMBEDDING_FUNCTION,
        data_loader: Any = None,
    ) -> AsyncCollection:
        return await self.create_collection(
            name,
            schema=schema,
            configuration=configuration,
            metadata=metadata,
            embedding_function=embedding_function,
            data_loader=data_loader,
            get_or_create=True,
        )

    async def get_collection(
        self,
        name: str,
        embedding_function: Any = embedding.DEFAULT_EMBEDDING_FUNCTION,
        data_loader: Any = None,
    ) -> AsyncCollection:
        model = await self._engine.get_collection(self.tenant, self.database, name)
        return self._opened_collection(model, embedding_function, data_loader)

    async def get_collection_by_id(
        self,
        id: UUID | str,
        embedding_function: Any = embedding.DEFAULT_EMBEDDING_FUNCTION,
        data_loader: Any = None,
    ) -> AsyncCollection:
        model = await self._engine.get_collection_by_id(self.tenant, self.database, str(id))
        return self._opened_collection(model, embedding_function, data_loader)

    async def delete_collection(self, name: str) -> None:
        await self._engine.delete_collection(self.tenant, self.database, name)


# ---- clients chosen by their settings


def settings_connection(settings: Settings) -> Connection:
    """The connection that ``settings.chroma_api_impl`` selects, as chromadb's clients
    choose their server: Chroma's HTTP client reaches the server of
    ``chroma_server_host`` / ``chroma_server_http_port``, never a local database."""
    impl = settings.chroma_api_impl
    if is_thin_client and impl not in (HTTP_API_IMPL, ASYNC_HTTP_API_IMPL):
        raise RuntimeError(HTTP_ONLY_CLIENT_ERROR)
    if impl in EMBEDDED_API_IMPLS:
        return embedded_connection(settings)
    if impl == HTTP_API_IMPL:
        return server_connection(settings)
    if impl == ASYNC_HTTP_API_IMPL:
        raise ValueError(
            f"chroma_api_impl={impl!r} is Chroma's asynchronous client, which a synchronous "
            "client cannot use: create it with `await azurite.AsyncHttpClient(host, port)`"
        )
    if impl is None:
        raise ValueError("Chroma API implementation must be set in settings")
    raise ValueError(f"Unsupported Chroma API implementation {impl}")


class Client(ClientAPI):
    """A client of one tenant and database: embedded in this process, or of a server
    when the settings name Chroma's HTTP client (``chroma_api_impl``)."""

    def __init__(
        self,
        settings: Settings | None = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
    ) -> None:
        settings = as_settings(settings)
        super().__init__(settings_connection(settings), settings, str(tenant), str(database))


class AdminClient(AdminAPI):
    """Manages tenants and databases (of a server when the settings name one)."""

    def __init__(self, settings: Settings | None = None) -> None:
        settings = as_settings(settings)
        super().__init__(settings_connection(settings), settings)


def EphemeralClient(
    settings: Settings | None = None,
    tenant: str = DEFAULT_TENANT,
    database: str = DEFAULT_DATABASE,
) -> Client:
    """A client of an in-memory database shared by every ephemeral client of the process."""
    settings = as_settings(settings).copy()
    settings.is_persistent = False
    return Client(settings, tenant, database)


def PersistentClient(
    path: str | os.PathLike[str] | None = "./chroma",
    settings: Settings | None = None,
    tenant: str = DEFAULT_TENANT,
    database: str = DEFAULT_DATABASE,
) -> Client:
    """A client of the database stored in the directory `path` (created if missing)."""
    if path is None:
        # chromadb would store the database in a folder named "None".
        raise ValueError(
            "PersistentClient needs the directory of its database: "
            "PersistentClient(path='./chroma'), or EphemeralClient() for one in memory"
        )
    settings = as_settings(settings).copy()
    settings.is_persistent = True
    settings.persist_directory = str(path)
    return Client(settings, tenant, database)


__all__ = [
    "DEFAULT_DATABASE",
    "DEFAULT_TENANT",
    "MAX_BATCH_SIZE",
    "AdminAPI",
    "AdminClient",
    "AsyncAdminAPI",
    "AsyncClientAPI",
    "Client",
    "ClientAPI",
    "EphemeralClient",
    "PersistentClient",
    "SharedSystemClient",
    "UserIdentity",
]
