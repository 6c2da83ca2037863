"""chromadb's write log, the ``embeddings_queue`` table, and the changes in it that a
segment has not applied yet.

Every write is first a row of the queue (operation, record id, vector, and a JSON object of
the metadata with the document under ``chroma:document`` and the URI under
``chroma:uri``); each segment then applies the rows after its ``max_seq_id``. The metadata
segment applies them at once, the HNSW segment every ``sync_threshold`` rows, so the
newest vectors of a collection may exist only in the queue. Rows a segment has applied are
purged, but never those after the lowest ``max_seq_id`` of the collection's segments.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from azurite.errors import CorruptionError

ADD, UPDATE, UPSERT, DELETE = 0, 1, 2, 3
_OPERATIONS = {ADD, UPDATE, UPSERT, DELETE}
DOCUMENT_KEY = "chroma:document"
URI_KEY = "chroma:uri"
_SCALARS = (str, int, float, bool)


@dataclass(frozen=True)
class LogEntry:
    seq: int
    operation: int
    record_id: str
    vector: npt.NDArray[np.float32] | None
    # The JSON metadata as written: ``None`` values delete a key in an update.
    metadata: dict[str, Any] | None


def _decode_metadata(seq: int, text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError as error:
        raise CorruptionError(f"log entry {seq} has unreadable metadata: {error}") from None
    if not isinstance(value, dict):
        raise CorruptionError(f"log entry {seq} has metadata that is not an object")
    for key, item in value.items():
        if key in (DOCUMENT_KEY, URI_KEY):
            valid = item is None or isinstance(item, str)
        else:
            valid = (
                item is None
                or isinstance(item, _SCALARS)
                or (
                    isinstance(item, list)
                    and len(item) > 0
                    and all(isinstance(v, _SCALARS) for v in item)
                )
            )
        if not valid:
            raise CorruptionError(
                f"log entry {seq} has metadata {key!r} of a type chromadb's local segments "
                f"do not store: {item!r}"
            )
    return value


def entries_after(
    connection: sqlite3.Connection, collection_id: str, seq: int, dimension: int | None
) -> Iterator[LogEntry]:
    """The log entries of a collection after ``seq``, in order."""
    rows = connection.execute(
        "SELECT seq_id, operation, id, vector, encoding, metadata FROM embeddings_queue "
        "WHERE topic LIKE ? AND seq_id > ? ORDER BY seq_id",
        (f"persistent://%/{collection_id}", seq),
    )
    for seq_id, operation, record_id, blob, encoding, metadata in rows:
        if operation not in _OPERATIONS:
            raise CorruptionError(
                f"log entry {seq_id} has operation {operation!r}, which chromadb's local "
                "segments do not write"
            )
        vector = None
        if blob is not None:
            if encoding != "FLOAT32" or dimension is None or len(blob) != 4 * dimension:
                raise CorruptionError(
                    f"log entry {seq_id} holds a vector of {len(blob)} bytes encoded as "
                    f"{encoding!r}; the collection's vectors are {dimension} float32 values"
                )
            vector = np.frombuffer(blob, dtype="<f4").astype(np.float32)
        yield LogEntry(seq_id, operation, record_id, vector, _decode_metadata(seq_id, metadata))


def merge_metadata(
    current: dict[str, Any] | None, change: dict[str, Any] | None
) -> dict[str, Any] | None:
    """chromadb's update of a record's metadata (document and URI keys included): keys are
    set one by one, ``None`` deletes a key."""
    if change is None:
        return current
    merged = dict(current or {})
    for key, value in change.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


class VectorChanges:
    """The vectors of the log entries an HNSW segment has not applied, replayed with its
    rules over the ids it holds: an add of a present id and an update of a missing one are
    skipped, an upsert adds or replaces, a delete removes."""

    def __init__(self, present_in_segment: Any) -> None:
        self._present_in_segment = present_in_segment
        # id -> newest vector, or None once deleted.
        self.changed: dict[str, npt.NDArray[np.float32] | None] = {}

    def _present(self, record_id: str) -> bool:
        if record_id in self.changed:
            return self.changed[record_id] is not None
        return bool(self._present_in_segment(record_id))

    def apply(self, entry: LogEntry) -> None:
        present = self._present(entry.record_id)
        if entry.operation == DELETE:
            if present:
                self.changed[entry.record_id] = None
            return
        if entry.operation == UPDATE and not present:
            return
        if entry.operation == ADD and present:
            return
        if entry.vector is not None:
            self.changed[entry.record_id] = entry.vector
        elif not present:
            raise CorruptionError(
                f"log entry {entry.seq} adds record {entry.record_id!r} without a vector"
            )


@dataclass
class RecordState:
    """A record as the log leaves it: metadata with the document and URI keys in it."""

    metadata: dict[str, Any] | None
    # True when the record is new to the metadata segment's rows (added after them, or
    # deleted and added again): chromadb then lists it after them.
    appended: bool
    order: int


class RecordChanges:
    """The log entries the metadata segment has not applied, replayed with its rules over
    the records it holds (``base`` reads one of them: present, and its metadata)."""

    def __init__(self, base: Any) -> None:
        self._base = base
        # id -> state, or None once deleted.
        self.changed: dict[str, RecordState | None] = {}

    def _current(self, record_id: str) -> RecordState | None:
        if record_id in self.changed:
            return self.changed[record_id]
        found, metadata = self._base(record_id)
        return RecordState(metadata, appended=False, order=0) if found else None

    def apply(self, entry: LogEntry) -> None:
        current = self._current(entry.record_id)
        if entry.operation == DELETE:
            if current is not None:
                self.changed[entry.record_id] = None
            return
        if current is None:
            if entry.operation == UPDATE:
                return
            metadata = merge_metadata(None, entry.metadata)
            self.changed[entry.record_id] = RecordState(metadata, appended=True, order=entry.seq)
            return
        if entry.operation == ADD:
            return
        current.metadata = merge_metadata(current.metadata, entry.metadata)
        self.changed[entry.record_id] = current
