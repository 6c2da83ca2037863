"""The engine in this process, and the process-wide systems that share it.

Clients are backed by a process-wide *system* per storage location, as in Chroma: every
ephemeral client in a process shares one in-memory database, and every client on the same
path shares one open database (a directory can be opened for writing by one process only,
so sharing is also what makes two clients on one path work at all).
"""

from __future__ import annotations

import atexit
import os
import threading
import time

from azurite.api.engine import CLIENT_CLOSED, Connection, Engine, UserIdentity
from azurite.config import CHROMA_API_VERSION, DEFAULT_DATABASE, DEFAULT_TENANT, Settings
from azurite.errors import AuthorizationError, ChromaError

#: What chromadb reports (SQLite's variable limit / 6). Azurite has no batch limit: larger
#: batches are accepted and applied atomically; the value is kept for code that splits
#: its input by it.
MAX_BATCH_SIZE = 5461

EPHEMERAL = "ephemeral"


class System:
    """One open database and the settings it was opened with, shared by its clients."""

    def __init__(self, identifier: str, settings: Settings) -> None:
        self.identifier = identifier
        self.settings = settings
        # Imported here, not with the module: the thin HTTP-only client ships this module
        # without the compiled engine (and refuses local clients before reaching here).
        from azurite import _core

        path = None if identifier == EPHEMERAL else identifier
        self.database: Engine = _core.Database(
            path, settings.azurite_durability, bool(settings.azurite_read_only)
        )
        self.clients = 0


_systems: dict[str, System] = {}
_systems_lock = threading.Lock()


def _identifier(settings: Settings) -> str:
    if settings.is_persistent:
        if settings.persist_directory is None:
            # Not a folder named "None": the writes would go where nobody looks for them.
            raise ValueError(
                "Missing required config value 'persist_directory': a persistent client "
                "needs the directory of its database; set "
                "Settings(persist_directory=...) or use PersistentClient(path=...)"
            )
        return os.path.abspath(str(settings.persist_directory))
    return EPHEMERAL


def _comparable(settings: Settings) -> Settings:
    """Settings as compared between clients of one system: the same directory spelled
    differently (relative, absolute, trailing slash) is the same setting."""
    normalised = settings.copy()
    normalised.persist_directory = _identifier(settings)
    return normalised


def acquire_system(settings: Settings) -> System:
    identifier = _identifier(settings)
    with _systems_lock:
        system = _systems.get(identifier)
        if system is None:
            system = _systems[identifier] = System(identifier, settings)
        elif _comparable(system.settings) != _comparable(settings):
            raise ValueError(
                f"An instance of Chroma already exists for {identifier} with different settings"
            )
        system.clients += 1
        return system


def release_system(system: System) -> None:
    with _systems_lock:
        system.clients -= 1
        if system.clients <= 0 and _systems.get(system.identifier) is system:
            del _systems[system.identifier]
            system.database.close()


def clear_systems() -> None:
    """Closes every open database of this process and forgets it."""
    with _systems_lock:
        systems = list(_systems.values())
        _systems.clear()
    for system in systems:
        system.database.close()


# A script that ends without `close()` (as Chroma's documentation and most chromadb code
# do) still closes its databases: their index checkpoints are written then, so the next
# open restores the index instead of re-inserting what the last checkpoint lacked.
atexit.register(clear_systems)


class EmbeddedServer:
    """The server-level calls of an embedded client, answered in this process; all but
    `reset` still answer once the client is closed."""

    def __init__(self, system: System, settings: Settings) -> None:
        self._system: System | None = system
        self._settings = settings

    def release(self) -> None:
        """Lets go of the system (the last client closes its database)."""
        if self._system is not None:
            system, self._system = self._system, None
            release_system(system)

    def heartbeat(self) -> int:
        """Nanoseconds since the Unix epoch."""
        return time.time_ns()

    def version(self) -> str:
        return CHROMA_API_VERSION

    def max_batch_size(self) -> int:
        return MAX_BATCH_SIZE

    def identity(self) -> UserIdentity:
        return UserIdentity(user_id="", tenant=DEFAULT_TENANT, databases=[DEFAULT_DATABASE])

    def reset(self) -> bool:
        """Deletes everything. Refused unless the client was created with allow_reset."""
        if not self._settings.allow_reset:
            raise AuthorizationError("Reset is disabled by config")
        if self._system is None:
            raise ChromaError(CLIENT_CLOSED)
        self._system.database.reset()
        return True


def embedded_connection(settings: Settings) -> Connection:
    """A hold on the system of `settings`' storage location, opened if need be."""
    system = acquire_system(settings)
    server = EmbeddedServer(system, settings)
    return Connection(engine=system.database, server=server, release=server.release)
