"""A Ray dataset written into, and read from, a collection of an ``azurite run`` server.

The driver gets or creates the collection before any write task starts (so a server that
is down, or a collection the server refuses, fails the job at once). Each write task,
on any node, opens one HTTP client and sends its blocks as ``add`` or ``upsert``
requests of at most ``batch_size`` records, laid out by the same column rules as the
local target (:meth:`azurite.ray.columns.Columns.record_table`), rows without a vector
embedded first by the collection's embedding function.

What a failed job leaves: the server applies one write request as one batch, one log
frame and one SQLite transaction (the route makes a single engine call, and the engine
resolves the whole batch before writing any of it), so the collection shows whole
requests only, never part of one. Nothing is rolled back: the requests sent before the
failure stay. Rerunning the job converges: ``upsert`` writes the same records again, and
``add`` skips the ids the collection holds already, leaving those records as they are
(the rule of chromadb 1.5.9's engine, which ours follows). The same two rules make a
request safe to send again after a connection error or a 5xx answer, whose effect is
unknown; it is resent a few times. A 4xx answer is bad input, and fails the task with
its error class.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import httpx
import pyarrow as pa
from ray.data._internal.execution.interfaces import TaskContext
from ray.data.block import Block, BlockAccessor
from ray.data.datasource import Datasink

from azurite.api import embedding
from azurite.api.collection import Collection
from azurite.api.http_client import HttpClient, HttpClientAPI
from azurite.api.remote import _connect_error
from azurite.config import DEFAULT_DATABASE, DEFAULT_TENANT, Settings
from azurite.errors import ChromaError
from azurite.io.exporting import DEFAULT_BATCH_SIZE
from azurite.io.importing import _embed_missing
from azurite.io.records import from_batch
from azurite.ray.columns import checked_columns

#: How often a request is sent again after a failure that may be transient, and the
#: pause before the first resend (doubled before each next one: 0.5 + 1 + ... + 8 s, long
#: enough for a server restart).
RESENDS = 5
FIRST_PAUSE_SECONDS = 0.5

T = TypeVar("T")


def is_server_url(target: object) -> bool:
    """Whether ``target`` names a server (an http or https URL) rather than a directory."""
    return isinstance(target, str) and target.startswith(("http://", "https://"))


@dataclass(frozen=True)
class Server:
    """How to reach a server's database: everything a task needs to open a client."""

    url: str
    tenant: str = DEFAULT_TENANT
    database: str = DEFAULT_DATABASE
    headers: dict[str, str] | None = None
    settings: Settings | None = field(default=None, compare=False)

    def client(self) -> HttpClientAPI:
        # The URL as the host: the client keeps its scheme, port and path.
        return HttpClient(
            host=self.url,
            headers=self.headers,
            settings=self.settings,
            tenant=self.tenant,
            database=self.database,
        )


def _transient(error: BaseException) -> bool:
    """Whether ``error`` may have come from a request that the server did not answer, or
    answered with a failure of its own (5xx), rather than from the request itself."""
    if isinstance(error, httpx.TransportError):
        return True
    if isinstance(error, ChromaError):
        return error.code() >= 500
    # The HTTP client raises chromadb's ValueError for a refused connection.
    return type(error) is ValueError and error.args == _connect_error().args


def resending(send: Callable[[], T]) -> T:
    """``send()``, called again after each transient failure, :data:`RESENDS` times at
    most; only for requests whose repetition changes nothing."""
    pause = FIRST_PAUSE_SECONDS
    for _ in range(RESENDS):
        try:
            return send()
        except Exception as error:
            if not _transient(error):
                raise
        time.sleep(pause)
        pause *= 2
    return send()


def _unreachable(server: Server, error: Exception) -> Exception:
    if type(error) is ValueError and error.args == _connect_error().args:
        return ValueError(
            f"Could not connect to the server at {server.url}. Are you sure it is running?"
        )
    return error


class ServerCollectionDatasink(Datasink[int]):
    """The Ray ``Datasink`` of :func:`azurite.ray.write_collection` for a server target
    (for ``dataset.write_datasink(sink)``): write tasks on any node send their blocks to
    the server at ``url``; each returns the number of records it sent."""

    def __init__(
        self,
        url: str,
        collection: str,
        mode: str = "add",
        id_column: str = "id",
        embedding_column: str | None = None,
        document_column: str | None = None,
        uri_column: str | None = None,
        metadata_columns: Sequence[str] | None = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
        headers: dict[str, str] | None = None,
        settings: Settings | None = None,
        embedding_function: Any = embedding.DEFAULT_EMBEDDING_FUNCTION,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        if not is_server_url(url):
            raise ValueError(f"a server is named by an http:// or https:// URL, got {url!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
        self._columns = checked_columns(
            mode, id_column, embedding_column, document_column, uri_column, metadata_columns
        )
        self._server = Server(url, tenant, database, headers, settings)
        self._collection = collection
        self._adds = mode == "add"
        self._embedding_function = embedding_function
        self._batch_size = batch_size
        self._collection_id: str | None = None

    @property
    def supports_distributed_writes(self) -> bool:
        return True

    def on_write_start(self, schema: pa.Schema | None = None) -> None:
        try:
            with self._server.client() as client:
                collection = resending(
                    lambda: client.get_or_create_collection(
                        self._collection, embedding_function=self._embedding_function
                    )
                )
        except Exception as error:
            raise _unreachable(self._server, error) from None
        self._collection_id = str(collection.id)

    def _target(self, client: HttpClientAPI) -> Collection:
        """The collection the driver found or created, by its id: a collection of the same
        name created since is not written into."""
        assert self._collection_id is not None, "on_write_start runs before any write task"
        return client.get_collection_by_id(
            self._collection_id, embedding_function=self._embedding_function
        )

    def write(self, blocks: Iterable[Block], ctx: TaskContext) -> int:
        sent = 0
        with resending(self._server.client) as client:
            collection = resending(partial(self._target, client))
            prepare = collection._prepare_add if self._adds else collection._prepare_upsert
            engine_write = collection._engine.add if self._adds else collection._engine.upsert
            for number, block in enumerate(blocks):
                description = f"block {number} of write task {ctx.task_idx}"
                table = self._columns.record_table(
                    BlockAccessor.for_block(block).to_arrow(), description
                )
                for start in range(0, table.num_rows, self._batch_size):
                    records = from_batch(table.slice(start, self._batch_size), description)
                    _embed_missing(records, collection, description)
                    # chromadb refuses an empty metadata dict: a row whose every metadata
                    # column is null has no metadata.
                    metadatas = (
                        [metadata or None for metadata in records.metadatas]
                        if records.metadatas is not None
                        else None
                    )
                    call = prepare(
                        records.ids,
                        records.embeddings,
                        metadatas,
                        records.documents,
                        None,
                        records.uris,
                    )
                    resending(partial(engine_write, *call))
                    sent += len(records)
        return sent
