"""How a command finds the ``azurite run`` that holds a database directory.

While it serves, ``azurite run`` records its address in ``azurite.server`` beside the
directory's lock: ``{"pid": ..., "url": ...}``. It removes the file when it stops; a file
whose pid is not the one holding the lock (a server that was killed) is ignored. No
credential is written: a command that talks to a server with a token is given the token.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

ADDRESS_FILE = "azurite.server"
LOCK_FILE = "azurite.lock"

#: Addresses that mean "every interface" to listen on, and the loopback one to connect to.
_ANY_INTERFACE = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}


def local_url(host: str, port: int) -> str:
    """The URL a process on this machine reaches a server listening on ``host``."""
    host = _ANY_INTERFACE.get(host, host)
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


@contextlib.contextmanager
def advertised(path: str | os.PathLike[str], url: str) -> Iterator[None]:
    """Records ``url`` as the address of the server of ``path`` while the block runs."""
    address = Path(path) / ADDRESS_FILE
    temporary = address.with_name(ADDRESS_FILE + ".tmp")
    temporary.write_text(json.dumps({"pid": os.getpid(), "url": url}))
    os.replace(temporary, address)

    def withdraw() -> None:
        with contextlib.suppress(FileNotFoundError):
            address.unlink()

    # uvicorn ends a graceful shutdown by raising the signal that asked for it again,
    # with the handler it found: SIGTERM's default one ends the process at once, past
    # any `finally`. This handler withdraws the address first, then lets it do so.
    previous = signal.getsignal(signal.SIGTERM)

    def terminated(signum: int, frame: FrameType | None) -> None:
        withdraw()
        signal.signal(signal.SIGTERM, previous)
        signal.raise_signal(signal.SIGTERM)

    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread and previous == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, terminated)
    try:
        yield
    finally:
        withdraw()
        if in_main_thread and previous == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, previous)


def server_url(path: str | os.PathLike[str]) -> str | None:
    """The URL of the ``azurite run`` holding ``path``'s lock, or None when no server
    recorded one or the record is stale (its pid is not the lock holder's)."""
    directory = Path(path)
    try:
        record = json.loads((directory / ADDRESS_FILE).read_text())
        holder = (directory / LOCK_FILE).read_text().strip()
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or str(record.get("pid")) != holder:
        return None
    url = record.get("url")
    return url if isinstance(url, str) else None
