"""Export: a collection read in pages of ``get(limit, offset)`` and written as it is read.

Only one page is held at a time, so memory is bounded by ``batch_size`` whatever the size
of the collection. The layout is fixed from the collection's schema before the first page
(:mod:`azurite.io.layout`). Pages are separate reads: records written while an export
runs may or may not be in it (a consistent copy of a live database is a backup's job).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Union

import pyarrow as pa
import pyarrow.parquet as pq

from azurite.api.engine import CollectionModel
from azurite.errors import InvalidArgumentError
from azurite.io.jsonl import header_line, record_lines
from azurite.io.layout import Header
from azurite.io.records import Records, to_batch

if TYPE_CHECKING:
    # Only a type here: the collection's export methods import this module when called.
    from azurite.api.collection import Collection

#: Every column: what an export includes unless told otherwise.
ALL_INCLUDE = ["documents", "uris", "embeddings", "metadatas"]
DEFAULT_BATCH_SIZE = 10_000
FORMATS = ("parquet", "arrow", "jsonl")
_EXTENSIONS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".arrow": "arrow",
    ".arrows": "arrow",
    ".ipc": "arrow",
    ".feather": "arrow",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}

PathOrSink = Union[str, "os.PathLike[str]", IO[bytes]]
Progress = Callable[[int], None]


def format_of(path: str | os.PathLike[str], given: str | None) -> str:
    """The format ``given``, else the one the file's extension names."""
    if given is not None:
        if given not in FORMATS:
            raise InvalidArgumentError(
                f"Unknown format {given!r}: expected one of {', '.join(FORMATS)}"
            )
        return given
    found = _EXTENSIONS.get(Path(path).suffix.lower())
    if found is None:
        raise InvalidArgumentError(
            f"Cannot tell the format of {os.fspath(path)!r} from its extension "
            f"({', '.join(_EXTENSIONS)}): give format= ({', '.join(FORMATS)})"
        )
    return found


def _current_model(collection: Collection) -> CollectionModel:
    # The collection object holds its model as last read; writes since then may have
    # added metadata keys to the schema the layout is built from.
    model = collection._model
    return collection._engine.get_collection_by_id(model["tenant"], model["database"], model["id"])


def _include(include: list[str] | None) -> list[str]:
    chosen = list(ALL_INCLUDE if include is None else include)
    unknown = [name for name in chosen if name not in ALL_INCLUDE]
    if unknown:
        raise ValueError(
            f"Expected include item to be one of {', '.join(ALL_INCLUDE)}, got {unknown[0]}"
        )
    return chosen


def pages(
    collection: Collection,
    include: list[str],
    batch_size: int,
    where: dict[str, Any] | None = None,
    where_document: dict[str, Any] | None = None,
) -> Iterator[Records]:
    """The collection's records (those passing the filters), ``batch_size`` at a time,
    in insertion order."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
    offset = 0
    while True:
        request = collection._prepare_get(None, where, batch_size, offset, where_document, include)
        columns = collection._engine.get(*request.call)
        if not columns["ids"]:
            return
        yield Records(
            ids=columns["ids"],
            embeddings=columns["embeddings"],
            documents=columns["documents"],
            uris=columns["uris"],
            metadatas=columns["metadatas"],
        )
        if len(columns["ids"]) < batch_size:
            return
        offset += len(columns["ids"])


def to_arrow(
    collection: Collection,
    where: dict[str, Any] | None = None,
    where_document: dict[str, Any] | None = None,
    include: list[str] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> pa.Table:
    """The collection's records as one Arrow table, with the header in its schema
    metadata."""
    chosen = _include(include)
    header = Header.of_collection(_current_model(collection), chosen)
    schema = header.arrow_schema()
    batches = [
        to_batch(page, header, schema)
        for page in pages(collection, chosen, batch_size, where, where_document)
    ]
    return pa.Table.from_batches(batches, schema=schema)


class _BatchWriter:
    """Writes pages in one format to an open binary stream."""

    def __init__(self, stream: IO[bytes], format: str, header: Header, is_path: bool) -> None:
        self._stream = stream
        self._header = header
        self._schema = header.arrow_schema()
        self._writer: Any = None
        if format == "parquet":
            self._writer = pq.ParquetWriter(stream, self._schema)
        elif format == "arrow":
            # A file (with its footer, for random access) when writing to a path; a
            # stream, readable as it arrives, when writing to a pipe.
            opener = pa.ipc.new_file if is_path else pa.ipc.new_stream
            self._writer = opener(stream, self._schema)
        else:
            stream.write(header_line(header))

    def write(self, records: Records) -> None:
        if self._writer is None:
            self._stream.write(record_lines(records, self._header))
        else:
            self._writer.write_batch(to_batch(records, self._header, self._schema))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._stream.flush()


@contextmanager
def _opened(path_or_sink: PathOrSink) -> Iterator[tuple[IO[bytes], bool]]:
    """The stream to write to. A path is written beside itself and renamed into place
    once complete, so a file of that name is never a partial export."""
    if not isinstance(path_or_sink, (str, os.PathLike)):
        yield path_or_sink, False
        return
    path = Path(path_or_sink)
    partial = path.with_name(path.name + ".partial")
    try:
        with open(partial, "wb") as stream:
            yield stream, True
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def export_collection(
    collection: Collection,
    path_or_sink: PathOrSink,
    format: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    include: list[str] | None = None,
    where: dict[str, Any] | None = None,
    where_document: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> int:
    """Writes the collection's records (those passing ``where`` / ``where_document``) to
    a file or a binary stream in ``format`` ("parquet", "arrow" or "jsonl"; from the
    path's extension when not given), reading ``batch_size`` records at a time. Calls
    ``progress`` with the number of records of each page written; returns how many were
    written."""
    is_path = isinstance(path_or_sink, (str, os.PathLike))
    if format is None and not is_path:
        raise InvalidArgumentError("format= is needed to write to a stream")
    chosen_format = format_of(path_or_sink if is_path else "", format)  # type: ignore[arg-type]
    chosen = _include(include)
    header = Header.of_collection(_current_model(collection), chosen)
    written = 0
    with _opened(path_or_sink) as (stream, to_path):
        writer = _BatchWriter(stream, chosen_format, header, to_path)
        for page in pages(collection, chosen, batch_size, where, where_document):
            writer.write(page)
            written += len(page)
            if progress is not None:
                progress(len(page))
        writer.close()
    return written
