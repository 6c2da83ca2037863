"""A Ray dataset into a collection of a local database directory, all or nothing.

Each write task turns its blocks into record tables (:func:`record_table`) and writes
each as a Parquet file into a staging folder beside the database directory, under a
temporary name renamed once the file is whole, and returns the names of its files. The
driver, once every task succeeded, loads exactly those files as one import
(:func:`azurite.io.importing.import_sources`), so that a retried task's abandoned
attempt is never read, and removes the folder; when the job fails the folder is removed
and nothing is published. The write tasks run on the driver's node only: the staging
folder is on its disk.

A driver that dies (killed, or its machine) cannot remove its folder. So each driver
holds an exclusive lock on a file in its folder for as long as the job runs (the folder
is made under another name and renamed once locked, so that no folder of the staging
name is ever unlocked while its job lives), and a job starting beside the same directory
removes the folders whose lock it can take: their drivers are gone.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from ray.data import Dataset
from ray.data._internal.execution.interfaces import TaskContext
from ray.data.block import Block, BlockAccessor
from ray.data.datasource import Datasink, WriteResult

from azurite.api import embedding
from azurite.api.client import DEFAULT_DATABASE, DEFAULT_TENANT, PersistentClient
from azurite.config import Settings
from azurite.io.exporting import DEFAULT_BATCH_SIZE
from azurite.io.importing import import_sources
from azurite.ray.columns import checked_columns
from azurite.ray.serving import ServerCollectionDatasink, is_server_url

try:
    import fcntl
except ImportError:  # Windows: staging folders of dead drivers are left for the user
    fcntl = None  # type: ignore[assignment]

#: The file of a staging folder its driver holds locked while the job runs.
STAGING_LOCK = ".driver.lock"
#: Open descriptors of the staging locks this process holds, by folder: a sink is
#: pickled to its write tasks, and a descriptor must not travel with it.
_held_locks: dict[Path, int] = {}


def _staging_prefix(directory: Path) -> str:
    return f".{directory.name}.ray-"


def remove_abandoned_staging(directory: Path) -> list[Path]:
    """Removes the staging folders beside ``directory`` whose driver no longer holds
    their lock, and returns them."""
    removed: list[Path] = []
    if fcntl is None or not directory.parent.is_dir():
        return removed
    for folder in directory.parent.glob(_staging_prefix(directory) + "*"):
        if folder in _held_locks:
            continue
        try:
            descriptor = os.open(folder / STAGING_LOCK, os.O_RDWR)
        except OSError:
            continue
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # a running job's
        else:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        finally:
            os.close(descriptor)
    return removed


def _make_locked_staging(folder: Path) -> None:
    """Makes ``folder`` with its lock held by this process: made under a name no sweep
    reads, locked, then renamed."""
    unlocked = folder.with_name(folder.name.replace(".ray-", ".ray~", 1))
    unlocked.mkdir(parents=True)
    descriptor = os.open(unlocked / STAGING_LOCK, os.O_CREAT | os.O_RDWR, 0o644)
    if fcntl is not None:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
    os.rename(unlocked, folder)
    _held_locks[folder] = descriptor


class CollectionDatasink(Datasink[list[str]]):
    """The Ray ``Datasink`` of :func:`write_collection` (for
    ``dataset.write_datasink(sink)``): its write tasks stage Parquet files, its
    completion imports them into the collection as one import."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        collection: str,
        mode: str = "add",
        id_column: str = "id",
        embedding_column: str | None = None,
        document_column: str | None = None,
        uri_column: str | None = None,
        metadata_columns: Sequence[str] | None = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
        settings: Settings | None = None,
        embedding_function: Any = embedding.DEFAULT_EMBEDDING_FUNCTION,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        self._columns = checked_columns(
            mode, id_column, embedding_column, document_column, uri_column, metadata_columns
        )
        self._path = Path(path).absolute()
        self._collection = collection
        self._mode = mode
        self._tenant, self._database = tenant, database
        self._settings = settings
        self._embedding_function = embedding_function
        self._batch_size = batch_size
        # Beside the directory, not in it: the database owns what its directory holds.
        self.staging = self._path.parent / f"{_staging_prefix(self._path)}{uuid.uuid4().hex}"

    @property
    def supports_distributed_writes(self) -> bool:
        return False

    def on_write_start(self, schema: pa.Schema | None = None) -> None:
        remove_abandoned_staging(self._path)
        _make_locked_staging(self.staging)

    def write(self, blocks: Iterable[Block], ctx: TaskContext) -> list[str]:
        written = []
        for number, block in enumerate(blocks):
            table = BlockAccessor.for_block(block).to_arrow()
            if not table.num_rows:
                continue
            name = f"{ctx.task_idx:06d}-{number:06d}-{uuid.uuid4().hex}.parquet"
            records = self._columns.record_table(
                table, f"block {number} of write task {ctx.task_idx}"
            )
            partial = self.staging / f"{name}.partial"
            pq.write_table(records, partial)
            os.replace(partial, self.staging / name)
            written.append(name)
        return written

    def on_write_complete(self, write_result: WriteResult[list[str]]) -> None:
        try:
            files = [self.staging / name for names in write_result.write_returns for name in names]
            with PersistentClient(
                self._path, self._settings, self._tenant, self._database
            ) as client:
                import_sources(
                    client,
                    files,
                    self._collection,
                    mode=self._mode,
                    format="parquet",
                    batch_size=self._batch_size,
                    embedding_function=self._embedding_function,
                )
        finally:
            self.remove_staging()

    def on_write_failed(self, error: Exception) -> None:
        self.remove_staging()

    def remove_staging(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)
        descriptor = _held_locks.pop(self.staging, None)
        if descriptor is not None:
            os.close(descriptor)


def write_collection(
    ds: Dataset,
    path: str | os.PathLike[str],
    collection: str,
    mode: str = "add",
    id_column: str = "id",
    embedding_column: str | None = None,
    document_column: str | None = None,
    uri_column: str | None = None,
    metadata_columns: Sequence[str] | None = None,
    tenant: str = DEFAULT_TENANT,
    database: str = DEFAULT_DATABASE,
    settings: Settings | None = None,
    embedding_function: Any = embedding.DEFAULT_EMBEDDING_FUNCTION,
    batch_size: int = DEFAULT_BATCH_SIZE,
    concurrency: int | None = None,
    ray_remote_args: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    """Writes the rows of ``ds`` into the collection ``collection`` of the database
    directory ``path`` (created when missing), as one import: the collection shows all
    of them once this returns, and none when the job fails (a new collection stays
    absent, an existing one unchanged). ``mode="add"`` skips the ids the collection
    holds already, ``"upsert"`` updates them, so that running a job again converges to
    the same collection.

    ``path`` may instead be the URL of a server (``"http://host:port"``, sent
    ``headers`` and the client ``settings``, for credentials): the write tasks then run on
    any node and send the rows in requests of ``batch_size`` records, each applied whole
    by the server as it arrives, so that a failed job leaves the requests sent before it
    failed (:mod:`azurite.ray.serving`); with ``mode="upsert"`` rerunning it converges.

    A row's id is in ``id_column`` (strings), its vector in ``embedding_column`` (lists,
    fixed-size lists or numpy arrays of floats), its document and URI in
    ``document_column`` and ``uri_column``, and each of ``metadata_columns`` is a metadata
    key (strings, integers, floats, booleans or lists of them; a null is a key the row
    lacks). Rows without a vector are embedded from their documents by
    ``embedding_function``, when the driver imports them (a directory) or in the write
    task (a server). ``concurrency`` and ``ray_remote_args`` are those of the write
    tasks (``Dataset.write_datasink``): give them ``{"num_cpus": 0}`` when actors upstream,
    such as :func:`~azurite.ray.embed_documents`'s, hold every CPU of the cluster."""
    if is_server_url(path):
        assert isinstance(path, str)
        server_sink = ServerCollectionDatasink(
            path,
            collection,
            mode=mode,
            id_column=id_column,
            embedding_column=embedding_column,
            document_column=document_column,
            uri_column=uri_column,
            metadata_columns=metadata_columns,
            tenant=tenant,
            database=database,
            headers=headers,
            settings=settings,
            embedding_function=embedding_function,
            batch_size=batch_size,
        )
        ds.write_datasink(server_sink, ray_remote_args=ray_remote_args, concurrency=concurrency)
        return
    if headers is not None:
        raise ValueError("headers are sent to a server: the target is a directory")
    sink = CollectionDatasink(
        path,
        collection,
        mode=mode,
        id_column=id_column,
        embedding_column=embedding_column,
        document_column=document_column,
        uri_column=uri_column,
        metadata_columns=metadata_columns,
        tenant=tenant,
        database=database,
        settings=settings,
        embedding_function=embedding_function,
        batch_size=batch_size,
    )
    try:
        ds.write_datasink(sink, ray_remote_args=ray_remote_args, concurrency=concurrency)
    finally:
        # Ray calls on_write_failed for an Exception only; an interrupt leaves the
        # folder too.
        sink.remove_staging()
