"""Azurite's HTTP server: Chroma's API v2 over the embedded core, as an ASGI app.

``azurite run`` serves :func:`create_app` with uvicorn; any ASGI server can serve it.
"""

from azurite.server.app import create_app
from azurite.server.config import ServerConfig

__all__ = ["ServerConfig", "create_app"]
