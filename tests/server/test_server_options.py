"""``azurite run`` options: token authentication, CORS, body size limit, reset refused,
options from environment variables, ``azurite --help`` and ``azurite version``."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import chromadb
import chromadb.errors
import httpx
import pytest

import azurite
import azurite.errors

from .servers import AZURITE, Server, azurite_server, free_port

TOKEN = "s3cret-Token_1"
ORIGIN = "http://app.example"
BODY_LIMIT = 4096
COLLECTIONS = "/api/v2/tenants/default_tenant/databases/default_database/collections"


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("options")


@pytest.fixture(scope="module")
def server(directory: Path) -> Iterator[Server]:
    """A server configured partly by flags and partly by environment variables."""
    with azurite_server(
        directory,
        "--cors-allow-origins",
        ORIGIN,
        env={"AZURITE_AUTH_TOKEN": TOKEN, "AZURITE_MAX_BODY_SIZE": str(BODY_LIMIT)},
    ) as running:
        yield running


@pytest.fixture(scope="module")
def http(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30.0) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_requests_need_the_token(http: httpx.Client) -> None:
    missing = http.get(COLLECTIONS)
    assert (missing.status_code, missing.json()) == (
        401,
        {"error": "AuthError", "message": "Unauthorized"},
    )
    wrong = http.get(COLLECTIONS, headers=bearer("not-the-token"))
    assert (wrong.status_code, wrong.json()) == (
        403,
        {"error": "AuthError", "message": "Forbidden"},
    )
    assert http.get(COLLECTIONS, headers=bearer(TOKEN)).status_code == 200
    assert http.get(COLLECTIONS, headers={"X-Chroma-Token": TOKEN}).status_code == 200
    assert http.get(COLLECTIONS, headers={"X-Chroma-Token": TOKEN + "x"}).status_code == 403


def test_liveness_and_description_stay_open(http: httpx.Client) -> None:
    for path in ("/api/v2/heartbeat", "/api/v2", "/api/v2/version", "/openapi.json", "/docs"):
        assert http.get(path).status_code == 200, path


def test_official_client_with_token_in_either_header(server: Server) -> None:
    for header in ("Authorization", "X-Chroma-Token"):
        settings = chromadb.Settings(
            chroma_client_auth_provider="chromadb.auth.token_authn.TokenAuthClientProvider",
            chroma_client_auth_credentials=TOKEN,
            chroma_auth_token_transport_header=header,
        )
        client = chromadb.HttpClient(host=server.host, port=server.port, settings=settings)
        try:
            name = f"auth-{header.lower()}"
            client.create_collection(name, embedding_function=None).add(
                ids=["a"], embeddings=[[1.0, 2.0]]
            )
            assert client.get_collection(name).count() == 1
        finally:
            client._server._session.close()
            client._admin_client._server._session.close()


def test_refusals_name_the_official_auth_error() -> None:
    # A client that fails at start-up cannot be closed (its socket would leak into later
    # tests), so this checks the mapping the official client applies to the body above.
    assert chromadb.errors.error_types["AuthError"] is chromadb.errors.ChromaAuthError


def test_azurite_client_with_token(server: Server) -> None:
    settings = azurite.Settings(
        chroma_client_auth_provider="chromadb.auth.token_authn.TokenAuthClientProvider",
        chroma_client_auth_credentials=TOKEN,
    )
    with azurite.HttpClient(host=server.host, port=server.port, settings=settings) as client:
        assert client.count_collections() >= 0
    with pytest.raises(azurite.errors.ChromaAuthError):
        azurite.HttpClient(host=server.host, port=server.port)


def test_cors(http: httpx.Client) -> None:
    preflight = http.options(
        COLLECTIONS,
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    allowed = http.get("/api/v2/heartbeat", headers={"Origin": ORIGIN})
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    other = http.get("/api/v2/heartbeat", headers={"Origin": "http://elsewhere.example"})
    assert "access-control-allow-origin" not in other.headers


def test_body_size_limit(http: httpx.Client) -> None:
    collection = http.post(COLLECTIONS, json={"name": "big"}, headers=bearer(TOKEN)).json()
    url = f"{COLLECTIONS}/{collection['id']}/add"
    small = http.post(url, json={"ids": ["a"], "embeddings": [[1.0]]}, headers=bearer(TOKEN))
    assert small.status_code == 201
    large = {"ids": ["b"], "embeddings": [[1.0]], "documents": ["x" * BODY_LIMIT]}
    refused = http.post(url, json=large, headers=bearer(TOKEN))
    assert refused.status_code == 413
    assert refused.json()["error"] == "ChromaError"


def test_reset_is_refused_unless_allowed(http: httpx.Client) -> None:
    refused = http.post("/api/v2/reset", headers=bearer(TOKEN))
    assert (refused.status_code, refused.json()) == (
        403,
        {"error": "ChromaError", "message": "Reset is disabled by config"},
    )


def test_command_line() -> None:
    version = subprocess.run([AZURITE[0], "version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == azurite.__azurite_version__
    usage = subprocess.run([AZURITE[0], "--help"], capture_output=True, text=True, check=True)
    assert "run" in usage.stdout
    run_usage = subprocess.run([*AZURITE, "--help"], capture_output=True, text=True, check=True)
    for option in ("--path", "--host", "--port", "--log-level", "--auth-token", "AZURITE_PORT"):
        assert option in run_usage.stdout


def test_taken_address_is_reported(server: Server) -> None:
    taken = subprocess.run(
        [*AZURITE, "--host", server.host, "--port", str(server.port)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert taken.returncode != 0
    assert f"Address {server.host}:{server.port} is not available" in taken.stderr


def test_a_directory_in_use_is_reported(server: Server, directory: Path) -> None:
    in_use = subprocess.run(
        [
            *AZURITE,
            "--path",
            str(directory / "db"),
            "--host",
            "127.0.0.1",
            "--port",
            str(free_port()),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert in_use.returncode != 0
    assert "already open for writing in another process" in in_use.stderr
    assert "Traceback" not in in_use.stderr
