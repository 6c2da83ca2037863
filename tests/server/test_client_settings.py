"""Settings that name a server build an HTTP client of it, against a real ``azurite run``:
``Client(Settings(chroma_api_impl="chromadb.api.fastapi.FastAPI", ...))`` as mem0 and
older code build it never opens a local database, and the settings of HTTP clients report
the server as chromadb's ``HttpClient`` does."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import chromadb
import pytest

import azurite
from azurite.api.http_client import AdminHttpClient, HttpClientAPI

from .servers import Server

FASTAPI = "chromadb.api.fastapi.FastAPI"
ASYNC_FASTAPI = "chromadb.api.async_fastapi.AsyncFastAPI"
SERVER_FIELDS = (
    "chroma_api_impl",
    "chroma_server_host",
    "chroma_server_http_port",
    "chroma_server_ssl_enabled",
    "chroma_server_headers",
)


@pytest.fixture
def elsewhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty working directory, where a wrongly opened local database would appear."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def mem0_settings(module: Any, server: Server) -> Any:
    """The settings mem0's Chroma store builds for a server (path unset)."""
    settings = module.Settings(anonymized_telemetry=False)
    settings.chroma_server_host = server.host
    settings.chroma_server_http_port = server.port
    settings.chroma_api_impl = FASTAPI
    settings.persist_directory = None
    settings.is_persistent = True
    return settings


def close_chromadb(client: Any) -> None:
    """Closes the HTTP sessions of a chromadb client (chromadb 1.5.9 never closes them,
    which leaves sockets open); its internal admin client has one of its own."""
    for owner in (client, client._admin_client):
        owner._server._session.close()


def server_view(settings: Any) -> dict[str, Any]:
    return {name: getattr(settings, name) for name in SERVER_FIELDS}


def test_settings_naming_the_http_client_reach_the_server(server: Server, elsewhere: Path) -> None:
    with azurite.Client(mem0_settings(azurite, server)) as client:
        assert isinstance(client, azurite.Client)
        client.get_or_create_collection("mem0_settings").add(ids=["m"], embeddings=[[1.0, 2.0]])
    with azurite.HttpClient(host=server.host, port=server.port) as direct:
        assert direct.get_collection("mem0_settings").get()["ids"] == ["m"]
    # chromadb's own client sees the same with the same settings.
    theirs = chromadb.Client(mem0_settings(chromadb, server))
    assert theirs.get_collection("mem0_settings").count() == 1
    close_chromadb(theirs)
    assert list(elsewhere.iterdir()) == []


def test_admin_and_persistent_clients_with_server_settings_reach_the_server(
    server: Server, elsewhere: Path
) -> None:
    settings = azurite.Settings(
        chroma_api_impl=FASTAPI,
        chroma_server_host=server.host,
        chroma_server_http_port=server.port,
    )
    with azurite.AdminClient(settings) as admin:
        admin.create_database("from_settings")
    with azurite.PersistentClient("local", settings=settings, database="from_settings") as c:
        c.create_collection("remote_anyway")
    with azurite.HttpClient(host=server.host, port=server.port, database="from_settings") as d:
        assert [c.name for c in d.list_collections()] == ["remote_anyway"]
    assert list(elsewhere.iterdir()) == []


def test_http_client_settings_report_the_server_as_chromadb_does(server: Server) -> None:
    headers = {"X-Origin": "test"}
    given = azurite.Settings(allow_reset=True)
    with azurite.HttpClient(server.host, server.port, headers=headers, settings=given) as ours:
        reported = ours.get_settings()
    theirs = chromadb.HttpClient(server.host, server.port, headers=headers)
    assert server_view(reported) == server_view(theirs.get_settings())
    close_chromadb(theirs)
    assert server_view(reported) == {
        "chroma_api_impl": FASTAPI,
        "chroma_server_host": server.host,
        "chroma_server_http_port": server.port,
        "chroma_server_ssl_enabled": False,
        "chroma_server_headers": headers,
    }
    assert reported.allow_reset is True
    # The settings given are not changed (Azurite's constructors copy them).
    assert given.chroma_server_host is None
    # The reported settings build a client of the same server.
    with azurite.Client(reported) as again:
        assert isinstance(again.heartbeat(), int)


def test_admin_http_client_settings_report_the_server(server: Server) -> None:
    with AdminHttpClient(host=server.host, port=server.port) as admin:
        assert server_view(admin.get_settings()) == {
            "chroma_api_impl": FASTAPI,
            "chroma_server_host": server.host,
            "chroma_server_http_port": server.port,
            "chroma_server_ssl_enabled": False,
            "chroma_server_headers": None,
        }


def test_async_http_client_settings_report_the_server(server: Server) -> None:
    async def settings() -> azurite.Settings:
        client = await azurite.AsyncHttpClient(server.host, server.port)
        try:
            return client.get_settings()
        finally:
            await client.close()

    reported = asyncio.run(settings())
    assert server_view(reported) == {
        "chroma_api_impl": ASYNC_FASTAPI,
        "chroma_server_host": server.host,
        "chroma_server_http_port": server.port,
        "chroma_server_ssl_enabled": False,
        "chroma_server_headers": None,
    }


def test_http_client_refuses_settings_naming_another_server(server: Server) -> None:
    settings = azurite.Settings(chroma_server_host="elsewhere.example")
    message = (
        r"^Chroma server host provided in settings\[elsewhere.example\] is different to "
        r"the one provided in HttpClient: \[127.0.0.1\]$"
    )
    with pytest.raises(ValueError, match=message):
        azurite.HttpClient(server.host, server.port, settings=settings)
    with pytest.raises(ValueError, match=message):
        chromadb.HttpClient(
            server.host,
            server.port,
            settings=chromadb.Settings(**{"chroma_server_host": "elsewhere.example"}),
        )
    with pytest.raises(ValueError, match=r"http port provided in settings\[1\] is different"):
        azurite.HttpClient(
            server.host, server.port, settings=azurite.Settings(chroma_server_http_port=1)
        )


def test_client_of_server_settings_is_an_http_client_of_that_server(server: Server) -> None:
    settings = azurite.Settings(
        chroma_api_impl=FASTAPI, chroma_server_host=server.host, chroma_server_http_port=server.port
    )
    with azurite.Client(settings) as client, HttpClientAPI(server.host, server.port) as direct:
        assert client.get_version() == direct.get_version()
        assert client.get_settings() is settings


def test_the_certificate_setting_is_read(server: Server, tmp_path: Path) -> None:
    missing = tmp_path / "missing-ca.pem"
    settings = azurite.Settings(chroma_server_ssl_verify=str(missing))
    with pytest.raises(FileNotFoundError):
        azurite.HttpClient(server.host, server.port, settings=settings)
    with azurite.HttpClient(
        server.host, server.port, settings=azurite.Settings(chroma_server_ssl_verify=False)
    ) as unchecked:
        assert isinstance(unchecked.heartbeat(), int)
