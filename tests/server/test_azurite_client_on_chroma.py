"""Azurite's HTTP clients against chromadb's own server (``chroma run``, 1.5.9): the
scenario suite passes there too, so the clients work with Chroma servers unchanged."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest

import azurite
import azurite.errors

from .blocking import Blocking
from .scenarios import SCENARIOS, Api
from .servers import Server, chroma_server


@pytest.fixture(scope="module")
def chroma(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with chroma_server(tmp_path_factory.mktemp("chroma")) as running:
        yield running


@pytest.fixture(scope="module")
def sync_api(chroma: Server) -> Iterator[Api]:
    with azurite.HttpClient(host=chroma.host, port=chroma.port) as client:
        yield Api(client, azurite.errors)


@pytest.fixture(scope="module")
def async_api(chroma: Server) -> Iterator[Api]:
    loop = asyncio.new_event_loop()
    client = loop.run_until_complete(azurite.AsyncHttpClient(host=chroma.host, port=chroma.port))
    yield Api(Blocking(client, loop), azurite.errors)
    loop.run_until_complete(client.close())
    loop.close()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_http_client(sync_api: Api, scenario: Callable[[Api], None]) -> None:
    scenario(sync_api)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_async_http_client(async_api: Api, scenario: Callable[[Api], None]) -> None:
    scenario(async_api)
