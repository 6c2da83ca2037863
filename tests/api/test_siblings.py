"""The synchronous and asynchronous APIs are siblings: every public method of a collection,
a client and an admin client has an asynchronous twin with the same parameters, and the
client-side rules hold whichever client is used (embedded, HTTP, asynchronous HTTP), since
the clients share the code that enforces them."""

from __future__ import annotations

import asyncio
import inspect
import re
from collections.abc import Iterator
from typing import Any

import pytest
from embedding.functions import HashEmbedding, OtherHashEmbedding
from server.blocking import Blocking
from server.servers import Server, azurite_server

import azurite
from azurite.api.client import AdminAPI, AsyncAdminAPI, AsyncClientAPI
from azurite.api.collection import AsyncCollection, Collection
from azurite.api.http_client import (
    AdminHttpClient,
    AsyncAdminHttpClient,
    AsyncHttpClientAPI,
    HttpClientAPI,
)
from azurite.errors import AlreadyExistsError, InvalidArgumentError

#: Public methods that do no I/O, hence stay plain functions on asynchronous clients too
#: (as in chromadb's AsyncClientAPI).
NO_IO = {"get_settings"}
#: The process's cache of embedded databases, which no asynchronous client holds.
EMBEDDED_ONLY = {"clear_system_cache"}

SIBLINGS = [
    (Collection, AsyncCollection),
    (azurite.Client, AsyncClientAPI),
    (HttpClientAPI, AsyncHttpClientAPI),
    (azurite.AdminClient, AsyncAdminAPI),
    (AdminAPI, AsyncAdminAPI),
    (AdminHttpClient, AsyncAdminHttpClient),
]


def public_methods(cls: type) -> dict[str, Any]:
    return {
        name: getattr(cls, name)
        for name in dir(cls)
        if not name.startswith("_") and callable(getattr(cls, name))
    }


def parameters(function: Any) -> inspect.Signature:
    # The return types differ by design (Collection vs AsyncCollection, or a coroutine).
    return inspect.signature(function).replace(return_annotation=inspect.Signature.empty)


@pytest.mark.parametrize(("sync", "asynchronous"), SIBLINGS, ids=lambda c: c.__name__)
def test_every_public_method_has_an_async_sibling(sync: type, asynchronous: type) -> None:
    sync_methods = public_methods(sync)
    async_methods = public_methods(asynchronous)
    assert set(sync_methods) - EMBEDDED_ONLY == set(async_methods)
    for name, method in sync_methods.items():
        if name in EMBEDDED_ONLY:
            continue
        sibling = async_methods[name]
        assert parameters(sibling) == parameters(method), name
        assert not inspect.iscoroutinefunction(method), name
        assert inspect.iscoroutinefunction(sibling) == (name not in NO_IO), name


def test_the_comparison_sees_every_method() -> None:
    assert {"add", "query", "index_stats", "modify", "fork"} <= set(public_methods(Collection))
    assert {"heartbeat", "get_collection_by_id", "close"} <= set(public_methods(azurite.Client))
    assert {"create_tenant", "list_databases"} <= set(public_methods(azurite.AdminClient))


# --------------------------------------------------------------------------- on every client


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with azurite_server(tmp_path_factory.mktemp("server")) as running:
        yield running


@pytest.fixture(params=["embedded", "http", "async_http"])
def any_client(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A client of each kind; the asynchronous one is driven call by call."""
    if request.param == "embedded":
        yield request.getfixturevalue("client")
        return
    server: Server = request.getfixturevalue("server")
    if request.param == "http":
        with azurite.HttpClient(host=server.host, port=server.port) as http:
            yield http
        return
    loop = asyncio.new_event_loop()
    asynchronous = loop.run_until_complete(
        azurite.AsyncHttpClient(host=server.host, port=server.port)
    )
    yield Blocking(asynchronous, loop)
    loop.run_until_complete(asynchronous.close())
    loop.close()


def unique_name(request: pytest.FixtureRequest) -> str:
    return re.sub(r"[^a-zA-Z0-9]+", "-", request.node.name).strip("-")


GET_CONFLICT = (
    "An embedding function already exists in the collection configuration, and a new one "
    "is provided. If this is intentional, please embed documents separately. Embedding "
    "function conflict: new: test_other_hash vs persisted: test_hash"
)


def test_get_collection_refuses_a_conflicting_function(
    any_client: Any, request: pytest.FixtureRequest
) -> None:
    name = unique_name(request)
    any_client.create_collection(name, embedding_function=HashEmbedding(4))
    with pytest.raises(ValueError, match=f"^{re.escape(GET_CONFLICT)}$"):
        any_client.get_collection(name, embedding_function=OtherHashEmbedding())
    assert any_client.get_collection(name, embedding_function=HashEmbedding(9)).name == name


def test_get_or_create_refuses_a_conflicting_function(
    any_client: Any, request: pytest.FixtureRequest
) -> None:
    name = unique_name(request)
    any_client.create_collection(name, embedding_function=HashEmbedding(4))
    with pytest.raises(ValueError, match=f"^{re.escape(GET_CONFLICT)}$"):
        any_client.get_or_create_collection(name, embedding_function=OtherHashEmbedding())
    with pytest.raises(ValueError, match=f"^{re.escape(GET_CONFLICT)}$"):
        any_client.create_collection(
            name, embedding_function=OtherHashEmbedding(), get_or_create=True
        )


def test_get_collection_by_id_refuses_a_malformed_id(any_client: Any) -> None:
    with pytest.raises(InvalidArgumentError) as refused:
        any_client.get_collection_by_id("not-a-uuid")
    assert type(refused.value) is InvalidArgumentError
    assert str(refused.value) == (
        "Validation error: collection_id: Invalid collection ID format, expected UUID"
    )


def test_get_collection_by_id_refuses_a_conflicting_function(
    any_client: Any, request: pytest.FixtureRequest
) -> None:
    created = any_client.create_collection(
        unique_name(request), embedding_function=HashEmbedding(4)
    )
    with pytest.raises(ValueError, match=f"^{re.escape(GET_CONFLICT)}$"):
        any_client.get_collection_by_id(created.id, embedding_function=OtherHashEmbedding())


def test_index_stats_of_a_collection(any_client: Any, request: pytest.FixtureRequest) -> None:
    collection = any_client.create_collection(unique_name(request), embedding_function=None)
    collection.add(ids=["a", "b", "c"], embeddings=[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    collection.delete(ids=["b"])
    stats = dict(collection.index_stats())
    index_bytes = stats.pop("index_bytes")
    assert isinstance(index_bytes, int)
    assert stats == {
        "live": 2,
        "index": "hnsw",
        "points": 3,
        "tombstones": 1,
        "pending": 0,
        "f32_bytes_per_vector": 12,
        "int8_bytes_per_vector": 18,
        "bytes_per_vector": 12 + 18 + index_bytes // 3,
    }


def test_async_admin_client_manages_databases(server: Server) -> None:
    async def scenario() -> tuple[dict[str, Any], list[str]]:
        async with AsyncAdminHttpClient(host=server.host, port=server.port) as admin:
            await admin.create_tenant("siblings")
            await admin.create_database("db1", tenant="siblings")
            found = await admin.get_database("db1", tenant="siblings")
            listed = [d["name"] for d in await admin.list_databases(tenant="siblings")]
            return found, listed

    found, listed = asyncio.run(scenario())
    assert (found["name"], found["tenant"], listed) == ("db1", "siblings", ["db1"])


def test_a_duplicate_name_is_already_exists_on_every_client(
    any_client: Any, request: pytest.FixtureRequest
) -> None:
    name = unique_name(request)
    any_client.create_collection(name, embedding_function=None)
    with pytest.raises(AlreadyExistsError) as refused:
        any_client.create_collection(name, embedding_function=None)
    assert type(refused.value) is AlreadyExistsError
    assert str(refused.value) == f"Collection [{name}] already exists"
