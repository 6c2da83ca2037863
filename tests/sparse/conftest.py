"""Clients of every kind for the sparse vector tests: persistent, ephemeral, and HTTP
against a real ``azurite run`` (started once per module)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import open_ephemeral_client
from server.servers import Server, azurite_server

import azurite

CLIENT_KINDS = ("persistent", "ephemeral", "http")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with azurite_server(tmp_path_factory.mktemp("server"), "--allow-reset") as running:
        yield running


@pytest.fixture(params=CLIENT_KINDS)
def any_client(
    request: pytest.FixtureRequest, tmp_path: Path, server: Server
) -> Iterator[azurite.ClientAPI]:
    """A client of each kind, on an empty database."""
    kind = request.param
    if kind == "persistent":
        client: azurite.ClientAPI = azurite.PersistentClient(tmp_path / "db")
    elif kind == "ephemeral":
        client = open_ephemeral_client()
    else:
        client = azurite.HttpClient(host=server.host, port=server.port)
    if kind != "persistent":
        client.reset()
    try:
        yield client
    finally:
        client.close()
