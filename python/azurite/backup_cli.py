"""``azurite backup`` and ``azurite restore``: a consistent copy of a database directory
while it is in use, and a directory made from such a copy.

``backup`` opens the directory itself when no other process has it; when ``azurite run``
holds it, it asks that server (found through the address the server records beside its
lock, or named with ``--url``) to make the copy, which is then written by the server's
process on this machine.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

from azurite import _core
from azurite.api.engine import BackupReport
from azurite.errors import ChromaError, DatabaseLockedError, InvalidArgumentError
from azurite.server.discovery import ADDRESS_FILE, LOCK_FILE, server_url

#: What an Azurite directory always holds: a restore refuses a source without it.
STORE_FILE = "azurite.sqlite3"


def add_parsers(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backup = subcommands.add_parser(
        "backup",
        help="copy a database directory consistently, even while it is in use",
        description="Copy the database in --path into --to (a new or empty directory) while "
        "writers keep writing: the copy holds every write acknowledged before the command "
        "started and opens as it is. When `azurite run` serves --path, the server makes the "
        "copy (it must be able to write --to). Exit status 0 on success, 1 on failure.",
    )
    backup.add_argument("--path", help="database directory")
    backup.add_argument("--to", required=True, help="directory for the copy (new or empty)")
    backup.add_argument(
        "--url",
        help="ask the server at this URL (e.g. http://localhost:8000) instead of opening --path",
    )
    backup.add_argument(
        "--auth-token",
        default=os.environ.get("AZURITE_AUTH_TOKEN"),
        help="the server's token, if it requires one [AZURITE_AUTH_TOKEN]",
    )
    restore = subcommands.add_parser(
        "restore",
        help="make a database directory from a backup",
        description="Copy the backup in --from into --path (new or empty), then open it to "
        "check it. Exit status 0 on success, 1 on failure.",
    )
    restore.add_argument("--from", dest="source", required=True, help="backup directory")
    restore.add_argument("--path", required=True, help="database directory to create")


def backup(path: str | None, dest: str, url: str | None, token: str | None) -> BackupReport:
    """Backs up ``path`` (or the database the server at ``url`` serves) into ``dest``."""
    # A server runs elsewhere: it is handed a path that means the same there.
    dest = os.path.abspath(dest)
    if url is None:
        if path is None:
            raise InvalidArgumentError("Name the database with --path, or its server with --url")
        if not (Path(path) / STORE_FILE).is_file():
            raise InvalidArgumentError(
                f"{path} is not an Azurite database directory (it has no {STORE_FILE})"
            )
        try:
            database = _core.Database(path)
        except DatabaseLockedError as locked:
            url = server_url(path)
            if url is None:
                raise DatabaseLockedError(
                    f"{locked} No `azurite run` serving it recorded its address "
                    f"({os.path.join(path, ADDRESS_FILE)}): name the server with --url."
                ) from None
        else:
            try:
                return database.backup(dest)
            finally:
                database.close()
    from azurite.api.http_client import HttpClient

    headers = {"Authorization": f"Bearer {token}"} if token else None
    with HttpClient(host=url, headers=headers) as client:
        return client.backup(dest)


def restore(source: str, path: str) -> list[str]:
    """Makes ``path`` a database from the backup in ``source``: copied into a sibling of
    ``path``, opened there as a check, then renamed into place. Returns the warnings the
    check's open gave (none for an intact backup)."""
    target = Path(path)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InvalidArgumentError(
            f"The restore destination {path} exists and is not empty: name a new or empty directory"
        )
    if not (Path(source) / STORE_FILE).is_file():
        raise InvalidArgumentError(
            f"{source} is not an Azurite database directory (it has no {STORE_FILE})"
        )
    refuse_open_directory(Path(source))
    staging = target.parent / f".{target.name}.restore-{os.getpid()}-{uuid.uuid4().hex}"
    try:
        # The lock and the address belong to a process that had the source open.
        shutil.copytree(source, staging, ignore=shutil.ignore_patterns(LOCK_FILE, ADDRESS_FILE))
        with engine_warnings() as warnings:
            _core.Database(staging).close()
        (staging / LOCK_FILE).unlink(missing_ok=True)
        if target.exists():
            target.rmdir()
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return warnings


def refuse_open_directory(source: Path) -> None:
    """A directory some process has open for writing may change while it is copied: it is
    backed up (``azurite backup``), not restored from. Where the OS lock cannot be probed
    (no ``fcntl``), the copy goes ahead."""
    try:
        import fcntl
    except ImportError:
        return
    lock_file = source / LOCK_FILE
    if not lock_file.is_file():
        return
    with open(lock_file, "rb") as lock:
        try:
            # The engine's lock is an exclusive flock: a shared one is refused while it is held.
            fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = lock.read().decode(errors="replace").strip() or "unknown"
            raise DatabaseLockedError(
                f"{source} is open for writing in another process (pid {holder}): copy it "
                "with `azurite backup` instead"
            ) from None
        fcntl.flock(lock, fcntl.LOCK_UN)


class _Collect(logging.Handler):
    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record.getMessage())


@contextlib.contextmanager
def engine_warnings() -> Iterator[list[str]]:
    """The warnings the engine logs while the block runs."""
    messages: list[str] = []
    handler = _Collect(messages)
    logger = logging.getLogger("azurite_core")
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)


def run(arguments: argparse.Namespace) -> int:
    """Runs ``azurite backup`` or ``azurite restore``; returns the exit status."""
    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s")
    try:
        if arguments.command == "backup":
            report = backup(arguments.path, arguments.to, arguments.url, arguments.auth_token)
            print(
                f"Backed up {report['collections']} collections (up to write {report['seq']}, "
                f"{report['bytes']} bytes) into {report['path']}"
            )
        else:
            warnings = restore(arguments.source, arguments.path)
            print(f"Restored {arguments.source} into {os.path.abspath(arguments.path)}")
            for warning in warnings:
                print(f"- when opened: {warning}")
    except (ChromaError, ValueError, OSError) as error:
        print(f"azurite {arguments.command}: {error}", file=sys.stderr)
        return 1
    return 0
