"""The thin HTTP-only client package (``clients/python``, azurite-client): built into a
wheel, installed with only its declared dependencies into a fresh virtual environment,
and used there against a real ``azurite run`` of the full package.

The wheel and the environment are made once per module (a few seconds with pip's cache;
the dependencies come from the package index). Each check runs ``session.py`` with the
environment's interpreter, which prints its observations as JSON.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import venv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import chromadb
import chromadb.api.types
import chromadb.config
import pytest
from server.servers import Server, azurite_server

import azurite
import azurite._core
from azurite.config import HTTP_ONLY_CLIENT_ERROR

REPOSITORY = Path(__file__).resolve().parents[2]
THIN_PROJECT = REPOSITORY / "clients" / "python"
SESSION = Path(__file__).with_name("session.py")
#: The environment's own interpreter must not see the full package of the test run.
HIDDEN_VARIABLES = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV")
ONNXRUNTIME_MISSING = (
    "The onnxruntime python package is not installed. Please install it with "
    "`pip install onnxruntime`"
)


def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, **kwargs)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def thin_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The interpreter of a fresh environment holding azurite-client and its dependencies."""
    work = tmp_path_factory.mktemp("thin")
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(work), str(THIN_PROJECT)])
    (wheel,) = work.glob("azurite_client-*.whl")
    venv.create(work / "venv", with_pip=False)
    python = work / "venv" / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", str(wheel)])
    return python


def observe(python: Path, what: str, server: Server | None = None) -> Any:
    """What ``session.py`` observes in the thin environment."""
    env = {k: v for k, v in os.environ.items() if k not in HIDDEN_VARIABLES}
    env["PYTHONNOUSERSITE"] = "1"
    address = [server.host, str(server.port)] if server else []
    result = run([str(python), str(SESSION), what, *address], env=env, cwd=SESSION.parent)
    return json.loads(result.stdout)


def observe_full_package(what: str, server: Server) -> Any:
    """What ``session.py`` observes with the full package of this test run."""
    result = run([sys.executable, str(SESSION), what, server.host, str(server.port)])
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``azurite run`` of the full package (the one under test)."""
    with azurite_server(tmp_path_factory.mktemp("server")) as running:
        yield running


def test_the_package_is_azurite_without_engine_server_or_onnxruntime(thin_python: Path) -> None:
    seen = observe(thin_python, "contents")
    assert Path(seen["file"]).is_relative_to(thin_python.parent.parent)
    assert seen["importable"] == {
        "azurite._core": False,
        "azurite.server": False,
        "azurite.cli": False,
        "onnxruntime": False,
        "tokenizers": False,
    }
    assert seen["is_thin_client"] is True
    assert sorted(seen["requires"]) == [
        "httpx>=0.27",
        "numpy>=1.22",
        "orjson>=3.9",
        "tenacity>=8.2",
    ]
    assert seen["missing_names"] == []
    assert seen["version"] == azurite.__version__ == "1.5.9"
    assert seen["azurite_version"] == seen["distribution_version"] == azurite.__azurite_version__


def test_both_packages_have_the_workspace_version() -> None:
    """azurite/_version.py (read by both packages) is the Rust workspace's version, which
    the compiled engine and the full wheel carry."""
    cargo = (REPOSITORY / "Cargo.toml").read_text(encoding="utf-8")
    found = re.search(r'^\[workspace\.package\]\n(?:.*\n)*?version = "([^"]+)"', cargo, re.M)
    assert found is not None
    assert azurite.__azurite_version__ == found.group(1) == azurite._core.__version__


def test_local_clients_are_refused_as_chromadb_client_refuses_them(
    thin_python: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # chromadb-client is chromadb with its is_thin_client flag set: its refusal, seen here.
    monkeypatch.setattr(chromadb.config, "is_thin_client", True)
    with pytest.raises(RuntimeError) as chromadb_refusal:
        chromadb.EphemeralClient()
    assert str(chromadb_refusal.value) == HTTP_ONLY_CLIENT_ERROR

    seen = observe(thin_python, "local-clients")
    refusal = ["RuntimeError", HTTP_ONLY_CLIENT_ERROR]
    assert seen == {
        "PersistentClient": refusal,
        "EphemeralClient": refusal,
        "Client": refusal,
        "RustClient": refusal,
        "AdminClient": refusal,
        "path_created": False,
    }


def test_a_client_session_against_azurite_run(thin_python: Path, server: Server) -> None:
    seen = observe(thin_python, "sync", server)
    assert seen == observe_full_package("sync", server)
    assert seen["heartbeat"] is True
    assert seen["count"] == 3
    assert seen["query_ids"] == [["a", "b"]]
    assert seen["get"]["ids"] == ["b", "d"]
    assert seen["get"]["documents"] == ["beta 2", "delta"]
    assert seen["get"]["metadatas"] == [{"n": 20}, None]
    assert seen["count_after_delete"] == 3
    assert seen["collections"] == ["thin"]
    assert seen["missing_collection"] == ["NotFoundError", "Collection [nope] does not exist"]
    assert seen["duplicate_collection"] == [
        "AlreadyExistsError",
        "Collection [thin] already exists",
    ]
    assert seen["wrong_dimension"] == [
        "InvalidArgumentError",
        "Collection expecting embedding with dimension of 2, got 3",
    ]
    assert seen["not_found_is_chroma_error"] is True
    assert seen["database"] == "thin_db"
    assert seen["other_database_collections"] == []


def test_an_async_client_session_against_azurite_run(thin_python: Path, server: Server) -> None:
    seen = observe(thin_python, "async", server)
    assert seen == observe_full_package("async", server)
    assert seen == {
        "count": 2,
        "query_ids": [["x"]],
        "ids_after_delete": ["y"],
        "missing_collection": ["NotFoundError", "Collection [nope] does not exist"],
    }


def test_the_default_embedding_function_asks_for_onnxruntime(
    thin_python: Path, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    # chromadb-client: chromadb in thin mode, where onnxruntime cannot be imported.
    monkeypatch.setattr(chromadb.api.types, "is_thin_client", True)
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    client = chromadb.HttpClient(server.host, server.port)
    try:
        collection = client.create_collection("chromadb")
        with pytest.raises(ValueError) as chromadb_error:
            collection.add(ids=["a"], documents=["text"])
    finally:
        # chromadb 1.5.9 never closes its clients' HTTP sessions itself.
        for owner in (client, client._admin_client):
            owner._server._session.close()
    assert str(chromadb_error.value) == f"{ONNXRUNTIME_MISSING} in add."

    seen = observe(thin_python, "default-embedding-function", server)
    assert seen == {
        "function": "DefaultEmbeddingFunction",
        "add_documents": ["ValueError", str(chromadb_error.value)],
        "count": 0,
    }
