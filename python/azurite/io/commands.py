"""``azurite export`` and ``azurite import``: collections to and from files.

A user's mistake (a missing collection or file, a bad header, an existing name) is one
line on stderr and exit status 1, never a traceback. Progress goes to stderr, so that an
export to ``-`` (stdout) can feed a pipe.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from azurite.config import DEFAULT_DATABASE, DEFAULT_TENANT

FORMATS = ("parquet", "arrow", "jsonl")
MODES = ("create", "add", "upsert")
_SUFFIXES = {"parquet": ".parquet", "arrow": ".arrow", "jsonl": ".jsonl"}


class UserError(Exception):
    """A mistake in the command's arguments, reported as one line."""


def _location(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--path", required=True, help="database directory")
    parser.add_argument("--tenant", default=DEFAULT_TENANT, help="tenant [default_tenant]")
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="database [default_database]")
    parser.add_argument("--format", choices=FORMATS, help="file format [from the extension]")
    parser.add_argument("--batch-size", type=int, default=10_000, help="records per batch [10000]")


def add_parsers(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    export = subcommands.add_parser(
        "export",
        help="write a collection to a Parquet, Arrow IPC or JSONL file",
        description="Write a collection (its records, configuration, embedding function "
        "and schema) to a Parquet, Arrow IPC or JSON Lines file, in batches. With --all, "
        "every collection of the database goes into the directory --to, one file each.",
    )
    _location(export)
    which = export.add_mutually_exclusive_group(required=True)
    which.add_argument("--collection", help="the collection to export")
    which.add_argument("--all", action="store_true", help="export every collection")
    export.add_argument(
        "--to", required=True, help="file to write (- for stdout), or a directory with --all"
    )
    imported = subcommands.add_parser(
        "import",
        help="load a Parquet, Arrow IPC or JSONL export into a collection",
        description="Load a file written by `azurite export` (or any Parquet / Arrow file "
        "in its layout) into a collection, all or nothing: a failed or interrupted import "
        "leaves the database unchanged.",
    )
    _location(imported)
    imported.add_argument("file", help="the file to load")
    imported.add_argument(
        "--collection", help="collection to load into [the name the file records]"
    )
    imported.add_argument(
        "--mode",
        choices=MODES,
        default="create",
        help="create: a new collection; add: skip ids that exist; upsert: update them [create]",
    )


@contextmanager
def _progress(description: str, total: int | None) -> Iterator[Any]:
    from tqdm import tqdm

    with tqdm(total=total, desc=description, unit=" records", file=sys.stderr) as bar:
        yield bar.update


def _client(arguments: argparse.Namespace) -> Any:
    from azurite.api.client import PersistentClient

    if not Path(arguments.path).is_dir():
        raise UserError(f"no database at {arguments.path}")
    return PersistentClient(
        path=arguments.path, tenant=arguments.tenant, database=arguments.database
    )


def _export_one(collection: Any, to: str, format: str | None, batch_size: int) -> int:
    from azurite.io import export_collection

    with _progress(f"export {collection.name}", collection.count()) as advance:
        if to == "-":
            if format is None:
                raise UserError("--format is needed to write to stdout")
            return export_collection(
                collection, sys.stdout.buffer, format, batch_size, progress=advance
            )
        return export_collection(collection, to, format, batch_size, progress=advance)


def export(arguments: argparse.Namespace) -> None:
    client = _client(arguments)
    try:
        if not arguments.all:
            collection = client.get_collection(arguments.collection, embedding_function=None)
            written = _export_one(collection, arguments.to, arguments.format, arguments.batch_size)
            print(f"Exported {written} records of {collection.name}", file=sys.stderr)
            return
        directory = Path(arguments.to)
        directory.mkdir(parents=True, exist_ok=True)
        format = arguments.format or "parquet"
        for collection in client.list_collections():
            target = directory / f"{collection.name}{_SUFFIXES[format]}"
            written = _export_one(collection, os.fspath(target), format, arguments.batch_size)
            print(f"Exported {written} records of {collection.name} to {target}", file=sys.stderr)
    finally:
        client.close()


def import_(arguments: argparse.Namespace) -> None:
    from azurite.io import import_collection

    client = _client(arguments)
    try:
        with _progress(f"import {arguments.file}", None) as advance:
            collection = import_collection(
                client,
                arguments.file,
                name=arguments.collection,
                mode=arguments.mode,
                format=arguments.format,
                batch_size=arguments.batch_size,
                embedding_function=None,
                progress=advance,
            )
        print(
            f"Imported {arguments.file} into {collection.name} ({collection.count()} records)",
            file=sys.stderr,
        )
    finally:
        client.close()


def run(arguments: argparse.Namespace) -> int:
    """Runs ``azurite export`` or ``azurite import``; returns the exit status."""
    from azurite.errors import ChromaError

    try:
        export(arguments) if arguments.command == "export" else import_(arguments)
    except (UserError, ChromaError, ValueError, TypeError, ImportError, OSError) as error:
        print(f"azurite {arguments.command}: {error}", file=sys.stderr)
        return 1
    return 0
