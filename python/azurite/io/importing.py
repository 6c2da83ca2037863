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
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any, Protocol

import numpy as np

from azurite.api import embedding
from azurite.api.collection import AsyncCollection, Collection
from azurite.api.collection_core import CollectionCore, WriteCall
from azurite.api.engine import AsyncEngine, CollectionModel, Engine
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


def _dimension_error(expected: int, got: int) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"Collection expecting embedding with dimension of {expected}, got {got}"
    )


def _embed_missing(records: Records, staged: CollectionCore, description: str) -> None:
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


class _Import:
    """One import of opened sources into the collection ``name``, as far as it is
    decided without the engine: the checks of its arguments, what to stage once the
    target is known, and the write of each batch. The sync and async loaders do only
    the engine calls. Several sources are one import: staged together, published once."""

    def __init__(
        self,
        sources: Sequence[Source],
        tenant: str,
        database: str,
        name: str,
        mode: str,
        batch_size: int,
        progress: Progress | None,
        embedding_function: Any,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
        self.sources = sources
        self.tenant, self.database, self.name = tenant, database, name
        self.adds = mode in ("create", "add")
        self._mode = mode
        self._batch_size = batch_size
        self._progress = progress
        self._embedding_function = embedding_function

    def staging(self, target: CollectionModel | None) -> dict[str, Any]:
        """The arguments of ``stage_import`` for an import into ``target`` (None when
        there is no collection of that name yet), once what the target refuses is
        refused."""
        if target is not None and self._mode == "create":
            raise AlreadyExistsError(f"Collection [{self.name}] already exists")
        dimension = None
        for source in self.sources:
            if dimension is not None and source.dimension not in (None, dimension):
                raise _dimension_error(dimension, source.dimension)
            dimension = dimension if dimension is not None else source.dimension
        expected = target["dimension"] if target is not None else None
        if expected is not None and dimension is not None and dimension != expected:
            raise _dimension_error(expected, dimension)
        header = next((s.header for s in self.sources if s.header is not None), None)
        arguments: dict[str, Any] = {
            "tenant": self.tenant,
            "database": self.database,
            "name": self.name,
        }
        if target is None and header is not None:
            # The schema alone: it holds the configuration (the vector index, the
            # embedding function) as well as every key's indexes, and chromadb refuses
            # both at once.
            has_schema = bool(json.loads(header.schema_json or "null"))
            arguments["configuration_json"] = None if has_schema else header.configuration_json
            arguments["metadata"] = header.metadata
            arguments["schema_json"] = header.schema_json if has_schema else None
        return arguments

    def writes(self, staged_model: CollectionModel) -> Iterator[WriteCall]:
        """The engine's arguments of each batch's write into the staging collection,
        vectors embedded where the source has none; progress is told of a batch when
        the next is asked for, that is once it is written."""
        staged = CollectionCore(staged_model, self._embedding_function)
        for source in self.sources:
            dimension = source.dimension
            for records in source.batches(self._batch_size):
                _embed_missing(records, staged, source.description)
                found = records.embeddings.shape[1] if records.embeddings is not None else None
                if found is not None and dimension is not None and found != dimension:
                    # A header whose dimension its vectors contradict: refused as a target
                    # of that dimension would refuse them.
                    raise _dimension_error(dimension, found)
                yield WriteCall(
                    staged_model["id"],
                    records.ids,
                    records.embeddings,
                    records.metadatas,
                    records.documents,
                    records.uris,
                )
                if self._progress is not None:
                    self._progress(len(records))


def _load(engine: Engine, plan: _Import) -> CollectionModel:
    try:
        target: CollectionModel | None = engine.get_collection(
            plan.tenant, plan.database, plan.name
        )
    except NotFoundError:
        target = None
    staged = engine.stage_import(**plan.staging(target))
    # Published after the last write, abandoned on any error, a KeyboardInterrupt too.
    try:
        write = engine.add if plan.adds else engine.upsert
        for call in plan.writes(staged):
            write(*call)
        return engine.publish_imports([staged["id"]])[0]
    except BaseException:
        engine.abandon_import(staged["id"])
        raise


async def _load_async(engine: AsyncEngine, plan: _Import) -> CollectionModel:
    """:func:`_load` awaiting an asynchronous engine: the staging collection is written
    and published over the network without blocking the event loop, and abandoned when
    the task is cancelled as on any error."""
    try:
        target: CollectionModel | None = await engine.get_collection(
            plan.tenant, plan.database, plan.name
        )
    except NotFoundError:
        target = None
    staged = await engine.stage_import(**plan.staging(target))
    try:
        write = engine.add if plan.adds else engine.upsert
        for call in plan.writes(staged):
            await write(*call)
        return (await engine.publish_imports([staged["id"]]))[0]
    except BaseException:
        await engine.abandon_import(staged["id"])
        raise


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
    with open_source(source, format) as opened:
        target = name if name is not None else (opened.header.name if opened.header else None)
        if target is None:
            raise InvalidArgumentError(
                f"{opened.description} names no collection (it has no azurite header): give "
                "the name to import it as"
            )
        return _import_opened(
            client, [opened], target, mode, batch_size, progress, embedding_function
        )


def import_sources(
    client: Client,
    sources: Sequence[Any],
    name: str,
    mode: str = "upsert",
    format: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    embedding_function: Any = embedding.DEFAULT_EMBEDDING_FUNCTION,
    progress: Progress | None = None,
) -> Collection:
    """Loads every one of ``sources`` (each as :func:`import_collection` reads it) into
    the collection ``name`` as one import: the collection shows all their records or, on
    any error, none of them. A new collection gets the configuration the first source
    with a header records. The parts of a dataset written by many processes are loaded
    so."""
    with ExitStack() as opened_sources:
        opened = [opened_sources.enter_context(open_source(s, format)) for s in sources]
        return _import_opened(client, opened, name, mode, batch_size, progress, embedding_function)


def _import_opened(
    client: Client,
    opened: list[Source],
    name: str,
    mode: str,
    batch_size: int,
    progress: Progress | None,
    embedding_function: Any,
) -> Collection:
    """The one import of the open sources ``opened`` into the collection ``name``."""
    plan = _Import(
        opened,
        client.tenant,
        client.database,
        name,
        mode,
        batch_size,
        progress,
        embedding_function,
    )
    return Collection(client, _load(client._engine, plan), embedding_function)


@contextmanager
def _import_into(
    collection: CollectionCore,
    source: Any,
    mode: str,
    format: str | None,
    batch_size: int,
    progress: Progress | None,
) -> Iterator[_Import]:
    """The import of ``source`` into the existing ``collection``, its source open for
    the block."""
    if mode == "create":
        raise ValueError("mode='create' makes a new collection: use import_collection")
    with open_source(source, format) as opened:
        yield _Import(
            [opened],
            collection.tenant,
            collection.database,
            collection.name,
            mode,
            batch_size,
            progress,
            collection._embedding_function,
        )


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
    with _import_into(collection, source, mode, format, batch_size, progress) as plan:
        collection._model = _load(collection._engine, plan)


async def import_into_async(
    collection: AsyncCollection,
    source: Any,
    mode: str = "upsert",
    format: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> None:
    """:func:`import_into` for an asynchronous client's collection. The source is read
    in the event loop's thread, a batch at a time."""
    with _import_into(collection, source, mode, format, batch_size, None) as plan:
        collection._model = await _load_async(collection._engine, plan)
