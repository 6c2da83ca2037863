"""Export: a collection read in pages of ``get(limit, offset)`` and written as it is read.

Only one page is held at a time, so memory is bounded by ``batch_size`` whatever the size
of the collection. The layout is fixed from the collection's schema before the first page
(:mod:`azurite.io.layout`). Pages are separate reads: records written while an export
runs may or may not be in it (a consistent copy of a live database is a backup's job).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Union

import pyarrow as pa
import pyarrow.parquet as pq

from azurite.api.collection_core import CollectionCore
from azurite.api.engine import AsyncEngine, CollectionModel, Engine, GetColumns
from azurite.errors import InvalidArgumentError
from azurite.io.jsonl import header_line, record_lines
from azurite.io.layout import Header
from azurite.io.records import Records, to_batch

if TYPE_CHECKING:
    # Only types here: the collections' export methods import this module when called.
    from azurite.api.collection import AsyncCollection, Collection

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


def _address(collection: CollectionCore) -> tuple[str, str, str]:
    # The collection object holds its model as last read; writes since then may have
    # added metadata keys to the schema the layout is built from, so it is read again.
    model = collection._model
    return model["tenant"], model["database"], model["id"]


def _current_model(collection: Collection) -> CollectionModel:
    return collection._engine.get_collection_by_id(*_address(collection))


async def _current_model_async(collection: AsyncCollection) -> CollectionModel:
    return await collection._engine.get_collection_by_id(*_address(collection))


def _include(include: list[str] | None) -> list[str]:
    chosen = list(ALL_INCLUDE if include is None else include)
    unknown = [name for name in chosen if name not in ALL_INCLUDE]
    if unknown:
        raise ValueError(
            f"Expected include item to be one of {', '.join(ALL_INCLUDE)}, got {unknown[0]}"
        )
    return chosen


class _Paging:
    """Where a read of the collection's records in pages stands: the engine call for the
    next page, and the records of each page the engine answers. Pages follow insertion
    order; a short or empty page is the last."""

    def __init__(
        self,
        collection: CollectionCore,
        include: list[str],
        batch_size: int,
        where: dict[str, Any] | None,
        where_document: dict[str, Any] | None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
        request = collection._prepare_get(None, where, batch_size, 0, where_document, include)
        self.call = request.call
        self.finished = False
        self._batch_size = batch_size

    def page(self, columns: GetColumns) -> Records | None:
        """The records of the page the engine answered to :attr:`call` (None when it
        holds none), after which :attr:`call` asks for the page after it."""
        read = len(columns["ids"])
        self.finished = read < self._batch_size
        self.call = self.call._replace(offset=self.call.offset + read)
        if not read:
            return None
        return Records(
            ids=columns["ids"],
            embeddings=columns["embeddings"],
            documents=columns["documents"],
            uris=columns["uris"],
            metadatas=columns["metadatas"],
        )


def _pages(engine: Engine, paging: _Paging) -> Iterator[Records]:
    """The pages ``paging`` asks for, read from ``engine``."""
    while not paging.finished:
        page = paging.page(engine.get(*paging.call))
        if page is not None:
            yield page


async def _pages_async(engine: AsyncEngine, paging: _Paging) -> AsyncIterator[Records]:
    """:func:`_pages` awaiting an asynchronous engine."""
    while not paging.finished:
        page = paging.page(await engine.get(*paging.call))
        if page is not None:
            yield page


class _TableBuilder:
    """The pages of an export gathered into one Arrow table, converted as they come."""

    def __init__(self, model: CollectionModel, include: list[str]) -> None:
        self._header = Header.of_collection(model, include)
        self._schema = self._header.arrow_schema()
        self._batches: list[pa.RecordBatch] = []

    def add(self, page: Records) -> None:
        self._batches.append(to_batch(page, self._header, self._schema))

    def table(self) -> pa.Table:
        return pa.Table.from_batches(self._batches, schema=self._schema)


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
    builder = _TableBuilder(_current_model(collection), chosen)
    paging = _Paging(collection, chosen, batch_size, where, where_document)
    for page in _pages(collection._engine, paging):
        builder.add(page)
    return builder.table()


async def to_arrow_async(
    collection: AsyncCollection,
    where: dict[str, Any] | None = None,
    where_document: dict[str, Any] | None = None,
    include: list[str] | None = None,
) -> pa.Table:
    """:func:`to_arrow` of an asynchronous client's collection."""
    chosen = _include(include)
    builder = _TableBuilder(await _current_model_async(collection), chosen)
    paging = _Paging(collection, chosen, DEFAULT_BATCH_SIZE, where, where_document)
    async for page in _pages_async(collection._engine, paging):
        builder.add(page)
    return builder.table()


def pandas_frame(table: pa.Table) -> Any:
    """``table`` as a pandas DataFrame whose columns keep their Arrow types
    (``pandas.ArrowDtype``): numpy-backed columns would turn the integers of a metadata
    kind that some records lack into floats, losing large ones."""
    try:
        import pandas
    except ImportError:
        raise ImportError("to_pandas needs pandas: pip install pandas") from None
    return table.to_pandas(types_mapper=pandas.ArrowDtype)


def polars_frame(table: pa.Table) -> Any:
    """``table`` as a polars DataFrame."""
    try:
        import polars
    except ImportError:
        raise ImportError("to_polars needs polars: pip install polars") from None
    return polars.from_arrow(table)


class _BatchWriter:
    """Writes pages in one format to an open binary stream, counting the records."""

    def __init__(
        self,
        stream: IO[bytes],
        format: str,
        header: Header,
        is_path: bool,
        progress: Progress | None,
    ) -> None:
        self._stream = stream
        self._header = header
        self._schema = header.arrow_schema()
        self._progress = progress
        self._writer: Any = None
        self.written = 0
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
        self.written += len(records)
        if self._progress is not None:
            self._progress(len(records))

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


class _Export:
    """An export's choices, checked before anything is read: the format and the
    columns."""

    def __init__(
        self, path_or_sink: PathOrSink, format: str | None, include: list[str] | None
    ) -> None:
        self._destination = path_or_sink
        is_path = isinstance(path_or_sink, (str, os.PathLike))
        if format is None and not is_path:
            raise InvalidArgumentError("format= is needed to write to a stream")
        self._format = format_of(path_or_sink if is_path else "", format)  # type: ignore[arg-type]
        self.include = _include(include)

    @contextmanager
    def writing(self, model: CollectionModel, progress: Progress | None) -> Iterator[_BatchWriter]:
        """The writer of the pages of the collection ``model`` describes, to the
        destination; the export is complete once the block ends without an error."""
        header = Header.of_collection(model, self.include)
        with _opened(self._destination) as (stream, to_path):
            writer = _BatchWriter(stream, self._format, header, to_path, progress)
            yield writer
            writer.close()


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
    export = _Export(path_or_sink, format, include)
    with export.writing(_current_model(collection), progress) as writer:
        paging = _Paging(collection, export.include, batch_size, where, where_document)
        for page in _pages(collection._engine, paging):
            writer.write(page)
    return writer.written


async def export_collection_async(
    collection: AsyncCollection,
    path_or_sink: PathOrSink,
    format: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    include: list[str] | None = None,
) -> int:
    """:func:`export_collection` of an asynchronous client's collection. Each page is
    written to the file as it arrives, in the event loop's thread."""
    export = _Export(path_or_sink, format, include)
    with export.writing(await _current_model_async(collection), None) as writer:
        paging = _Paging(collection, export.include, batch_size, None, None)
        async for page in _pages_async(collection._engine, paging):
            writer.write(page)
    return writer.written
