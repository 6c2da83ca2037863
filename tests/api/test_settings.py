"""Settings side by side with chromadb 1.5.9's: every field with its default, values from
the environment and a ``.env`` file converted to the same typed values, and the settings
that would have opened a database nobody asked for."""

from __future__ import annotations

import os
import re
from enum import Enum
from pathlib import Path
from typing import Any

import chromadb.config
import pytest

import azurite
import azurite.config
from azurite.config import Settings


@pytest.fixture(autouse=True)
def unconfigured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No setting in the environment, and a working directory without a ``.env``."""
    fields = set(chromadb.config.Settings.model_fields) | set(azurite.config.DEFAULTS)
    for name in list(os.environ):
        if name.lower() in fields:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def typed(value: Any) -> tuple[Any, Any]:
    """A value with its type, for comparing; members of the enums of both config modules
    by their class name and value."""
    if isinstance(value, Enum):
        return type(value).__name__, value.value
    return type(value), value


def test_every_field_of_chromadb_exists_with_its_default() -> None:
    theirs = chromadb.config.Settings()
    ours = Settings()
    for name in chromadb.config.Settings.model_fields:
        assert typed(getattr(ours, name)) == typed(getattr(theirs, name)), name
    assert len(chromadb.config.Settings.model_fields) == 65


def test_azurite_fields_stay() -> None:
    settings = Settings()
    assert settings.azurite_durability == "process"
    assert settings.azurite_read_only is False


def test_default_tenant_and_database_come_from_the_config_module() -> None:
    assert azurite.config.DEFAULT_TENANT == chromadb.config.DEFAULT_TENANT
    assert azurite.config.DEFAULT_DATABASE == chromadb.config.DEFAULT_DATABASE
    assert azurite.config.APIVersion.V1 == chromadb.config.APIVersion.V1


def test_mutable_defaults_are_not_shared() -> None:
    first, second = Settings(), Settings()
    first.chroma_server_cors_allow_origins.append("http://a")
    assert second.chroma_server_cors_allow_origins == []


# Environment values of every kind of field, accepted or refused by chromadb.
ENVIRONMENT_SAMPLES = [
    ("ALLOW_RESET", "true"),
    ("allow_reset", "TRUE"),
    ("Allow_Reset", "1"),
    ("ALLOW_RESET", "yes"),
    ("ALLOW_RESET", "off"),
    ("ALLOW_RESET", "n"),
    ("ALLOW_RESET", "0"),
    ("ALLOW_RESET", "maybe"),
    ("ALLOW_RESET", " true "),
    ("ALLOW_RESET", ""),
    ("IS_PERSISTENT", "True"),
    ("CHROMA_SERVER_SSL_ENABLED", "false"),
    ("CHROMA_SERVER_SSL_ENABLED", ""),
    ("CHROMA_SERVER_HTTP_PORT", "8000"),
    ("CHROMA_SERVER_HTTP_PORT", " 8000 "),
    ("CHROMA_SERVER_HTTP_PORT", "8000.0"),
    ("CHROMA_SERVER_HTTP_PORT", "1_000"),
    ("CHROMA_SERVER_HTTP_PORT", "-3"),
    ("CHROMA_SERVER_HTTP_PORT", "8000.5"),
    ("CHROMA_SERVER_HTTP_PORT", "1e3"),
    ("CHROMA_SERVER_HTTP_PORT", "None"),
    ("CHROMA_SERVER_HTTP_PORT", ""),
    ("CHROMA_SERVER_NOFILE", ""),
    ("CHROMA_SERVER_NOFILE", "65535"),
    ("CHROMA_SERVER_THREAD_POOL_SIZE", "12"),
    ("CHROMA_SERVER_THREAD_POOL_SIZE", ""),
    ("CHROMA_HTTP_KEEPALIVE_SECS", "1.5"),
    ("CHROMA_HTTP_KEEPALIVE_SECS", "2"),
    ("CHROMA_HTTP_KEEPALIVE_SECS", "1e2"),
    ("CHROMA_HTTP_KEEPALIVE_SECS", "inf"),
    ("CHROMA_HTTP_KEEPALIVE_SECS", "x"),
    ("CHROMA_SERVER_HEADERS", '{"X-Api": "key"}'),
    ("CHROMA_SERVER_HEADERS", "null"),
    ("CHROMA_SERVER_HEADERS", '{"X-Api": 1}'),
    ("CHROMA_SERVER_HEADERS", "not json"),
    ("CHROMA_SERVER_CORS_ALLOW_ORIGINS", '["http://a", "http://b"]'),
    ("CHROMA_SERVER_CORS_ALLOW_ORIGINS", "null"),
    ("CHROMA_SERVER_CORS_ALLOW_ORIGINS", "http://a"),
    ("CHROMA_SERVER_CORS_ALLOW_ORIGINS", '"http://a"'),
    ("CHROMA_SERVER_AUTH_IGNORE_PATHS", '{"/api/v2/x": ["GET", "POST"]}'),
    ("CHROMA_SERVER_AUTH_IGNORE_PATHS", '{"/api/v2/x": "GET"}'),
    ("CHROMA_OTEL_COLLECTION_HEADERS", '{"a": "b"}'),
    ("CHROMA_SERVER_SSL_VERIFY", "/etc/ca.pem"),
    ("CHROMA_SERVER_SSL_VERIFY", "false"),
    ("CHROMA_SERVER_API_DEFAULT_PATH", "/api/v1"),
    ("CHROMA_SERVER_API_DEFAULT_PATH", "/api/v3"),
    ("CHROMA_SEGMENT_DIRECTORY_ROUTING_MODE", "node"),
    ("CHROMA_SEGMENT_DIRECTORY_ROUTING_MODE", "NODE"),
    ("MIGRATIONS", "validate"),
    ("MIGRATIONS", "NONE"),
    ("MIGRATIONS_HASH_ALGORITHM", "sha256"),
    ("CHROMA_SERVER_HOST", "None"),
    ("CHROMA_SERVER_HOST", ""),
    ("PERSIST_DIRECTORY", " /data "),
    ("CHROMA_API_IMPL", "chromadb.api.fastapi.FastAPI"),
    ("CHROMA_CLIENT_AUTH_CREDENTIALS", "secret"),
]


def outcome(make: Any, name: str) -> tuple[str, Any]:
    """What building the settings gives for field ``name``: its typed value, or that
    the value was refused (as a ValueError, which pydantic's errors are too)."""
    try:
        return "value", typed(getattr(make(), name))
    except ValueError:
        return "refused", None


@pytest.mark.parametrize(("variable", "value"), ENVIRONMENT_SAMPLES)
def test_environment_values_convert_as_in_chromadb(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    name = variable.lower()
    assert outcome(Settings, name) == outcome(chromadb.config.Settings, name)


@pytest.mark.parametrize(
    "overrides",
    [
        {"allow_reset": "yes"},
        {"allow_reset": 1},
        {"allow_reset": 2},
        {"chroma_server_http_port": "8000"},
        {"chroma_server_http_port": 80.0},
        {"chroma_server_http_port": "x"},
        {"chroma_http_keepalive_secs": "2"},
        {"persist_directory": None},
        {"persist_directory": 5},
        {"chroma_server_host": 5},
        {"chroma_server_headers": {"a": 1}},
        {"chroma_server_cors_allow_origins": ("http://a",)},
        {"chroma_server_cors_allow_origins": "http://a"},
        {"chroma_server_api_default_path": "/api/v1"},
        {"migrations": "sometimes"},
    ],
)
def test_given_values_convert_as_in_chromadb(overrides: dict[str, Any]) -> None:
    [name] = overrides
    assert outcome(lambda: Settings(**overrides), name) == outcome(
        lambda: chromadb.config.Settings(**overrides), name
    )


def test_an_invalid_value_names_the_field_and_its_origin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("Chroma_Server_Http_Port", "eighty")
    with pytest.raises(
        ValueError,
        match=re.escape(
            "chroma_server_http_port must be an integer, got 'eighty' "
            "(from the environment variable Chroma_Server_Http_Port)"
        ),
    ):
        Settings()


DOTENV = """\
# the settings of a deployment
export ALLOW_RESET=true
chroma_server_host = "db.example"  # a comment
CHROMA_SERVER_HTTP_PORT=8123 # another
persist_directory='/data/#1 $HOME'
CHROMA_SERVER_HEADERS={"X-Api": "key"}
CHROMA_SERVER_AUTHN_CREDENTIALS="two
lines"
CHROMA_OTEL_SERVICE_NAME=${AZURITE_TEST_PREFIX}/svc
CHROMA_OTEL_GRANULARITY=${AZURITE_TEST_UNSET:-all}
TENANT_ID
NOT_A_SETTING=1
chroma_client_auth_credentials="esc\\"aped\\n"
this line is not a binding
CHROMA_SEGMENT_CACHE_POLICY= # empty
"""


def test_a_dotenv_file_is_read_as_chromadb_reads_it(
    monkeypatch: pytest.MonkeyPatch, unconfigured: Path
) -> None:
    monkeypatch.setenv("AZURITE_TEST_PREFIX", "/prefix")
    (unconfigured / ".env").write_text(DOTENV)
    theirs, ours = chromadb.config.Settings(), Settings()
    for name in chromadb.config.Settings.model_fields:
        assert typed(getattr(ours, name)) == typed(getattr(theirs, name)), name
    assert ours.chroma_server_http_port == 8123
    assert ours.chroma_otel_service_name == "/prefix/svc"
    # The environment wins over the file.
    monkeypatch.setenv("CHROMA_SERVER_HTTP_PORT", "9000")
    assert Settings().chroma_server_http_port == chromadb.config.Settings().chroma_server_http_port
    assert Settings().chroma_server_http_port == 9000


def test_require_and_item_access_as_in_chromadb() -> None:
    settings = Settings(allow_reset=True)
    assert settings["allow_reset"] is True
    assert settings.require("allow_reset") is True
    with pytest.raises(ValueError, match=r"^Missing required config value 'chroma_server_host'$"):
        settings.require("chroma_server_host")


def test_assignment_is_not_converted_and_survives_a_copy() -> None:
    settings = Settings()
    settings.persist_directory = None
    settings.chroma_server_http_port = "8000"
    duplicate = settings.copy()
    assert duplicate.persist_directory is None
    assert duplicate.chroma_server_http_port == "8000"


# --------------------------------------------------------------------------- no silent database


def test_a_persistent_setting_without_a_directory_uses_chromadb_default() -> None:
    assert Settings(is_persistent=True).persist_directory == "./chroma"


def test_a_persistent_client_of_no_directory_is_refused(
    no_open_systems: None, unconfigured: Path
) -> None:
    settings = Settings()
    settings.is_persistent = True
    settings.persist_directory = None
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Missing required config value 'persist_directory': a persistent client needs the "
            "directory of its database; set Settings(persist_directory=...) or use "
            "PersistentClient(path=...)"
        ),
    ):
        azurite.Client(settings)
    with pytest.raises(ValueError, match=r"^PersistentClient needs the directory of its database"):
        azurite.PersistentClient(path=None)
    assert list(unconfigured.iterdir()) == []


def test_an_unknown_api_implementation_is_refused_as_chromadb_refuses_it(
    no_open_systems: None,
) -> None:
    message = "Unsupported Chroma API implementation chromadb.api.nothing.Here"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        azurite.Client(Settings(chroma_api_impl="chromadb.api.nothing.Here"))
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        chromadb.Client(chromadb.config.Settings(chroma_api_impl="chromadb.api.nothing.Here"))


def test_the_http_implementation_without_a_server_is_refused(unconfigured: Path) -> None:
    fastapi = "chromadb.api.fastapi.FastAPI"
    with pytest.raises(ValueError, match=r"^Missing required config value 'chroma_server_host'$"):
        azurite.Client(Settings(chroma_api_impl=fastapi))
    with pytest.raises(
        ValueError, match=r"^Missing required config value 'chroma_server_http_port'$"
    ):
        azurite.Client(Settings(chroma_api_impl=fastapi, chroma_server_host="127.0.0.1"))
    assert list(unconfigured.iterdir()) == []


def test_the_asynchronous_http_implementation_needs_the_asynchronous_client() -> None:
    with pytest.raises(ValueError, match=r"await azurite\.AsyncHttpClient\(host, port\)"):
        azurite.Client(
            Settings(
                chroma_api_impl="chromadb.api.async_fastapi.AsyncFastAPI",
                chroma_server_host="127.0.0.1",
                chroma_server_http_port=8000,
            )
        )


def test_chromadb_settings_given_to_a_client_keep_their_values(tmp_path: Path) -> None:
    # Integrations depend on chromadb, so its Settings class is what their code builds even
    # when the client it reaches is Azurite's.
    theirs = chromadb.config.Settings(
        allow_reset=True,
        anonymized_telemetry=False,
        chroma_server_headers={"X-Team": "search"},
        chroma_segment_directory_routing_mode=chromadb.config.RoutingMode.NODE,
    )
    ours = azurite.PersistentClient(str(tmp_path / "data"), settings=theirs).get_settings()
    assert isinstance(ours, Settings)
    for name in chromadb.config.Settings.model_fields:
        if name not in ("is_persistent", "persist_directory"):
            assert typed(getattr(ours, name)) == typed(getattr(theirs, name)), name
    assert ours.is_persistent is True
    assert ours.persist_directory == str(tmp_path / "data")
    assert theirs.is_persistent is False, "the caller's settings are not changed"

    client = azurite.Client(settings=theirs)
    assert client.get_settings().allow_reset is True
    assert client.reset() is True


def test_a_client_refuses_settings_of_another_kind() -> None:
    with pytest.raises(TypeError, match=r"^settings must be a Settings, got dict$"):
        azurite.Client(settings={"allow_reset": True})  # type: ignore[arg-type]
