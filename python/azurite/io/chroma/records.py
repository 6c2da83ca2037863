"""One collection of a chromadb directory: its records as chromadb's ``get`` shows them,
read in batches from the metadata segment's tables, the HNSW segment's files and the log
entries neither has applied yet."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from azurite.errors import CorruptionError
from azurite.io.chroma.hnsw import HnswVectors, as_hnswlib_returns
from azurite.io.chroma.log import (
    DOCUMENT_KEY,
    URI_KEY,
    RecordChanges,
    RecordState,
    VectorChanges,
    entries_after,
)

Metadata = dict[str, Any]


@dataclass
class RecordBatch:
    """Records in chromadb's ``get`` order, with every column."""

    ids: list[str] = field(default_factory=list)
    embeddings: npt.NDArray[np.float32] = field(
        default_factory=lambda: np.zeros((0, 0), dtype=np.float32)
    )
    documents: list[str | None] = field(default_factory=list)
    metadatas: list[Metadata | None] = field(default_factory=list)
    uris: list[str | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)


def _stored_value(key: str, value: Any, boolean: Any) -> Any:
    """A metadata value as chromadb stores it: one of its typed columns, or a bool."""
    if value is not None:
        return value
    if boolean is None:
        raise CorruptionError(f"metadata key {key!r} of a record has no value")
    return bool(boolean)


def _split(metadata: Metadata | None) -> tuple[str | None, str | None, Metadata | None]:
    """The document and URI chromadb keeps among a record's metadata, and the rest."""
    if not metadata:
        return None, None, None
    rest = dict(metadata)
    document = rest.pop(DOCUMENT_KEY, None)
    uri = rest.pop(URI_KEY, None)
    if not rest and uri is None:
        return document, uri, None
    # chromadb's get drops the document key, then shows the map ({} with a URI alone).
    return document, uri, rest


class CollectionRecords:
    """The records of one collection. Building it reads the log entries its segments have
    not applied; ``check`` proves every record has its vector before anything is written."""

    def __init__(
        self,
        connection: sqlite3.Connection,
        collection_id: str,
        metadata_segment: str,
        dimension: int | None,
        cosine: bool,
        hnsw: HnswVectors | None,
        metadata_seq: int,
        vector_seq: int,
        has_array_metadata: bool,
    ) -> None:
        self._connection = connection
        self._has_array_metadata = has_array_metadata
        self._segment = metadata_segment
        self._dimension = dimension
        self._cosine = cosine
        self._hnsw = hnsw
        self._in_base: dict[str, bool] = {}
        self.records = RecordChanges(self._base_record)
        for entry in entries_after(connection, collection_id, metadata_seq, dimension):
            self.records.apply(entry)
        self.vectors = VectorChanges(lambda record_id: hnsw is not None and record_id in hnsw)
        for entry in entries_after(connection, collection_id, vector_seq, dimension):
            self.vectors.apply(entry)
        (base_count,) = connection.execute(
            "SELECT count(*) FROM embeddings WHERE segment_id = ?", (metadata_segment,)
        ).fetchone()
        self.count = int(base_count)
        for record_id, state in self.records.changed.items():
            self.count += (state is not None) - self._in_base[record_id]

    def _base_record(self, record_id: str) -> tuple[bool, Metadata | None]:
        row = self._connection.execute(
            "SELECT id FROM embeddings WHERE segment_id = ? AND embedding_id = ?",
            (self._segment, record_id),
        ).fetchone()
        self._in_base[record_id] = row is not None
        if row is None:
            return False, None
        return True, self._metadata_of({row[0]: record_id}).get(row[0])

    def _metadata_of(self, rows: dict[int, str]) -> dict[int, Metadata]:
        """The stored metadata (document and URI keys included) of these rows."""
        if not rows:
            return {}
        found: dict[int, Metadata] = {row: {} for row in rows}
        # chromadb reads the first column set among string, int, float, bool; a bool is an
        # int column, so it comes apart.
        bounds = (min(rows), max(rows))
        for row, key, value, boolean in self._connection.execute(
            "SELECT id, key, coalesce(string_value, int_value, float_value), bool_value "
            "FROM embedding_metadata WHERE id BETWEEN ? AND ?",
            bounds,
        ):
            metadata = found.get(row)
            if metadata is not None:
                metadata[key] = _stored_value(key, value, boolean)
        arrays = (
            self._connection.execute(
                "SELECT id, key, coalesce(string_value, int_value, float_value), bool_value "
                "FROM embedding_metadata_array WHERE id BETWEEN ? AND ? ORDER BY id, key, rowid",
                bounds,
            )
            if self._has_array_metadata
            else ()
        )
        for row, key, value, boolean in arrays:
            metadata = found.get(row)
            if metadata is not None:
                value = _stored_value(key, value, boolean)
                elements = metadata.get(key)
                if isinstance(elements, list):
                    elements.append(value)
                else:
                    metadata[key] = [value]
        return found

    def _base_rows(self, batch_size: int) -> Iterator[list[tuple[int, str]]]:
        last = -1
        while True:
            rows = self._connection.execute(
                # "+": walk the table in row order rather than sort the segment's index.
                "SELECT id, embedding_id FROM embeddings WHERE +segment_id = ? AND id > ? "
                "ORDER BY id LIMIT ?",
                (self._segment, last, batch_size),
            ).fetchall()
            if not rows:
                return
            yield rows
            last = rows[-1][0]

    def _has_vector(self, record_id: str) -> bool:
        if record_id in self.vectors.changed:
            return self.vectors.changed[record_id] is not None
        return self._hnsw is not None and record_id in self._hnsw

    def check(self, batch_size: int = 10_000) -> None:
        """Raises ``CorruptionError`` unless every record has its vector."""
        for rows in self._base_rows(batch_size):
            for _, record_id in rows:
                if record_id in self.records.changed:
                    continue
                if not self._has_vector(record_id):
                    raise self._missing_vector(record_id)
        for record_id, state in self.records.changed.items():
            if state is not None and not self._has_vector(record_id):
                raise self._missing_vector(record_id)

    def _missing_vector(self, record_id: str) -> CorruptionError:
        return CorruptionError(
            f"record {record_id!r} is in the metadata segment but its vector is in neither "
            "the HNSW segment's files nor the log"
        )

    def _vectors(self, record_ids: list[str]) -> npt.NDArray[np.float32]:
        dimension = self._dimension or 0
        vectors = np.empty((len(record_ids), dimension), dtype=np.float32)
        from_files: list[int] = []
        from_log: list[int] = []
        for position, record_id in enumerate(record_ids):
            if record_id in self.vectors.changed:
                from_log.append(position)
            elif self._hnsw is not None and record_id in self._hnsw:
                from_files.append(position)
            else:
                raise self._missing_vector(record_id)
        if from_files:
            assert self._hnsw is not None
            vectors[from_files] = self._hnsw.vectors([record_ids[p] for p in from_files])
        if from_log:
            logged = []
            for position in from_log:
                vector = self.vectors.changed[record_ids[position]]
                if vector is None:
                    raise self._missing_vector(record_ids[position])
                logged.append(vector)
            stacked = np.stack(logged)
            vectors[from_log] = as_hnswlib_returns(stacked) if self._cosine else stacked
        return vectors

    def _batch(self, records: list[tuple[str, Metadata | None]]) -> RecordBatch:
        batch = RecordBatch()
        for record_id, metadata in records:
            document, uri, rest = _split(metadata)
            batch.ids.append(record_id)
            batch.documents.append(document)
            batch.uris.append(uri)
            batch.metadatas.append(rest)
        batch.embeddings = self._vectors(batch.ids)
        return batch

    def batches(self, batch_size: int) -> Iterator[RecordBatch]:
        """Every record, ``batch_size`` at a time, in chromadb's ``get`` order: the metadata
        segment's rows, then the records the log adds to them."""
        changed = self.records.changed
        for rows in self._base_rows(batch_size):
            stored = self._metadata_of(
                {row: record_id for row, record_id in rows if record_id not in changed}
            )
            records: list[tuple[str, Metadata | None]] = []
            for row, record_id in rows:
                if record_id not in changed:
                    records.append((record_id, stored.get(row)))
                    continue
                state = changed[record_id]
                if state is not None and not state.appended:
                    records.append((record_id, state.metadata))
            if records:
                yield self._batch(records)
        appended = sorted(
            (
                (state.order, record_id, state)
                for record_id, state in changed.items()
                if state is not None and state.appended
            ),
            key=lambda item: item[0],
        )
        for start in range(0, len(appended), batch_size):
            chunk: list[tuple[int, str, RecordState]] = appended[start : start + batch_size]
            yield self._batch([(record_id, state.metadata) for _, record_id, state in chunk])
