"""HTTP clients: ``azurite.HttpClient`` and ``azurite.AsyncHttpClient``.

They speak Chroma's API v2, so they work against ``azurite run`` and against Chroma
servers alike, and they offer the API of the embedded client with the same errors: they
are the ordinary clients (``ClientAPI`` / ``AsyncClientAPI``) built with a remote
connection (``azurite.api.remote``).
"""

from __future__ import annotations

from azurite.api.client import (
    AdminAPI,
    AsyncAdminAPI,
    AsyncClientAPI,
    ClientAPI,
)
from azurite.api.collection import AsyncCollection
from azurite.api.remote import async_remote_connection, remote_connection, server_settings
from azurite.config import (
    ASYNC_HTTP_API_IMPL,
    DEFAULT_DATABASE,
    DEFAULT_TENANT,
    HTTP_API_IMPL,
    Settings,
)

# ---- the clients


class HttpClientAPI(ClientAPI):
    """A client of a server speaking Chroma's API v2, with the embedded client's API."""

    def __init__(
        self,
        host: str = "localhost",
        port: int = 8000,
        ssl: bool = False,
        headers: dict[str, str] | None = None,
        settings: Settings | None = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
    ) -> None:
        settings = server_settings(settings, HTTP_API_IMPL, host, port, ssl, headers)
        connection = remote_connection(host, port, ssl, headers, settings)
        super().__init__(connection, settings, tenant, database)


class AdminHttpClient(AdminAPI, HttpClientAPI):
    """Tenants and databases of a server (``AdminClient`` over HTTP)."""


class AsyncHttpClientAPI(AsyncClientAPI):
    """An asynchronous client of a server speaking Chroma's API v2; create it with
    ``await azurite.AsyncHttpClient(...)``, which checks its tenant and database."""

    def __init__(
        self,
        host: str = "localhost",
        port: int = 8000,
        ssl: bool = False,
        headers: dict[str, str] | None = None,
        settings: Settings | None = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
    ) -> None:
        settings = server_settings(settings, ASYNC_HTTP_API_IMPL, host, port, ssl, headers)
        connection = async_remote_connection(host, port, ssl, headers, settings)
        super().__init__(connection, settings, tenant, database)


class AsyncAdminHttpClient(AsyncAdminAPI, AsyncHttpClientAPI):
    """Tenants and databases of a server, as coroutines (``AdminHttpClient``'s sibling)."""


def HttpClient(
    host: str = "localhost",
    port: int = 8000,
    ssl: bool = False,
    headers: dict[str, str] | None = None,
    settings: Settings | None = None,
    tenant: str = DEFAULT_TENANT,
    database: str = DEFAULT_DATABASE,
) -> HttpClientAPI:
    """A client of the server at ``host``:``port`` (``azurite run`` or a Chroma server)."""
    host, port, ssl = str(host), int(port), bool(ssl)
    return HttpClientAPI(host, port, ssl, headers, settings, str(tenant), str(database))


async def AsyncHttpClient(
    host: str = "localhost",
    port: int = 8000,
    ssl: bool = False,
    headers: dict[str, str] | None = None,
    settings: Settings | None = None,
    tenant: str = DEFAULT_TENANT,
    database: str = DEFAULT_DATABASE,
) -> AsyncHttpClientAPI:
    """An asynchronous client of the server at ``host``:``port``; checks the tenant and
    database on creation, as ``HttpClient`` does."""
    host, port, ssl = str(host), int(port), bool(ssl)
    client = AsyncHttpClientAPI(host, port, ssl, headers, settings, str(tenant), str(database))
    await client._open()
    return client


__all__ = [
    "AdminHttpClient",
    "AsyncAdminHttpClient",
    "AsyncClientAPI",
    "AsyncCollection",
    "AsyncHttpClient",
    "AsyncHttpClientAPI",
    "HttpClient",
    "HttpClientAPI",
]
