"""chromadb's official Python ``HttpClient`` and ``AsyncHttpClient`` (1.5.9) against a
real ``azurite run``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import chromadb
import chromadb.errors
import pytest
from chromadb.api.models.AsyncCollection import AsyncCollection

from .blocking import Blocking
from .scenarios import SCENARIOS, Api
from .servers import Server

Factory = Callable[..., Any]


@pytest.fixture(scope="module")
def official(server: Server) -> Iterator[Factory]:
    """Makes official clients of the server and closes their HTTP sessions at the end of
    the module (chromadb 1.5.9 never closes them itself, which leaves sockets open)."""
    made: list[Any] = []

    def make(kind: Callable[..., Any] = chromadb.HttpClient, **options: Any) -> Any:
        if kind is chromadb.AdminClient:
            client = kind(
                chromadb.Settings(
                    chroma_api_impl="chromadb.api.fastapi.FastAPI",
                    chroma_server_host=server.host,
                    chroma_server_http_port=server.port,
                )
            )
        else:
            client = kind(host=server.host, port=server.port, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        # A client's internal admin client has a system (and a session) of its own.
        for owner in (client, getattr(client, "_admin_client", None)):
            if owner is not None:
                owner._server._session.close()


@pytest.fixture(scope="module")
def api(official: Factory) -> Api:
    return Api(official(), chromadb.errors)


@pytest.fixture(scope="module")
def async_api(server: Server) -> Iterator[Api]:
    loop = asyncio.new_event_loop()
    client = loop.run_until_complete(chromadb.AsyncHttpClient(host=server.host, port=server.port))
    yield Api(Blocking(client, loop, wraps=(AsyncCollection,)), chromadb.errors)
    # Closes the HTTP clients that chromadb keeps per event loop.
    loop.run_until_complete(client._server._cleanup())
    loop.close()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_scenario(api: Api, scenario: Callable[[Api], None]) -> None:
    scenario(api)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_async_scenario(async_api: Api, scenario: Callable[[Api], None]) -> None:
    scenario(async_api)


def test_tenants_and_databases_through_admin_client(official: Factory) -> None:
    admin = official(chromadb.AdminClient)
    admin.create_tenant("acme")
    admin.create_database("sales", tenant="acme")
    assert [d["name"] for d in admin.list_databases(tenant="acme")] == ["sales"]
    client = official(tenant="acme", database="sales")
    client.create_collection("in-sales", embedding_function=None)
    assert [c.name for c in client.list_collections()] == ["in-sales"]
    admin.delete_database("sales", tenant="acme")
    with pytest.raises(chromadb.errors.NotFoundError):
        admin.get_database("sales", tenant="acme")


def test_reset(official: Factory) -> None:
    client = official(settings=chromadb.Settings(allow_reset=True))
    client.create_collection("doomed", embedding_function=None)
    assert client.reset() is True
    assert client.count_collections() == 0
