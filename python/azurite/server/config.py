"""What a server is started with, from command-line flags or environment variables."""

from __future__ import annotations

from dataclasses import dataclass

#: Chroma's default request size limit (40 MiB).
DEFAULT_MAX_BODY_SIZE = 40 * 1024 * 1024


@dataclass(frozen=True)
class ServerConfig:
    """Settings of one server process.

    ``auth_token`` enables token authentication when set; ``cors_allow_origins`` enables
    CORS for the listed origins (``("*",)`` allows any); ``allow_reset`` lets clients
    delete everything with ``POST /api/v2/reset`` (off by default, as in Chroma).
    """

    path: str = "./azurite-data"
    host: str = "localhost"
    port: int = 8000
    log_level: str = "info"
    cors_allow_origins: tuple[str, ...] = ()
    auth_token: str | None = None
    max_body_size: int = DEFAULT_MAX_BODY_SIZE
    allow_reset: bool = False
