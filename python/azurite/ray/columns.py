"""How the columns of a Ray dataset become the records of a collection: one home for the
rules both targets of :func:`azurite.ray.write_collection` follow (a directory's staged
files and a server's requests)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from azurite.errors import InvalidArgumentError
from azurite.io.layout import DOCUMENT, EMBEDDING, ID, METADATA, URI
from azurite.io.records import check_schema

MODES = ("add", "upsert")


def _whole_column(block: pa.Table, name: str) -> pa.Array:
    column = block.column(name)
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def _embedding_column(array: pa.Array, name: str) -> pa.Array:
    """``array`` as lists of floats: list and fixed-size list columns as they are, a Ray
    tensor column (what a numpy ndarray column of a Ray dataset becomes) as the
    fixed-size list of its rows."""
    if not isinstance(array.type, pa.BaseExtensionType):
        return array
    rows = array.to_numpy(zero_copy_only=False)
    if rows.dtype == object:
        # A column of variable-shaped tensors: one vector per row, each its own array.
        rows = np.stack(list(rows)) if len(rows) else np.zeros((0, 0), dtype=np.float32)
    if rows.ndim != 2 or not np.issubdtype(rows.dtype, np.floating):
        raise InvalidArgumentError(
            f"the {name!r} column must hold one vector of floats per row, got tensors of "
            f"shape {rows.shape[1:]} and type {rows.dtype}"
        )
    values = pa.array(np.ascontiguousarray(rows, dtype=np.float32).reshape(-1))
    return pa.FixedSizeListArray.from_arrays(values, rows.shape[1])


class Columns:
    """Which of a dataset's columns hold a record's id, document, URI, vector and
    metadata values."""

    def __init__(
        self,
        id_column: str,
        embedding_column: str | None,
        document_column: str | None,
        uri_column: str | None,
        metadata_columns: Sequence[str] | None,
    ) -> None:
        if isinstance(metadata_columns, str):
            raise TypeError("metadata_columns must be a list of column names, not a string")
        self.sources = {
            ID: id_column,
            EMBEDDING: embedding_column,
            DOCUMENT: document_column,
            URI: uri_column,
        }
        self.metadata = list(metadata_columns or ())

    def record_table(self, block: pa.Table, description: str) -> pa.Table:
        """The records of ``block`` in the import layout, refused (naming ``description``)
        when a column is missing or of a type the records cannot hold."""
        wanted = [name for name in self.sources.values() if name is not None] + self.metadata
        missing = [name for name in wanted if name not in block.column_names]
        if missing:
            raise InvalidArgumentError(
                f"{description}: no column {missing[0]!r} (the columns are {block.column_names})"
            )
        names, arrays = [], []
        for column, source in self.sources.items():
            if source is None:
                continue
            array = _whole_column(block, source)
            names.append(column)
            arrays.append(_embedding_column(array, source) if column == EMBEDDING else array)
        if self.metadata:
            keys = [_whole_column(block, name) for name in self.metadata]
            names.append(METADATA)
            arrays.append(pa.StructArray.from_arrays(keys, names=self.metadata))
        table = pa.Table.from_arrays(arrays, names=names)
        check_schema(table.schema, description)
        return table


def checked_columns(
    mode: str,
    id_column: str,
    embedding_column: str | None,
    document_column: str | None,
    uri_column: str | None,
    metadata_columns: Sequence[str] | None,
) -> Columns:
    """The columns of a write in ``mode``, refused when no column gives a vector."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if embedding_column is None and document_column is None:
        raise ValueError(
            "write_collection needs an embedding_column, or a document_column to embed"
        )
    return Columns(id_column, embedding_column, document_column, uri_column, metadata_columns)
