"""``azurite import-chroma``: a chromadb directory's collections into an Azurite
directory, with a progress bar per collection and a table of what the check found."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from azurite.errors import ChromaError
from azurite.io.chroma.directory import SUPPORTED_VERSIONS, ChromaCollection
from azurite.io.chroma.importer import DEFAULT_BATCH_SIZE, DEFAULT_SAMPLE_SIZE, ImportReport


def add_import_chroma_parser(
    subcommands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    command = subcommands.add_parser(
        "import-chroma",
        help="import every collection of a chromadb directory",
        description="Import every tenant, database and collection of the chromadb "
        f"persistent directory --from (written by {SUPPORTED_VERSIONS}) into the Azurite "
        "directory --path, with vectors, documents, metadata, URIs, configuration and "
        "schema; nothing is embedded again and --from is only read. Any other directory, "
        "or a damaged one, is refused before anything is written; the collections appear "
        "in --path all at once at the end, or not at all. Then counts and a sample of "
        "records are compared. Exit status 0 when everything matched, 1 otherwise.",
    )
    command.add_argument(
        "--from", dest="source", required=True, metavar="CHROMA_DIR", help="chromadb directory"
    )
    command.add_argument("--path", required=True, help="Azurite database directory")
    command.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        help=f"records read and written at a time [default {DEFAULT_BATCH_SIZE}]",
    )
    command.add_argument(
        "--sample",
        type=int,
        default=DEFAULT_SAMPLE_SIZE,
        help=f"records per collection compared after the import [default {DEFAULT_SAMPLE_SIZE}]",
    )


class _Bars:
    """One tqdm bar per collection, closed when the next one starts."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._done = 0

    def start(self, collection: ChromaCollection, total: int) -> None:
        from tqdm import tqdm

        self.close()
        self._bar = tqdm(
            desc=f"{collection.tenant}/{collection.database}/{collection.name}",
            total=total,
            unit="records",
            file=sys.stderr,
        )
        self._done = 0

    def advance(self, _collection: ChromaCollection, written: int) -> None:
        self._bar.update(written - self._done)
        self._done = written

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def print_report(report: ImportReport) -> None:
    rows = [("collection", "source", "imported", "sampled", "check")]
    for c in report.collections:
        status = "ok" if c.ok else "MISMATCH"
        rows.append(
            (
                f"{c.tenant}/{c.database}/{c.name}",
                str(c.source_count),
                str(c.imported_count),
                str(c.sampled),
                status,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    for c in report.collections:
        for mismatch in c.mismatches:
            print(f"{c.tenant}/{c.database}/{c.name}: {mismatch}")


def import_chroma_command(arguments: argparse.Namespace) -> int:
    """Runs ``azurite import-chroma``; returns the exit status."""
    from azurite.io.chroma.importer import import_chroma

    bars = _Bars()
    try:
        report = import_chroma(
            arguments.source,
            arguments.path,
            batch_size=arguments.batch_size,
            sample_size=arguments.sample,
            progress=bars.advance,
            on_collection=bars.start,
        )
    except (ChromaError, ValueError) as error:
        bars.close()
        print(f"Cannot import {arguments.source}: {error}", file=sys.stderr)
        return 1
    bars.close()
    print_report(report)
    if not report.collections:
        print(f"{arguments.source} holds no collection.")
    return 0 if report.ok else 1
