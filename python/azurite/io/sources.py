"""What an import reads from: a file (Parquet, Arrow IPC file or stream, JSON Lines), an
Arrow table or record batch reader, or a pandas / polars data frame.

:func:`open_source` checks everything that can be checked before a record is read (the
format, the header, the Arrow schema), so that an import refuses a bad source before it
stages anything; :meth:`Source.batches` then reads it ``batch_size`` records at a time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from azurite.errors import InvalidArgumentError
from azurite.io.exporting import format_of
from azurite.io.jsonl import read_header, read_records
from azurite.io.layout import EMBEDDING, HEADER_KEY, Header
from azurite.io.records import Records, check_schema, embedding_dimension, from_batch

_IPC_FILE_MAGIC = b"ARROW1"


@dataclass
class Source:
    """An opened source: its header (None for a table without one), its Arrow schema
    (None for JSON Lines), and its records, read in batches."""

    description: str
    header: Header | None
    schema: pa.Schema | None
    _batches: Any
    _resources: ExitStack = field(default_factory=ExitStack)

    @property
    def dimension(self) -> int | None:
        """The vectors' dimension, as the header or a fixed-size embedding column says."""
        if self.header is not None and self.header.dimension is not None:
            return self.header.dimension
        return embedding_dimension(self.schema) if self.schema is not None else None

    @property
    def has_embeddings(self) -> bool:
        if self.schema is not None:
            return EMBEDDING in self.schema.names
        return self.header is not None and EMBEDDING in self.header.columns

    def batches(self, batch_size: int) -> Iterator[Records]:
        if self.schema is None:
            yield from self._batches(batch_size)
            return
        for batch in self._batches(batch_size):
            for start in range(0, batch.num_rows, batch_size):
                yield from_batch(batch.slice(start, batch_size), self.description)

    def close(self) -> None:
        self._resources.close()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _header_of(schema: pa.Schema, description: str) -> Header | None:
    text = (schema.metadata or {}).get(HEADER_KEY.encode())
    return Header.from_json(text, description) if text is not None else None


def _arrow_source(
    description: str, schema: pa.Schema, batches: Any, resources: ExitStack | None = None
) -> Source:
    check_schema(schema, description)
    return Source(
        description, _header_of(schema, description), schema, batches, resources or ExitStack()
    )


def _table_batches(table: pa.Table) -> Any:
    return lambda batch_size: iter(table.to_batches(max_chunksize=batch_size))


def _file_source(path: Path, format: str | None) -> Source:
    description = os.fspath(path)
    if not path.is_file():
        raise InvalidArgumentError(f"{description}: no such file")
    chosen = format_of(path, format)
    # The files stay open while the source is read; the stack closes them with it.
    resources = ExitStack()
    try:
        if chosen == "parquet":
            try:
                parquet = resources.enter_context(pq.ParquetFile(path))
            except pa.ArrowException as error:
                raise InvalidArgumentError(f"{description}: not a Parquet file ({error})") from None
            return _arrow_source(
                description,
                parquet.schema_arrow,
                lambda batch_size: parquet.iter_batches(batch_size=batch_size),
                resources,
            )
        if chosen == "arrow":
            stream = resources.enter_context(open(path, "rb"))  # noqa: SIM115
            is_file = stream.read(len(_IPC_FILE_MAGIC)) == _IPC_FILE_MAGIC
            stream.seek(0)
            try:
                if is_file:
                    reader = pa.ipc.open_file(stream)
                    batches = (reader.get_batch(i) for i in range(reader.num_record_batches))
                else:
                    reader = pa.ipc.open_stream(stream)
                    batches = iter(reader)
            except pa.ArrowException as error:
                raise InvalidArgumentError(
                    f"{description}: not an Arrow IPC file or stream ({error})"
                ) from None
            return _arrow_source(description, reader.schema, lambda _size: batches, resources)
        stream = resources.enter_context(open(path, "rb"))  # noqa: SIM115
        header = read_header(stream, description)
        return Source(
            description,
            header,
            None,
            lambda batch_size: read_records(stream, header, batch_size, description),
            resources,
        )
    except BaseException:
        resources.close()
        raise


def open_source(source: Any, format: str | None = None) -> Source:
    """Opens ``source`` (a path, an Arrow table or record batch reader, a pandas or polars
    data frame) and checks its header and schema."""
    if isinstance(source, (str, os.PathLike)):
        return _file_source(Path(source), format)
    if isinstance(source, pa.Table):
        return _arrow_source("the table", source.schema, _table_batches(source))
    if isinstance(source, pa.RecordBatch):
        table = pa.Table.from_batches([source])
        return _arrow_source("the record batch", table.schema, _table_batches(table))
    if isinstance(source, pa.RecordBatchReader):
        return _arrow_source("the record batch reader", source.schema, lambda _size: iter(source))
    module = type(source).__module__.split(".")[0]
    if module == "pandas":
        table = pa.Table.from_pandas(source, preserve_index=False)
        return _arrow_source("the data frame", table.schema, _table_batches(table))
    if module == "polars":
        table = source.to_arrow()
        return _arrow_source("the data frame", table.schema, _table_batches(table))
    raise TypeError(
        "Expected a path, a pyarrow Table, RecordBatch or RecordBatchReader, or a pandas or "
        f"polars DataFrame to import, got {type(source).__name__}"
    )
