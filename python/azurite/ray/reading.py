"""A collection of a local database directory or of a server read as a Ray dataset.

A first task opens the database (a directory read-only, or a server through an HTTP
client) and lists the ids of the records to read (those ``where`` and
``where_document`` select); each read task opens it too and reads one page of those
ids, laid out as an export lays records out (``docs/formats.md``: ``id``, ``document``,
``uri``, ``embedding`` as a fixed-size list of float32, ``metadata`` as a struct with a
child per kind of value a key holds), so that every page has the schema the collection
had when its ids were listed. A record deleted by a writer between the listing and a
task's read is not in the dataset. Every open is in a Ray worker and closed after its
read: the driver may hold a writing client of the directory (a process opens a
directory with one set of settings), and a worker that kept a read-only client open
would go on seeing the records of its first read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Protocol

import pyarrow as pa
import ray
from ray.data import Dataset

from azurite.api.client import DEFAULT_DATABASE, DEFAULT_TENANT, ClientAPI, PersistentClient
from azurite.api.engine import CollectionModel
from azurite.config import Settings
from azurite.io.exporting import _include
from azurite.io.layout import INCLUDABLE, Header
from azurite.io.records import Records, to_batch
from azurite.ray.serving import Server, is_server_url

DEFAULT_INCLUDE = ["documents", "metadatas", "embeddings"]
DEFAULT_PAGE_SIZE = 10_000


class _Database(Protocol):
    def client(self) -> ClientAPI: ...


@dataclass(frozen=True)
class _Directory:
    """A database directory, opened read-only."""

    path: str
    tenant: str
    database: str

    def client(self) -> ClientAPI:
        return PersistentClient(
            self.path, Settings(azurite_read_only=True), self.tenant, self.database
        )


def _listing(
    source: _Database,
    name: str,
    where: dict[str, Any] | None,
    where_document: dict[str, Any] | None,
    include: list[str],
) -> tuple[Header, list[str]]:
    """The layout of the collection ``name``'s records and the ids of those to read."""
    with source.client() as client:
        collection = client.get_collection(name)
        model: CollectionModel = collection._engine.get_collection_by_id(
            collection._model["tenant"], collection._model["database"], collection._model["id"]
        )
        header = Header.of_collection(model, include)
        ids = collection.get(where=where, where_document=where_document, include=[])["ids"]
    return header, ids


def _page(source: _Database, name: str, ids: list[str], header: Header) -> pa.Table:
    """The records ``ids`` of the collection ``name``, in the layout ``header`` gives."""
    include = [option for option, column in INCLUDABLE.items() if column in header.columns]
    with source.client() as client:
        collection = client.get_collection(name)
        request = collection._prepare_get(ids, None, None, None, None, include)
        columns = collection._engine.get(*request.call)
    records = Records(
        ids=columns["ids"],
        embeddings=columns["embeddings"],
        documents=columns["documents"],
        uris=columns["uris"],
        metadatas=columns["metadatas"],
    )
    schema = header.arrow_schema()
    return pa.Table.from_batches([to_batch(records, header, schema)], schema=schema)


_list = ray.remote(_listing)
_read_page = ray.remote(_page)


def read_collection(
    path: str | os.PathLike[str],
    collection: str,
    where: dict[str, Any] | None = None,
    where_document: dict[str, Any] | None = None,
    include: list[str] | None = None,
    tenant: str = DEFAULT_TENANT,
    database: str = DEFAULT_DATABASE,
    page_size: int = DEFAULT_PAGE_SIZE,
    headers: dict[str, str] | None = None,
    settings: Settings | None = None,
) -> Dataset:
    """The records of the collection ``collection`` of the database directory ``path``
    (those ``where`` and ``where_document`` select, all by default) as a Ray dataset of
    ``id`` and the columns ``include`` names (documents, metadatas and embeddings by
    default; uris too if named), read in parallel ``page_size`` records per task. The
    directory is only read, beside a process writing to it if there is one.

    ``path`` may instead be the URL of a server (``"http://host:port"``, sent ``headers``
    and the client ``settings``, for credentials), read through HTTP clients into a
    dataset of the same layout."""
    if page_size < 1:
        raise ValueError(f"page_size must be a positive integer, got {page_size}")
    source: _Database
    if is_server_url(path):
        assert isinstance(path, str)
        source = Server(path, tenant, database, headers, settings)
    elif headers is not None or settings is not None:
        raise ValueError("headers and settings are for a server: the target is a directory")
    else:
        source = _Directory(os.fspath(os.path.abspath(path)), tenant, database)
    chosen = _include(include if include is not None else DEFAULT_INCLUDE)
    header, ids = ray.get(_list.remote(source, collection, where, where_document, chosen))
    if not ids:
        return ray.data.from_arrow(header.arrow_schema().empty_table())
    pages = [ids[start : start + page_size] for start in range(0, len(ids), page_size)]
    # Ray's stubs type a task's result as another ObjectRef class than from_arrow_refs takes.
    refs: list[Any] = [_read_page.remote(source, collection, page, header) for page in pages]
    return ray.data.from_arrow_refs(refs)
