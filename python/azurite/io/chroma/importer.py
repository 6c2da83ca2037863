"""Bringing every collection of a chromadb directory into an Azurite database, all or
nothing, and checking afterwards that both sides hold the same records."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from azurite.api.engine import CollectionModel, Engine
from azurite.errors import AlreadyExistsError, ChromaError, NotFoundError
from azurite.io.chroma.directory import ChromaCollection, ChromaDirectory
from azurite.io.chroma.records import RecordBatch

# Large batches let the index build of each write use the collection's worker threads.
DEFAULT_BATCH_SIZE = 10_000
DEFAULT_SAMPLE_SIZE = 100

# Called with (collection, records written so far) after each batch.
Progress = Callable[[ChromaCollection, int], None]


@dataclass
class CollectionReport:
    """One collection's import: records on each side and what the check found."""

    tenant: str
    database: str
    name: str
    source_count: int
    imported_count: int = 0
    sampled: int = 0
    mismatches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches and self.source_count == self.imported_count


@dataclass
class ImportReport:
    """What an import brought over, collection by collection."""

    collections: list[CollectionReport]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.collections)


def _typed(value: Any) -> Any:
    """A value with its type made part of it, so that 1, 1.0 and True differ."""
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return (type(value).__name__, value)


def _target_configuration(collection: ChromaCollection) -> str | None:
    """The configuration to create the collection with, beside its schema. The schema
    carries everything; chromadb's rule reads an embedding function of the default kind
    in a schema as "none asked for", so that one is given in the configuration too."""
    if not collection.schema_json:
        return collection.configuration_json
    schema = json.loads(collection.schema_json)
    index = schema.get("keys", {}).get("#embedding", {}).get("float_list", {})
    function = index.get("vector_index", {}).get("config", {}).get("embedding_function")
    if isinstance(function, dict) and (
        function.get("type") == "unknown"
        or (function.get("type") == "known" and function.get("name") == "default")
    ):
        return json.dumps({"embedding_function": function})
    return None


def _ensure_database(engine: Engine, tenant: str, database: str) -> bool:
    """Creates the tenant and database if the target lacks them; True if it created the
    database."""
    try:
        engine.get_tenant(tenant)
    except NotFoundError:
        engine.create_tenant(tenant)
    try:
        engine.get_database(database, tenant)
    except NotFoundError:
        engine.create_database(database, tenant)
        return True
    return False


def _refuse_existing(engine: Engine, source: ChromaDirectory) -> None:
    for collection in source.collections:
        try:
            engine.get_collection(collection.tenant, collection.database, collection.name)
        except NotFoundError:
            continue
        raise AlreadyExistsError(
            f"Collection {collection.name} already exists in tenant {collection.tenant}, "
            f"database {collection.database} of the target; nothing was imported. Import "
            "into another directory, or delete that collection first."
        )


def _sample_positions(count: int, size: int, seed: str) -> set[int]:
    if count <= size:
        return set(range(count))
    positions = set(random.Random(seed).sample(range(count), size))
    # The first and last records are where an off-by-one would show.
    return positions | {0, count - 1}


@dataclass
class _Sample:
    ids: list[str] = field(default_factory=list)
    expected: dict[str, tuple[bytes, Any, Any, Any]] = field(default_factory=dict)

    def keep(self, batch: RecordBatch, start: int, positions: set[int]) -> None:
        for offset, record_id in enumerate(batch.ids):
            if start + offset in positions:
                self.ids.append(record_id)
                self.expected[record_id] = (
                    batch.embeddings[offset].tobytes(),
                    batch.documents[offset],
                    _typed(batch.metadatas[offset]),
                    batch.uris[offset],
                )


def _write(
    engine: Engine,
    source: ChromaDirectory,
    collection: ChromaCollection,
    staging_id: str,
    batch_size: int,
    progress: Progress | None,
) -> None:
    written = 0
    for batch in source.records(collection).batches(batch_size):
        engine.add(
            staging_id,
            batch.ids,
            embeddings=batch.embeddings,
            metadatas=batch.metadatas,
            documents=batch.documents,
            uris=batch.uris,
        )
        written += len(batch)
        if progress is not None:
            progress(collection, written)


def _sample(
    source: ChromaDirectory, collection: ChromaCollection, size: int, batch_size: int
) -> _Sample:
    """``size`` records of the collection read again from the source, at positions drawn
    from its id (the same each time)."""
    records = source.records(collection)
    positions = _sample_positions(records.count, size, collection.id)
    sample = _Sample()
    start = 0
    for batch in records.batches(batch_size):
        sample.keep(batch, start, positions)
        start += len(batch)
    return sample


def _verify(
    engine: Engine, model: CollectionModel, report: CollectionReport, sample: _Sample
) -> None:
    report.imported_count = engine.count(model["id"])
    if report.imported_count != report.source_count:
        report.mismatches.append(
            f"{report.imported_count} records imported, the source has {report.source_count}"
        )
    if not sample.ids:
        return
    got = engine.get(
        model["id"],
        ids=sample.ids,
        include=["embeddings", "documents", "metadatas", "uris"],
    )
    report.sampled = len(sample.ids)
    found = dict(zip(got["ids"], range(len(got["ids"]))))
    embeddings = np.asarray(got["embeddings"], dtype=np.float32)
    for record_id in sample.ids:
        if record_id not in found:
            report.mismatches.append(f"record {record_id!r} is missing")
            continue
        at = found[record_id]
        vector, document, metadata, uri = sample.expected[record_id]
        documents, metadatas, uris = got["documents"], got["metadatas"], got["uris"]
        for what, same in (
            ("embedding", embeddings[at].tobytes() == vector),
            ("document", documents is not None and documents[at] == document),
            ("metadata", metadatas is not None and _typed(metadatas[at]) == metadata),
            ("uri", uris is not None and uris[at] == uri),
        ):
            if not same:
                report.mismatches.append(f"record {record_id!r}: its {what} differs")


def _compare(
    source: ChromaDirectory, engine: Engine, sample_size: int, batch_size: int
) -> ImportReport:
    reports = []
    for collection in source.collections:
        report = CollectionReport(
            collection.tenant,
            collection.database,
            collection.name,
            source.records(collection).count,
        )
        try:
            model = engine.get_collection(collection.tenant, collection.database, collection.name)
        except NotFoundError:
            report.mismatches.append("the collection is not in the target")
        else:
            _verify(engine, model, report, _sample(source, collection, sample_size, batch_size))
        reports.append(report)
    return ImportReport(reports)


@contextmanager
def _target_engine(target: Any) -> Iterator[Engine]:
    """The engine of a client, or of a database directory opened for the import."""
    if isinstance(target, (str, os.PathLike)):
        from azurite import _core

        database = _core.Database(target)
        try:
            yield database
        finally:
            database.close()
    else:
        yield target._engine


def import_chroma(
    chroma_dir: str | os.PathLike[str],
    client_or_path: Any,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    sample_size: int = DEFAULT_SAMPLE_SIZE,
    progress: Progress | None = None,
    on_collection: Callable[[ChromaCollection, int], None] | None = None,
) -> ImportReport:
    """Imports every tenant, database and collection of the chromadb directory
    ``chroma_dir`` into Azurite (a client, or the path of a database directory), with
    their vectors, documents, metadata, URIs, configuration and schema; nothing is
    embedded again and ``chroma_dir`` is not modified.

    The directory is checked first (a layout other than those of chromadb 1.0 to 1.5, or
    any damage, is refused before anything is written); a collection name the target already has is an
    ``AlreadyExistsError``. Collections are filled as staged imports, invisible until all
    are published in one step, so a failure or a kill leaves the target's collections as
    they were. Afterwards ``verify_import`` compares counts and ``sample_size`` records
    per collection; the report says what differed.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    with ChromaDirectory(chroma_dir) as source, _target_engine(client_or_path) as engine:
        _refuse_existing(engine, source)
        created: list[tuple[str, str]] = []
        staged: list[str] = []
        try:
            for tenant, database in source.databases():
                if _ensure_database(engine, tenant, database):
                    created.append((tenant, database))
            for collection in source.collections:
                if on_collection is not None:
                    on_collection(collection, source.records(collection).count)
                model = engine.stage_import(
                    collection.tenant,
                    collection.database,
                    collection.name,
                    configuration_json=_target_configuration(collection),
                    metadata=collection.metadata,
                    schema_json=collection.schema_json,
                )
                staged.append(model["id"])
                _write(engine, source, collection, model["id"], batch_size, progress)
            engine.publish_imports(staged)
        except BaseException:
            for staging_id in staged:
                # The first error is the one to report; a staged import left behind is
                # removed by the next open of the target anyway.
                with suppress(ChromaError):
                    engine.abandon_import(staging_id)
            for tenant, database in created:
                with suppress(ChromaError):
                    engine.delete_database(database, tenant)
            raise
        return _compare(source, engine, sample_size, batch_size)


def verify_import(
    chroma_dir: str | os.PathLike[str],
    client_or_path: Any,
    *,
    sample_size: int = DEFAULT_SAMPLE_SIZE,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> ImportReport:
    """Compares an Azurite database with the chromadb directory it was imported from:
    per collection, the count and ``sample_size`` records (ids, vector bits, documents,
    metadata with their types, URIs), read again from both. ``import_chroma`` ends with
    it; on its own it checks an import made earlier (the target may have changed since)."""
    with ChromaDirectory(chroma_dir) as source, _target_engine(client_or_path) as engine:
        return _compare(source, engine, sample_size, batch_size)
