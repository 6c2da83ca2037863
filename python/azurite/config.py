"""Client settings: every field of ``chromadb.config.Settings`` (chromadb 1.5.9), with its
default, read from the environment and a ``.env`` file and converted to its type as
chromadb's pydantic settings do, plus Azurite's own ``azurite_*`` fields.

Most of Chroma's fields configure parts of Chroma that Azurite does not have (its server,
telemetry, the distributed deployment); they are kept and readable so that code written
for chromadb runs unchanged.
"""

from __future__ import annotations

import codecs
import copy
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

DEFAULT_TENANT = "default_tenant"
DEFAULT_DATABASE = "default_database"
#: The chromadb release whose API Azurite implements: what ``azurite.__version__`` and an
#: embedded client's ``get_version()`` report, as chromadb's do, so code that checks
#: chromadb's version keeps working. Azurite's own version is ``azurite._version``'s.
CHROMA_API_VERSION = "1.5.9"

# The thin HTTP-only client package (``azurite-client``, built from this source without
# the compiled engine and the server) adds the module ``azurite.is_thin_client``, as
# chromadb-client adds ``chromadb.is_thin_client``.
try:
    from azurite.is_thin_client import is_thin_client as is_thin_client  # type: ignore[import-not-found,unused-ignore]
except ImportError:
    is_thin_client = False


class APIVersion(str, Enum):
    V1 = "/api/v1"
    V2 = "/api/v2"


class RoutingMode(Enum):
    """Chroma's routing of a distributed deployment; kept for its setting only."""

    NODE = "node"
    ID = "id"


#: The values of ``chroma_api_impl`` that Azurite serves, by what they select: this
#: process's engine, or Chroma's synchronous or asynchronous HTTP client.
EMBEDDED_API_IMPLS = ("chromadb.api.rust.RustBindingsAPI", "chromadb.api.segment.SegmentAPI")
HTTP_API_IMPL = "chromadb.api.fastapi.FastAPI"
ASYNC_HTTP_API_IMPL = "chromadb.api.async_fastapi.AsyncFastAPI"
#: chromadb-client's refusal of any other ``chroma_api_impl`` (a local database), word for
#: word: the run of spaces comes from a line continuation inside chromadb's literal.
HTTP_ONLY_CLIENT_ERROR = "Chroma is running in http-only client mode, and can only be run with 'chromadb.api.fastapi.FastAPI' or 'chromadb.api.async_fastapi.AsyncFastAPI' as the chroma_api_impl.             see https://docs.trychroma.com/guides#using-the-python-http-only-client for more information."

_TRUE = {"1", "true", "yes", "on", "t", "y"}
_FALSE = {"0", "false", "no", "off", "f", "n"}
#: A decimal number with a zero fraction, which pydantic accepts for an integer.
_INTEGRAL = re.compile(r"[+-]?[0-9_]+\.0*")


class _Invalid(ValueError):
    """A value a field does not accept; the message says what it expects."""


# ---- converters: the value of a field (given, or a string from the environment) to its
# type, with pydantic's lax rules as chromadb's Settings applies them


Converter = Callable[[Any], Any]


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise _Invalid("a string")


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
    raise _Invalid("a boolean (true/false, 1/0, yes/no, on/off)")


def _integer(value: Any) -> int:
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if _INTEGRAL.fullmatch(text):
            text = text.split(".")[0]
        try:
            return int(text)
        except ValueError:
            pass
    raise _Invalid("an integer")


def _number(value: Any) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise _Invalid("a number")


def _optional(convert: Converter) -> Converter:
    def optional(value: Any) -> Any:
        return None if value is None else convert(value)

    return optional


def _optional_integer(value: Any) -> int | None:
    # chromadb reads an empty chroma_server_nofile as unset.
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _integer(value)


def _ssl_verify(value: Any) -> bool | str | None:
    # A string stays a string (a CA bundle path, or even "false"), as in chromadb.
    if value is None or isinstance(value, (bool, str)):
        return value
    return _boolean(value)


def _choice(*choices: Any) -> Converter:
    """One of ``choices``: strings, or the members of one enum (given or by value)."""

    def choice(value: Any) -> Any:
        for option in choices:
            if value == option or (isinstance(option, Enum) and value == option.value):
                return option
        names = [repr(c.value if isinstance(c, Enum) else c) for c in choices]
        raise _Invalid(", ".join(names[:-1]) + " or " + names[-1])

    return choice


def _strings(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    raise _Invalid("a list of strings")


def _headers(value: Any) -> dict[str, str]:
    if isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        return dict(value)
    raise _Invalid("a dictionary of strings to strings")


def _paths(value: Any) -> dict[str, list[str]]:
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        try:
            return {k: _strings(v) for k, v in value.items()}
        except _Invalid:
            pass
    raise _Invalid("a dictionary of strings to lists of strings")


@dataclass(frozen=True)
class _Field:
    default: Any
    convert: Converter
    #: Read from the environment as JSON (chromadb's lists and dictionaries).
    from_json: bool = False


_PRODUCT_TELEMETRY_IMPL = "chromadb.telemetry.product.posthog.Posthog"

_FIELDS: dict[str, _Field] = {
    # ---- chromadb 1.5.9, in the order of its Settings
    "environment": _Field("", _text),
    "chroma_api_impl": _Field(EMBEDDED_API_IMPLS[0], _text),
    "chroma_server_nofile": _Field(None, _optional_integer),
    "chroma_server_thread_pool_size": _Field(40, _integer),
    "tenant_id": _Field("default", _text),
    "topic_namespace": _Field("default", _text),
    "chroma_server_host": _Field(None, _optional(_text)),
    "chroma_server_headers": _Field(None, _optional(_headers), from_json=True),
    "chroma_server_http_port": _Field(None, _optional(_integer)),
    "chroma_server_ssl_enabled": _Field(False, _optional(_boolean)),
    "chroma_server_ssl_verify": _Field(None, _ssl_verify),
    "chroma_server_api_default_path": _Field(
        APIVersion.V2, _optional(_choice(APIVersion.V1, APIVersion.V2))
    ),
    "chroma_server_cors_allow_origins": _Field([], _strings, from_json=True),
    "chroma_http_keepalive_secs": _Field(40.0, _optional(_number)),
    "chroma_http_max_connections": _Field(None, _optional(_integer)),
    "chroma_http_max_keepalive_connections": _Field(None, _optional(_integer)),
    "is_persistent": _Field(False, _boolean),
    "persist_directory": _Field("./chroma", _text),
    "chroma_memory_limit_bytes": _Field(0, _integer),
    "chroma_segment_cache_policy": _Field(None, _optional(_text)),
    "allow_reset": _Field(False, _boolean),
    "chroma_auth_token_transport_header": _Field(None, _optional(_text)),
    "chroma_client_auth_provider": _Field(None, _optional(_text)),
    "chroma_client_auth_credentials": _Field(None, _optional(_text)),
    # The keys are spelled as chromadb spells them (an f-string of the enum member).
    "chroma_server_auth_ignore_paths": _Field(
        {
            f"{APIVersion.V2}": ["GET"],
            f"{APIVersion.V2}/heartbeat": ["GET"],
            f"{APIVersion.V2}/version": ["GET"],
            f"{APIVersion.V1}": ["GET"],
            f"{APIVersion.V1}/heartbeat": ["GET"],
            f"{APIVersion.V1}/version": ["GET"],
        },
        _paths,
        from_json=True,
    ),
    "chroma_overwrite_singleton_tenant_database_access_from_auth": _Field(False, _boolean),
    "chroma_server_authn_provider": _Field(None, _optional(_text)),
    "chroma_server_authn_credentials": _Field(None, _optional(_text)),
    "chroma_server_authn_credentials_file": _Field(None, _optional(_text)),
    "chroma_server_authz_provider": _Field(None, _optional(_text)),
    "chroma_server_authz_config": _Field(None, _optional(_text)),
    "chroma_server_authz_config_file": _Field(None, _optional(_text)),
    "chroma_product_telemetry_impl": _Field(_PRODUCT_TELEMETRY_IMPL, _text),
    "chroma_telemetry_impl": _Field(_PRODUCT_TELEMETRY_IMPL, _text),
    # Azurite sends no telemetry whatever this says.
    "anonymized_telemetry": _Field(True, _boolean),
    "chroma_otel_collection_endpoint": _Field("", _optional(_text)),
    "chroma_otel_service_name": _Field("chromadb", _optional(_text)),
    "chroma_otel_collection_headers": _Field({}, _headers, from_json=True),
    "chroma_otel_granularity": _Field(None, _optional(_text)),
    "migrations": _Field("apply", _choice("none", "validate", "apply")),
    "migrations_hash_algorithm": _Field("md5", _choice("md5", "sha256")),
    "chroma_segment_directory_impl": _Field(
        "chromadb.segment.impl.distributed.segment_directory.RendezvousHashSegmentDirectory",
        _text,
    ),
    "chroma_segment_directory_routing_mode": _Field(
        RoutingMode.ID, _choice(RoutingMode.NODE, RoutingMode.ID)
    ),
    "chroma_memberlist_provider_impl": _Field(
        "chromadb.segment.impl.distributed.segment_directory.CustomResourceMemberlistProvider",
        _text,
    ),
    "worker_memberlist_name": _Field("query-service-memberlist", _text),
    "chroma_coordinator_host": _Field("localhost", _text),
    "chroma_server_grpc_port": _Field(None, _optional(_integer)),
    "chroma_sysdb_impl": _Field("chromadb.db.impl.sqlite.SqliteDB", _text),
    "chroma_producer_impl": _Field("chromadb.db.impl.sqlite.SqliteDB", _text),
    "chroma_consumer_impl": _Field("chromadb.db.impl.sqlite.SqliteDB", _text),
    "chroma_segment_manager_impl": _Field(
        "chromadb.segment.impl.manager.local.LocalSegmentManager", _text
    ),
    "chroma_executor_impl": _Field("chromadb.execution.executor.local.LocalExecutor", _text),
    "chroma_query_replication_factor": _Field(2, _integer),
    "chroma_logservice_host": _Field("localhost", _text),
    "chroma_logservice_port": _Field(50052, _integer),
    "chroma_quota_provider_impl": _Field(None, _optional(_text)),
    "chroma_rate_limiting_provider_impl": _Field(None, _optional(_text)),
    "chroma_quota_enforcer_impl": _Field(
        "chromadb.quota.simple_quota_enforcer.SimpleQuotaEnforcer", _text
    ),
    "chroma_rate_limit_enforcer_impl": _Field(
        "chromadb.rate_limit.simple_rate_limit.SimpleRateLimitEnforcer", _text
    ),
    "chroma_async_rate_limit_enforcer_impl": _Field(
        "chromadb.rate_limit.simple_rate_limit.SimpleAsyncRateLimitEnforcer", _text
    ),
    "chroma_logservice_request_timeout_seconds": _Field(3, _integer),
    "chroma_sysdb_request_timeout_seconds": _Field(3, _integer),
    "chroma_query_request_timeout_seconds": _Field(60, _integer),
    "chroma_db_impl": _Field(None, _optional(_text)),
    "chroma_collection_assignment_policy_impl": _Field(
        "chromadb.ingest.impl.simple_policy.SimpleAssignmentPolicy", _text
    ),
    # ---- Azurite's own
    # "process" survives a crash of the process; "full" also syncs every write to disk so
    # that it survives power loss, at a cost per write.
    "azurite_durability": _Field("process", _choice("process", "full")),
    # Open an existing database directory for reading while another process writes to it:
    # the client sees what was committed when it opened, and refuses writes.
    "azurite_read_only": _Field(False, _boolean),
}

#: Every known setting with its default.
DEFAULTS: dict[str, Any] = {name: field.default for name, field in _FIELDS.items()}

LEGACY_ERROR = (
    "chroma_db_impl is a configuration of Chroma 0.3 that is no longer supported. "
    "Create clients with azurite.PersistentClient(path) or azurite.EphemeralClient()."
)


# ---- the .env file, read as python-dotenv reads it for chromadb's pydantic settings

_DOTENV = {
    "whitespace_lines": re.compile(r"\s*", re.MULTILINE),
    "export": re.compile(r"(?:export[^\S\r\n]+)?"),
    "quoted_key": re.compile(r"'([^']+)'"),
    "key": re.compile(r"([^=\#\s]+)"),
    "blank": re.compile(r"[^\S\r\n]*"),
    "equals": re.compile(r"(=[^\S\r\n]*)"),
    "single_quoted": re.compile(r"'((?:\\.|[^'\\])*)'", re.DOTALL),
    "double_quoted": re.compile(r'"((?:\\.|[^"\\])*)"', re.DOTALL),
    "unquoted": re.compile(r"([^\r\n]*)"),
    "comment": re.compile(r"(?:[^\S\r\n]*#[^\r\n]*)?"),
    "end_of_line": re.compile(r"[^\S\r\n]*(?:\r\n|\n|\r|$)"),
    "rest_of_line": re.compile(r"[^\r\n]*(?:\r|\n|\r\n)?"),
}
_DOUBLE_QUOTE_ESCAPES = re.compile(r"\\[\\'\"abfnrtv]")
_SINGLE_QUOTE_ESCAPES = re.compile(r"\\[\\']")
_VARIABLE = re.compile(r"\$\{(?P<name>[^\}:]*)(?::-(?P<default>[^\}]*))?\}")


def _unescape(escapes: re.Pattern[str], text: str) -> str:
    return escapes.sub(lambda m: codecs.decode(m.group(0), "unicode-escape"), text)


class _DotenvReader:
    def __init__(self, text: str) -> None:
        self.text = text.removeprefix("\ufeff")
        self.at = 0

    def read(self, pattern: str) -> str | None:
        match = _DOTENV[pattern].match(self.text, self.at)
        if match is None:
            raise _Invalid(pattern)
        self.at = match.end()
        return match.group(1) if match.groups() else None

    def peek(self) -> str:
        return self.text[self.at : self.at + 1]

    def binding(self) -> tuple[str, str | None] | None:
        """The next ``KEY=value`` (value ``None`` for a bare key), or None for a blank
        or unreadable line."""
        start = self.at
        try:
            self.read("whitespace_lines")
            if self.at >= len(self.text):
                return None
            self.read("export")
            if self.peek() == "#":
                key = None
            else:
                key = self.read("quoted_key" if self.peek() == "'" else "key")
            self.read("blank")
            value: str | None = None
            if self.peek() == "=":
                equals = self.read("equals") or ""
                # `KEY= # note` is empty; `KEY=#x` is "#x".
                value = "" if len(equals) > 1 and self.peek() == "#" else self.value()
            self.read("comment")
            self.read("end_of_line")
            return None if key is None else (key, value)
        except _Invalid:
            self.at = start
            self.read("rest_of_line")
            return None

    def value(self) -> str:
        quote = self.peek()
        if quote == "'":
            return _unescape(_SINGLE_QUOTE_ESCAPES, self.read("single_quoted") or "")
        if quote == '"':
            return _unescape(_DOUBLE_QUOTE_ESCAPES, self.read("double_quoted") or "")
        if quote in ("", "\n", "\r"):
            return ""
        return re.sub(r"\s+#.*", "", self.read("unquoted") or "").rstrip()


def _read_dotenv(path: str | os.PathLike[str]) -> dict[str, str | None]:
    """The variables of a ``.env`` file, ``${NAME}`` / ``${NAME:-default}`` expanded from
    the environment and the file's earlier lines; keys as written."""
    with open(path, encoding="utf-8") as file:
        reader = _DotenvReader(file.read())
    values: dict[str, str | None] = {}
    while reader.at < len(reader.text):
        binding = reader.binding()
        if binding is None:
            continue
        key, value = binding
        if value is not None:
            known = {**os.environ, **values}

            def expand(match: re.Match[str], known: dict[str, str | None] = known) -> str:
                found = known.get(match["name"], match["default"] or "")
                return found if found is not None else ""

            value = _VARIABLE.sub(expand, value)
        values[key] = value
    return values


# ---- Settings


def _configured() -> dict[str, tuple[str, str]]:
    """The settings' values configured outside the code, by field: the environment's
    (any case), else the ``.env`` file's of the working directory. Each with where it
    came from, for errors."""
    found: dict[str, tuple[str, str]] = {}
    if os.path.isfile(".env"):
        for key, value in _read_dotenv(".env").items():
            if value is not None:
                found[key.lower()] = (value, f"{key} in .env")
    for key, value in os.environ.items():
        found[key.lower()] = (value, f"the environment variable {key}")
    return found


def _converted(name: str, value: Any, origin: str | None) -> Any:
    field = _FIELDS[name]
    try:
        if origin is not None and field.from_json:
            try:
                value = json.loads(value)
            except ValueError:
                raise _Invalid("JSON") from None
            # A JSON null configures nothing, as in chromadb.
            if value is None:
                return copy.deepcopy(field.default)
        return field.convert(value)
    except _Invalid as expected:
        source = f" (from {origin})" if origin else ""
        raise ValueError(f"{name} must be {expected}, got {value!r}{source}") from None


class Settings:
    """Configuration of a client: ``Settings(allow_reset=True)`` and so on.

    A field not given takes its value from the environment variable of its name in any
    case (``ALLOW_RESET=true``), else from a ``.env`` file in the working directory, else
    its default; given and configured values are converted to the field's type. Other
    names are kept as given. Assigning to a field afterwards stores the value as is."""

    def __init__(self, **overrides: Any) -> None:
        values: dict[str, Any] = {}
        configured = _configured()
        for name, field in _FIELDS.items():
            if name in overrides:
                values[name] = _converted(name, overrides[name], None)
                continue
            value = field.default
            if name in configured:
                text, origin = configured[name]
                value = _converted(name, text, origin)
            values[name] = copy.deepcopy(value)
        values.update((k, v) for k, v in overrides.items() if k not in _FIELDS)
        if values["chroma_db_impl"] is not None:
            raise ValueError(LEGACY_ERROR)
        self.__dict__["_values"] = values

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["_values"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self._values[name] = value

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    def require(self, key: str) -> Any:
        """The value of ``key``; a ValueError if it is not set."""
        value = self[key]
        if value is None:
            raise ValueError(f"Missing required config value '{key}'")
        return value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Settings) and self._values == other._values

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._values)))

    def __repr__(self) -> str:
        changed = {k: v for k, v in self._values.items() if DEFAULTS.get(k, object()) != v}
        return f"Settings({', '.join(f'{k}={v!r}' for k, v in changed.items())})"

    def copy(self) -> Settings:
        """The same values, assigned ones included, without reading the environment."""
        duplicate = Settings.__new__(Settings)
        duplicate.__dict__["_values"] = copy.deepcopy(self._values)
        return duplicate


def as_settings(settings: object | None) -> Settings:
    """The settings a client is built with: ``settings`` itself, defaults for ``None``, or
    the values of chromadb's own ``Settings`` object. Code running where both packages are
    installed (every integration that depends on chromadb) builds chromadb's Settings and
    hands them to whichever client it gets."""
    if settings is None:
        return Settings()
    if isinstance(settings, Settings):
        return settings
    if hasattr(settings, "chroma_api_impl"):
        # chromadb's enum members become their values, which Azurite's fields convert.
        return Settings(
            **{
                name: value.value if isinstance(value, Enum) else value
                for name in _FIELDS
                if hasattr(settings, name)
                for value in [getattr(settings, name)]
            }
        )
    raise TypeError(f"settings must be a Settings, got {type(settings).__name__}")
