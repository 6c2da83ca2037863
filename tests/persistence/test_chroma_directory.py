"""A directory that chromadb wrote is refused, by the client, the server and repair, with
an error that says what it is and how to bring its data over, and nothing is created in
it: Azurite's files beside ``chroma.sqlite3`` would show an empty database instead of the
user's collections."""

from __future__ import annotations

import hashlib
import shlex
import subprocess
import sys
from pathlib import Path

import chromadb
import pytest

import azurite
from azurite.errors import InvalidArgumentError

AZURITE = str(Path(sys.executable).parent / "azurite")


@pytest.fixture
def chroma_directory(tmp_path: Path) -> Path:
    """A persistent directory written by chromadb 1.5.9, with one collection."""
    path = tmp_path / "chroma"
    client = chromadb.PersistentClient(
        path=str(path), settings=chromadb.Settings(anonymized_telemetry=False)
    )
    collection = client.create_collection("notes", embedding_function=None)
    collection.add(
        ids=[f"n{i}" for i in range(20)], embeddings=[[float(i), 1.0] for i in range(20)]
    )
    chromadb.api.client.SharedSystemClient.clear_system_cache()
    assert (path / "chroma.sqlite3").is_file()
    return path


def contents(directory: Path) -> dict[str, str]:
    """Every file and folder under ``directory``, with a digest of each file's bytes."""
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        if p.is_file()
        else "folder"
        for p in sorted(directory.rglob("*"))
    }


def refusal(directory: Path) -> str:
    return (
        f"{directory} is a Chroma database directory (it holds chroma.sqlite3): Azurite does not "
        "open a Chroma directory in place, and has not changed anything in it. To bring its "
        f"collections over, run `azurite import-chroma --from {shlex.quote(str(directory))} "
        "--path <new dir>`, which copies them into an Azurite database in a directory of its "
        "own."
    )


@pytest.mark.parametrize(
    "settings",
    [azurite.Settings(), azurite.Settings(azurite_read_only=True)],
    ids=["writable", "read-only"],
)
def test_persistent_client_refuses_a_chroma_directory(
    no_open_systems: None, chroma_directory: Path, settings: azurite.Settings
) -> None:
    before = contents(chroma_directory)
    with pytest.raises(InvalidArgumentError) as refused:
        azurite.PersistentClient(chroma_directory, settings=settings)
    assert str(refused.value) == refusal(chroma_directory)
    assert contents(chroma_directory) == before


def test_the_server_refuses_a_chroma_directory(chroma_directory: Path) -> None:
    before = contents(chroma_directory)
    command = [
        AZURITE,
        "run",
        "--path",
        str(chroma_directory),
        "--host",
        "127.0.0.1",
        "--port",
        "0",
    ]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert finished.returncode == 1
    assert finished.stderr.strip() == f"Cannot open {chroma_directory}: {refusal(chroma_directory)}"
    assert contents(chroma_directory) == before


def test_repair_refuses_a_chroma_directory(chroma_directory: Path) -> None:
    before = contents(chroma_directory)
    command = [AZURITE, "repair", "--path", str(chroma_directory)]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert finished.returncode == 1
    assert finished.stderr.strip() == (
        f"Could not repair {chroma_directory}: {refusal(chroma_directory)}"
    )
    assert contents(chroma_directory) == before
