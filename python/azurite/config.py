"""Client settings, compatible with ``chromadb.Settings`` for the fields Azurite reads."""

from __future__ import annotations

import os
from typing import Any

#: Every known setting with its default. Chroma-only settings that Azurite has no use for
#: are still accepted (and kept), so that code written for chromadb runs unchanged.
DEFAULTS: dict[str, Any] = {
    "is_persistent": False,
    "persist_directory": "./chroma",
    "allow_reset": False,
    "anonymized_telemetry": False,
    "chroma_server_host": None,
    "chroma_server_http_port": None,
    "chroma_server_ssl_enabled": False,
    "chroma_server_ssl_verify": None,
    "chroma_server_headers": None,
    "chroma_server_api_default_path": "/api/v2",
    "chroma_client_auth_provider": None,
    "chroma_client_auth_credentials": None,
    "chroma_auth_token_transport_header": None,
    # "process" survives a crash of the process; "full" also syncs every write to disk so
    # that it survives power loss, at a cost per write.
    "azurite_durability": "process",
    # Open an existing database directory for reading while another process writes to it:
    # the client sees what was committed when it opened, and refuses writes.
    "azurite_read_only": False,
}

_TRUE = {"1", "true", "yes", "on"}


def _environment_value(name: str, default: Any) -> Any:
    """Like Chroma's pydantic settings: an environment variable of the same name (any case)
    overrides the default."""
    for key, value in os.environ.items():
        if key.lower() == name:
            if isinstance(default, bool):
                return value.strip().lower() in _TRUE
            return value
    return default


class Settings:
    """Configuration of a client: ``Settings(allow_reset=True)`` and so on."""

    def __init__(self, **overrides: Any) -> None:
        if overrides.get("chroma_db_impl") is not None:
            raise ValueError(
                "chroma_db_impl is a configuration of Chroma 0.3 that is no longer supported. "
                "Create clients with azurite.PersistentClient(path) or azurite.EphemeralClient()."
            )
        values = {name: _environment_value(name, default) for name, default in DEFAULTS.items()}
        values.update(overrides)
        if values["azurite_durability"] not in ("process", "full"):
            raise ValueError(
                "azurite_durability must be 'process' or 'full', "
                f"got {values['azurite_durability']!r}"
            )
        self.__dict__["_values"] = values

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["_values"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self._values[name] = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Settings) and self._values == other._values

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._values)))

    def __repr__(self) -> str:
        changed = {k: v for k, v in self._values.items() if DEFAULTS.get(k, object()) != v}
        return f"Settings({', '.join(f'{k}={v!r}' for k, v in changed.items())})"

    def copy(self) -> Settings:
        return Settings(**self._values)
