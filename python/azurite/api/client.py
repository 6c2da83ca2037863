"""Clients: the entry points that open a database and manage its collections.

Clients are backed by a process-wide *system* per storage location, as in Chroma: every
ephemeral client in a process shares one in-memory database, and every client on the same
path shares one open database (a directory can be opened for writing by one process only,
so sharing is also what makes two clients on one path work at all).
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from azurite import _core
from azurite.api import embedding
from azurite.api.collection import Collection
from azurite.api.validation import engine_offset
from azurite.config import Settings
from azurite.errors import AuthorizationError, ChromaError, InvalidArgumentError

DEFAULT_TENANT = "default_tenant"
DEFAULT_DATABASE = "default_database"
#: What chromadb reports (SQLite's variable limit / 6). Azurite has no batch limit: larger
#: batches are accepted and applied atomically; the value is kept for code that splits
#: its input by it.
MAX_BATCH_SIZE = 5461

EPHEMERAL = "ephemeral"


@dataclass
class UserIdentity:
    user_id: str
    tenant: str
    databases: list[str] = field(default_factory=list)


class _System:
    """One open database and the settings it was opened with, shared by its clients."""

    def __init__(self, identifier: str, settings: Settings) -> None:
        self.identifier = identifier
        self.settings = settings
        path = None if identifier == EPHEMERAL else identifier
        self.database = _core.Database(
            path, settings.azurite_durability, bool(settings.azurite_read_only)
        )
        self.clients = 0


_systems: dict[str, _System] = {}
_systems_lock = threading.Lock()


def _identifier(settings: Settings) -> str:
    if settings.is_persistent:
        return os.path.abspath(str(settings.persist_directory))
    return EPHEMERAL


def _comparable(settings: Settings) -> Settings:
    """Settings as compared between clients of one system: the same directory spelled
    differently (relative, absolute, trailing slash) is the same setting."""
    normalised = settings.copy()
    normalised.persist_directory = _identifier(settings)
    return normalised


def _acquire_system(settings: Settings) -> _System:
    identifier = _identifier(settings)
    with _systems_lock:
        system = _systems.get(identifier)
        if system is None:
            system = _systems[identifier] = _System(identifier, settings)
        elif _comparable(system.settings) != _comparable(settings):
            raise ValueError(
                f"An instance of Chroma already exists for {identifier} with different settings"
            )
        system.clients += 1
        return system


def _release_system(system: _System) -> None:
    with _systems_lock:
        system.clients -= 1
        if system.clients <= 0 and _systems.get(system.identifier) is system:
            del _systems[system.identifier]
            system.database.close()


class SharedSystemClient:
    """Chroma's name for the owner of the system cache."""

    @staticmethod
    def clear_system_cache() -> None:
        """Closes every open database of this process and forgets it."""
        with _systems_lock:
            systems = list(_systems.values())
            _systems.clear()
        for system in systems:
            system.database.close()


class _ClientBase(SharedSystemClient):
    def __init__(self, settings: Settings | None) -> None:
        self._settings = settings if settings is not None else Settings()
        self._system: _System | None = _acquire_system(self._settings)

    @property
    def _db(self) -> _core.Database:
        if self._system is None:
            raise ChromaError("This client has been closed")
        return self._system.database

    def close(self) -> None:
        """Releases this client's hold on the database; the last client closes it."""
        if self._system is not None:
            _release_system(self._system)
            self._system = None

    def __enter__(self) -> _ClientBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_settings(self) -> Settings:
        return self._settings


class TenantsAndDatabases:
    """The tenant and database calls of an admin client, over whatever database its
    ``_db`` reaches: the embedded engine, or a server through the HTTP client."""

    _db: Any

    def create_tenant(self, name: str) -> None:
        self._db.create_tenant(name)

    def get_tenant(self, name: str) -> dict[str, str]:
        self._db.get_tenant(name)
        return {"name": name}

    def create_database(self, name: str, tenant: str = DEFAULT_TENANT) -> None:
        self._db.create_database(name, tenant)

    def get_database(self, name: str, tenant: str = DEFAULT_TENANT) -> dict[str, Any]:
        return _database(self._db.get_database(name, tenant))

    def delete_database(self, name: str, tenant: str = DEFAULT_TENANT) -> None:
        self._db.delete_database(name, tenant)

    def list_databases(
        self,
        limit: int | None = None,
        offset: int | None = None,
        tenant: str = DEFAULT_TENANT,
    ) -> list[dict[str, Any]]:
        return [_database(d) for d in self._db.list_databases(tenant, limit, engine_offset(offset))]


class AdminClient(TenantsAndDatabases, _ClientBase):
    """Manages tenants and databases."""

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__(settings)


def _database(record: dict[str, str]) -> dict[str, Any]:
    return {"id": UUID(record["id"]), "name": record["name"], "tenant": record["tenant"]}


def _copied(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else value


def _configuration_json(
    configuration: dict[str, Any] | None,
    metadata: dict[str, Any] | None,
    embedding_function: Any,
) -> str | None:
    """Serialises a create-time configuration the way Chroma's client does, including
    filling in the space that the embedding function prefers."""
    configuration = dict(configuration or {})
    configured_function = configuration.get("embedding_function")
    embedding.check_conflict_on_create(embedding_function, configured_function)
    function = configured_function if configured_function is not None else embedding_function
    if function is None and not configuration:
        return None
    if configuration.get("hnsw") is not None and configuration.get("spann") is not None:
        raise ValueError("hnsw and spann cannot both be provided")
    entry = embedding.configuration_entry(function) if function is not None else {"type": "legacy"}
    # A value that is not an object is sent as it is, for the engine to refuse
    # (InvalidArgumentError), as chromadb does.
    serialised: dict[str, Any] = {
        "hnsw": _copied(configuration.get("hnsw")),
        "spann": _copied(configuration.get("spann")),
        "embedding_function": entry,
    }
    space = embedding.default_space(function) if entry["type"] == "known" else None
    if space is not None:
        index = serialised["hnsw"] if serialised["hnsw"] is not None else serialised["spann"]
        if isinstance(index, dict):
            index.setdefault("space", space)
        elif "hnsw:space" not in (metadata or {}):
            serialised["hnsw"] = {"space": space}
    return json.dumps(serialised)


class Client(_ClientBase):
    """A client of one tenant and database, embedded in this process."""

    def __init__(
        self,
        settings: Settings | None = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
    ) -> None:
        super().__init__(settings)
        try:
            self._check_tenant_and_database(str(tenant), str(database))
        except BaseException:
            self.close()
            raise
        self.tenant = str(tenant)
        self.database = str(database)

    def _check_tenant_and_database(self, tenant: str, database: str) -> None:
        self._db.get_tenant(tenant)
        self._db.get_database(database, tenant)

    # ---- server-like calls

    def heartbeat(self) -> int:
        """Nanoseconds since the Unix epoch."""
        return time.time_ns()

    def get_version(self) -> str:
        from azurite import __version__

        return __version__

    def get_max_batch_size(self) -> int:
        return MAX_BATCH_SIZE

    def get_user_identity(self) -> UserIdentity:
        return UserIdentity(user_id="", tenant=DEFAULT_TENANT, databases=[DEFAULT_DATABASE])

    def reset(self) -> bool:
        """Deletes everything. Refused unless the client was created with allow_reset."""
        if not self._settings.allow_reset:
            raise AuthorizationError("Reset is disabled by config")
        self._db.reset()
        return True

    def set_tenant(self, tenant: str, database: str = DEFAULT_DATABASE) -> None:
        self._check_tenant_and_database(tenant, database)
        self.tenant, self.database = tenant, database

    def set_database(self, database: str) -> None:
        self._check_tenant_and_database(self.tenant, database)
        self.database = database

    # ---- collections

    def _collection(
        self, model: dict[str, Any], embedding_function: Any, data_loader: Any
    ) -> Collection:
        return Collection(self, model, embedding_function, data_loader)

    def _opened_collection(
        self, model: dict[str, Any], embedding_function: Any, data_loader: Any
    ) -> Collection:
        """A collection that exists already: the function passed must not contradict the
        one stored with it."""
        stored = json.loads(model["configuration_json"]) or {}
        persisted = stored.get("embedding_function")
        embedding.check_conflict_on_get(embedding_function, persisted)
        return self._collection(model, embedding_function, data_loader)

    def list_collections(
        self, limit: int | None = None, offset: int | None = None
    ) -> list[Collection]:
        models = self._db.list_collections(self.tenant, self.database, limit, engine_offset(offset))
        return [self._collection(m, embedding.DEFAULT_EMBEDDING_FUNCTION, None) for m in models]

    def count_collections(self) -> int:
        return self._db.count_collections(self.tenant, self.database)

    def create_collection(
        self,
        name: str,
        schema: Any = None,
        configuration: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        embedding_function: Any = embedding.DEFAULT_EMBEDDING_FUNCTION,
        data_loader: Any = None,
        get_or_create: bool = False,
    ) -> Collection:
        model = self._db.create_collection(
            self.tenant,
            self.database,
            name,
            _configuration_json(configuration, metadata, embedding_function),
            metadata,
            get_or_create,
        )
        if get_or_create:
            return self._opened_collection(model, embedding_function, data_loader)
        return self._collection(model, embedding_function, data_loader)

    def get_or_create_collection(
        self,
        name: str,
        schema: Any = None,
        configuration: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
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
        model = self._db.get_collection(self.tenant, self.database, name)
        return self._opened_collection(model, embedding_function, data_loader)

    def get_collection_by_id(
        self,
        id: UUID | str,
        embedding_function: Any = embedding.DEFAULT_EMBEDDING_FUNCTION,
        data_loader: Any = None,
    ) -> Collection:
        try:
            collection_id = str(UUID(str(id)))
        except ValueError:
            raise InvalidArgumentError(
                "Validation error: collection_id: Invalid collection ID format, expected UUID"
            ) from None
        model = self._db.get_collection_by_id(self.tenant, self.database, collection_id)
        return self._opened_collection(model, embedding_function, data_loader)

    def delete_collection(self, name: str) -> None:
        self._db.delete_collection(self.tenant, self.database, name)


def EphemeralClient(
    settings: Settings | None = None,
    tenant: str = DEFAULT_TENANT,
    database: str = DEFAULT_DATABASE,
) -> Client:
    """A client of an in-memory database shared by every ephemeral client of the process."""
    settings = settings.copy() if settings is not None else Settings()
    settings.is_persistent = False
    return Client(settings, tenant, database)


def PersistentClient(
    path: str | os.PathLike[str] = "./chroma",
    settings: Settings | None = None,
    tenant: str = DEFAULT_TENANT,
    database: str = DEFAULT_DATABASE,
) -> Client:
    """A client of the database stored in the directory `path` (created if missing)."""
    settings = settings.copy() if settings is not None else Settings()
    settings.is_persistent = True
    settings.persist_directory = str(path)
    return Client(settings, tenant, database)


__all__ = [
    "DEFAULT_DATABASE",
    "DEFAULT_TENANT",
    "AdminClient",
    "Client",
    "EphemeralClient",
    "PersistentClient",
    "SharedSystemClient",
    "UserIdentity",
]
