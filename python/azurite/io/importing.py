"""Import: a file or table loaded into a collection, all or nothing.

The records go into a *staging* collection (a copy of the target when it exists, else a
new collection with the header's configuration, metadata and schema), which no reader sees
until it is published in one step, replacing the target; any error abandons it, and a
crash leaves it invisible (the next open drops it). So a failed or killed import leaves
the target exactly as it was, and a new target absent.

Modes: ``"create"`` refuses an existing collection of that name (as ``create_collection``
does), ``"add"`` skips records whose id the target holds already (``add``'s rule), and
``"upsert"`` updates those records and adds the others, so that running the same import
again changes nothing. Records without a vector are embedded from their documents by the
collection's embedding function.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from azurite.api import embedding
from azurite.api.collection import Collection, EngineSource
from azurite.api.engine import CollectionModel, Engine
from azurite.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from azurite.io.exporting import DEFAULT_BATCH_SIZE
from azurite.io.records import Records
from azurite.io.sources import Source, open_source

MODES = ("create", "add", "upsert")
Progress = Callable[[int], None]


class Client(Protocol):
    """A synchronous client of one tenant and database (embedded or HTTP)."""

    tenant: str
    database: str

    @property
    def _engine(self) -> Engine: ...


def _existing(engine: Engine, tenant: str, database: str, name: str) -> CollectionModel | None:
    try:
        return engine.get_collection(tenant, database, name)
    except NotFoundError:
        return None


def _dimension_error(expected: int, got: int) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"Collection expecting embedding with dimension of {expected}, got {got}"
    )


def _embed_missing(records: Records, staged: Collection, description: str) -> None:
    """Gives every record without a vector the embedding of its document."""
    missing = records.missing_embeddings
    if records.embeddings is None:
        missing = np.ones(len(records), dtype=bool)
    if missing is None or not missing.any():
        return
    rows = np.flatnonzero(missing).tolist()
    documents = records.documents
    texts = [documents[row] if documents is not None else None for row in rows]
    for row, text in zip(rows, texts):
        if text is None:
            raise InvalidArgumentError(
                f"{description}: record {records.ids[row]!r} has neither an embedding nor a "
                "document to embed"
            )
    vectors = np.asarray(staged._embed(texts, is_query=False), dtype=np.float32)
    if records.embeddings is None or records.embeddings.shape[1] == 0:
        records.embeddings = np.zeros((len(records), vectors.shape[1]), dtype=np.float32)
    if vectors.shape[1] != records.embeddings.shape[1]:
        raise _dimension_error(records.embeddings.shape[1], vectors.shape[1])
    records.embeddings[rows] = vectors
    records.missing_embeddings = None


def _load(
    client: EngineSource,
    source: Source,
    tenant: str,
    database: str,
    name: str,
    mode: str,
    batch_size: int,
    progress: Progress | None,
    embedding_function: Any,
) -> CollectionModel:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
    engine = client._engine
    target = _existing(engine, tenant, database, name)
    if target is not None and mode == "create":
        raise AlreadyExistsError(f"Collection [{name}] already exists")
    dimension = source.dimension
    expected = target["dimension"] if target is not None else None
    if expected is not None and dimension is not None and dimension != expected:
        raise _dimension_error(expected, dimension)
    header = source.header
    if target is None and header is not None:
        # The schema alone: it holds the configuration (the vector index, the embedding
        # function) as well as every key's indexes, and chromadb refuses both at once.
        has_schema = bool(json.loads(header.schema_json or "null"))
        staged_model = engine.stage_import(
            tenant,
            database,
            name,
            configuration_json=None if has_schema else header.configuration_json,
            metadata=header.metadata,
            schema_json=header.schema_json if has_schema else None,
        )
    else:
        staged_model = engine.stage_import(tenant, database, name)
    staged_id = staged_model["id"]
    try:
        staged = Collection(client, staged_model, embedding_function)
        write = engine.add if mode in ("create", "add") else engine.upsert
        for records in source.batches(batch_size):
            _embed_missing(records, staged, source.description)
            found = records.embeddings.shape[1] if records.embeddings is not None else None
            if found is not None and dimension is not None and found != dimension:
                # A header whose dimension its vectors contradict: refused as a target of
                # that dimension would refuse them.
                raise _dimension_error(dimension, found)
            write(
                staged_id,
                records.ids,
                records.embeddings,
                records.metadatas,
                records.documents,
                records.uris,
            )
            if progress is not None:
                progress(len(records))
        (published,) = engine.publish_imports([staged_id])
    except BaseException:
        engine.abandon_import(staged_id)
        raise
    return published


def import_collection(
    client: Client,
    source: Any,
    name: str | None = None,
    mode: str = "create",
    format: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    embedding_function: Any = embedding.DEFAULT_EMBEDDING_FUNCTION,
    progress: Progress | None = None,
) -> Collection:
    """Loads ``source`` (a Parquet, Arrow IPC or JSONL file, with its format from the
    extension or ``format=``; a pyarrow Table, RecordBatch or RecordBatchReader; a pandas
    or polars DataFrame) into the collection ``name`` (by default the one the file was
    exported from) of the client's tenant and database, ``batch_size`` records at a time,
    atomically. A new collection gets the configuration, metadata and schema the file
    records. Returns the collection; calls ``progress`` with each batch's size."""
    tenant, database = client.tenant, client.database
    with open_source(source, format) as opened:
        target = name if name is not None else (opened.header.name if opened.header else None)
        if target is None:
            raise InvalidArgumentError(
                f"{opened.description} names no collection (it has no azurite header): give "
                "the name to import it as"
            )
        model = _load(
            client,
            opened,
            tenant,
            database,
            target,
            mode,
            batch_size,
            progress,
            embedding_function,
        )
    return Collection(client, model, embedding_function)


def import_into(
    collection: Collection,
    source: Any,
    mode: str = "upsert",
    format: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
) -> None:
    """Loads ``source`` (as :func:`import_collection` reads it) into ``collection``,
    atomically: ``mode="upsert"`` (the default) or ``"add"``. ``collection`` then shows
    the imported records."""
    if mode == "create":
        raise ValueError("mode='create' makes a new collection: use import_collection")
    with open_source(source, format) as opened:
        model = _load(
            collection._client,
            opened,
            collection.tenant,
            collection.database,
            collection.name,
            mode,
            batch_size,
            progress,
            collection._embedding_function,
        )
    collection._model = model
