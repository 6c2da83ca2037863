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
