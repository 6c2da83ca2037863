"""Azurite's ``HttpClient`` and ``AsyncHttpClient`` run the scenario suite against a real
``azurite run``, plus what only they offer (admin calls, closing, connection errors)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest

import azurite
import azurite.errors
from azurite.api.http_client import AdminHttpClient

from .blocking import Blocking
from .scenarios import SCENARIOS, Api
from .servers import Server, free_port


@pytest.fixture(scope="module")
def sync_api(server: Server) -> Iterator[Api]:
    with azurite.HttpClient(host=server.host, port=server.port) as client:
        yield Api(client, azurite.errors)


@pytest.fixture(scope="module")
def async_api(server: Server) -> Iterator[Api]:
    loop = asyncio.new_event_loop()
    client = loop.run_until_complete(azurite.AsyncHttpClient(host=server.host, port=server.port))
    yield Api(Blocking(client, loop), azurite.errors)
    loop.run_until_complete(client.close())
    loop.close()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_http_client(sync_api: Api, scenario: Callable[[Api], None]) -> None:
    scenario(sync_api)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_async_http_client(async_api: Api, scenario: Callable[[Api], None]) -> None:
    scenario(async_api)


def test_errors_are_the_embedded_clients(sync_api: Api) -> None:
    client = sync_api.client
    collection = client.create_collection("twice", embedding_function=None)
    # The embedded engine reports a duplicate as InternalError; so does the HTTP client.
    with pytest.raises(azurite.errors.InternalError, match=r"Collection \[twice\] already exists"):
        client.create_collection("twice", embedding_function=None)
    with pytest.raises(azurite.errors.InvalidArgumentError, match="Invalid collection ID format"):
        client.get_collection_by_id("not-a-uuid")
    assert client.get_collection_by_id(collection.id).name == "twice"
    with pytest.raises(azurite.errors.NotFoundError) as missing:
        client.get_collection("absent")
    assert missing.value.trace_id == "0" * 32


def test_admin_client_and_other_databases(server: Server) -> None:
    with AdminHttpClient(host=server.host, port=server.port) as admin:
        admin.create_tenant("team")
        admin.create_database("notes", tenant="team")
        assert [d["name"] for d in admin.list_databases(tenant="team")] == ["notes"]
        assert admin.get_database("notes", tenant="team")["tenant"] == "team"
    with azurite.HttpClient(
        host=f"http://{server.host}:{server.port}", tenant="team", database="notes"
    ) as client:
        client.create_collection("inside", embedding_function=None).add(
            ids=["x"], embeddings=[[1.0]]
        )
        assert client.get_collection("inside").count() == 1
        assert client.get_user_identity().tenant == "default_tenant"
    with pytest.raises(azurite.errors.NotFoundError):
        azurite.HttpClient(host=server.host, port=server.port, tenant="team", database="nope")


def test_closed_client_and_unreachable_server(server: Server) -> None:
    client = azurite.HttpClient(host=server.host, port=server.port)
    client.close()
    with pytest.raises(azurite.errors.ChromaError, match="closed"):
        client.list_collections()
    with pytest.raises(ValueError, match="Could not connect"):
        azurite.HttpClient(host="127.0.0.1", port=free_port())
    with pytest.raises(ValueError, match="Invalid URL"):
        azurite.HttpClient(host="localhost/api")
