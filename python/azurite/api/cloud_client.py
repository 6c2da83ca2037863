"""``CloudClient``: a client of Chroma Cloud, which Azurite does not connect to yet."""

from __future__ import annotations

from azurite.api.client import ClientAPI
from azurite.config import Settings

CLOUD_CLIENT_NOT_AVAILABLE = (
    "CloudClient (Chroma Cloud) is not yet available in Azurite: use "
    "azurite.HttpClient(host=..., port=...) for a server, or azurite.PersistentClient(path)"
)


def CloudClient(
    tenant: str | None = None,
    database: str | None = None,
    api_key: str | None = None,
    settings: Settings | None = None,
    *,
    cloud_host: str = "api.trychroma.com",
    cloud_port: int = 443,
    enable_ssl: bool = True,
) -> ClientAPI:
    """chromadb's signature; raises ``NotImplementedError`` until Azurite speaks to Chroma
    Cloud."""
    raise NotImplementedError(CLOUD_CLIENT_NOT_AVAILABLE)


__all__ = ["CLOUD_CLIENT_NOT_AVAILABLE", "CloudClient"]
