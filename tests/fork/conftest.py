"""Clients of every kind for the fork tests: Azurite's persistent, ephemeral, HTTP and
asynchronous HTTP clients, and chromadb's own ``HttpClient`` and ``AsyncHttpClient``,
the remote ones against one real ``azurite run`` per module."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import chromadb
import chromadb.errors
import pytest
from chromadb.api.models.AsyncCollection import AsyncCollection as ChromaAsyncCollection
from conftest import open_ephemeral_client
from server.blocking import Blocking
from server.servers import Server, azurite_server

import azurite
import azurite.errors

CLIENT_KINDS = (
    "persistent",
    "ephemeral",
    "http",
    "async_http",
    "chromadb_http",
    "chromadb_async_http",
)


@dataclass
class Kind:
    """A client of one kind, the errors module its exceptions come from, and the module
    whose ``Search`` and ``Knn`` it sends."""

    name: str
    client: Any
    errors: ModuleType
    search: ModuleType


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with azurite_server(tmp_path_factory.mktemp("server"), "--allow-reset") as running:
        yield running


@pytest.fixture(params=CLIENT_KINDS)
def kind(request: pytest.FixtureRequest, tmp_path: Path, server: Server) -> Iterator[Kind]:
    """A client of each kind, on an empty database."""
    name = request.param
    closers: list[Any] = []
    if name != "persistent":
        # The server's database (and the shared in-memory one) starts empty.
        reset = (
            open_ephemeral_client()
            if name == "ephemeral"
            else azurite.HttpClient(host=server.host, port=server.port)
        )
        reset.reset()
        if name != "ephemeral":
            reset.close()
    if name == "persistent":
        client: Any = azurite.PersistentClient(tmp_path / "db")
        closers.append(client.close)
        kind = Kind(name, client, azurite.errors, azurite)
    elif name == "ephemeral":
        client = open_ephemeral_client()
        closers.append(client.close)
        kind = Kind(name, client, azurite.errors, azurite)
    elif name == "http":
        client = azurite.HttpClient(host=server.host, port=server.port)
        closers.append(client.close)
        kind = Kind(name, client, azurite.errors, azurite)
    elif name == "async_http":
        loop = asyncio.new_event_loop()
        async_client = loop.run_until_complete(
            azurite.AsyncHttpClient(host=server.host, port=server.port)
        )
        closers += [lambda: loop.run_until_complete(async_client.close()), loop.close]
        kind = Kind(name, Blocking(async_client, loop), azurite.errors, azurite)
    elif name == "chromadb_http":
        client = chromadb.HttpClient(host=server.host, port=server.port)
        # chromadb 1.5.9 never closes its sessions (the client's and its admin client's).
        closers += [client._server._session.close, client._admin_client._server._session.close]
        kind = Kind(name, client, chromadb.errors, chromadb)
    else:
        loop = asyncio.new_event_loop()
        async_client = loop.run_until_complete(
            chromadb.AsyncHttpClient(host=server.host, port=server.port)
        )
        closers += [lambda: loop.run_until_complete(async_client._server._cleanup()), loop.close]
        blocking = Blocking(async_client, loop, wraps=(ChromaAsyncCollection,))
        kind = Kind(name, blocking, chromadb.errors, chromadb)
    try:
        yield kind
    finally:
        for close in closers:
            close()
