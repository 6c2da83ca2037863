"""A chromadb directory written by chromadb 1.5.9 itself (in a subprocess, so that chromadb
has closed it), and helpers to compare what chromadb and Azurite return."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import azurite

from .write_chroma_directory import API_KEY_VARIABLE

WRITER = Path(__file__).with_name("write_chroma_directory.py")
INCLUDE = ["embeddings", "documents", "metadatas", "uris"]


def write_chroma_directory(path: Path, records: int = 300) -> Path:
    subprocess.run([sys.executable, str(WRITER), str(path), str(records)], check=True)
    return path


def tree_digest(path: Path) -> dict[str, str]:
    """Every file under ``path`` with a digest of its bytes, and its mode and mtime."""
    found = {}
    for root, _, files in os.walk(path):
        for name in files:
            file = Path(root, name)
            stat = file.stat()
            digest = hashlib.sha256(file.read_bytes()).hexdigest()
            found[str(file.relative_to(path))] = f"{digest} {stat.st_mode} {stat.st_mtime_ns}"
    return found


def typed(value: Any) -> Any:
    """A value with its type made part of it, so that 1, 1.0 and True compare unequal."""
    if isinstance(value, dict):
        return {k: typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [typed(v) for v in value]
    return (type(value).__name__, value)


def visible_collections(target: Path) -> dict[str, int]:
    """Every collection of an Azurite directory and its count, the client closed after."""
    client = azurite.PersistentClient(str(target))
    admin = azurite.AdminClient(azurite.Settings(is_persistent=True, persist_directory=str(target)))
    found = {}
    for tenant in ("default_tenant", "team_tenant"):
        try:
            databases = admin.list_databases(tenant=tenant)
        except azurite.errors.NotFoundError:
            continue
        for database in databases:
            client.set_tenant(tenant, database["name"])
            for collection in client.list_collections():
                found[f"{tenant}/{database['name']}/{collection.name}"] = collection.count()
    azurite.api.client.SharedSystemClient.clear_system_cache()
    return found


@pytest.fixture(autouse=True)
def registered_function_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both clients build the registered function from its configuration when they open
    its collection: it needs its API key variable, never a real key."""
    monkeypatch.setenv(API_KEY_VARIABLE, "not-a-key")


@pytest.fixture(scope="package")
def chroma_written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_chroma_directory(tmp_path_factory.mktemp("written") / "chroma")


@pytest.fixture
def chroma_dir(chroma_written: Path, tmp_path: Path) -> Path:
    """A copy of the directory for one test, which it may import or damage."""
    copy = tmp_path / "chroma"
    shutil.copytree(chroma_written, copy)
    return copy


@pytest.fixture(scope="package")
def chroma_reference(chroma_written: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy that chromadb's own client reads (opening it may write to it)."""
    copy = tmp_path_factory.mktemp("reference") / "chroma"
    shutil.copytree(chroma_written, copy)
    return copy
