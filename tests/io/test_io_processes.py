"""Export and import as whole processes: memory that does not grow with the collection,
an import killed halfway that leaves the database unchanged, and the CLI end to end."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from records_support import all_records, edge_records

import azurite

WORKER = Path(__file__).with_name("io_worker.py")
SMALL, LARGE, DIMENSION, DOCUMENT = 5_000, 40_000, 16, 4_000
#: What the large collection's documents add over the small one's, in KiB (134 MiB): what
#: a process holding the whole collection or file at once grows by at the least.
ADDED_KIB = (LARGE - SMALL) * DOCUMENT // 1024
#: The most the growth may differ between the two sizes: half of that. Pyarrow's and the
#: allocator's pools make a process's peak vary by some 25 MiB from run to run.
BOUND_KIB = ADDED_KIB // 2


def worker(*arguments: object) -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, str(WORKER), *map(str, arguments)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.fixture(scope="module")
def two_sizes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with a collection of SMALL and one of LARGE records."""
    path = tmp_path_factory.mktemp("sizes") / "db"
    worker("fill", path, "small", SMALL, DIMENSION, DOCUMENT)
    worker("fill", path, "large", LARGE, DIMENSION, DOCUMENT)
    return path


@pytest.mark.parametrize("suffix", [".parquet", ".arrow", ".jsonl"])
def test_export_memory_does_not_grow_with_the_collection(
    two_sizes: Path, tmp_path: Path, suffix: str
) -> None:
    growth = {}
    for name in ("small", "large"):
        (report,) = worker("export", two_sizes, name, tmp_path / f"{name}{suffix}", 500)
        growth[name] = report["growth_kib"]
    # Eight times the records: the export's own memory does not follow.
    assert growth["large"] - growth["small"] < BOUND_KIB, growth
    # The same measure sees a whole-collection read grow by more than the data added.
    whole = {name: worker("whole", two_sizes, name)[0]["growth_kib"] for name in ("small", "large")}
    assert whole["large"] - whole["small"] > ADDED_KIB, whole


def test_import_reads_in_memory_that_does_not_grow_with_the_file(
    two_sizes: Path, tmp_path: Path
) -> None:
    # The import's own part: reading the file and converting its batches into the
    # engine's columns. (What the engine then holds of the staged records is the
    # collection's own memory, as for any write.)
    growth, whole = {}, {}
    for name in ("small", "large"):
        file = tmp_path / f"{name}.parquet"
        worker("export", two_sizes, name, file, 500)
        growth[name] = worker("read", "-", file, 500)[0]["growth_kib"]
        whole[name] = worker("read-whole", "-", file)[0]["growth_kib"]
    assert growth["large"] - growth["small"] < BOUND_KIB, growth
    assert whole["large"] - whole["small"] > ADDED_KIB, whole


def kill_halfway(database: Path, file: Path, name: str, mode: str) -> None:
    process = subprocess.Popen(
        [sys.executable, str(WORKER), "import", str(database), str(file), name, mode, "500"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert process.stdout is not None
    try:
        for line in process.stdout:
            if json.loads(line).get("imported", 0) >= LARGE // 2:
                break
        else:
            raise AssertionError("the import ended before it was killed")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stdout.close()
    assert process.returncode == -signal.SIGKILL


@pytest.fixture
def killable(tmp_path: Path, two_sizes: Path) -> Iterator[tuple[Path, Path]]:
    """A database holding a target of edge records, and a large file to import."""
    file = tmp_path / "large.jsonl"
    worker("export", two_sizes, "large", file, 1000)
    database = tmp_path / "db"
    client = azurite.PersistentClient(path=str(database))
    target = client.create_collection("target", embedding_function=None)
    target.add(**edge_records(dimension=DIMENSION))
    client.close()
    azurite.SharedSystemClient.clear_system_cache()
    yield database, file
    azurite.SharedSystemClient.clear_system_cache()


def test_an_import_killed_halfway_leaves_the_database_unchanged(
    killable: tuple[Path, Path],
) -> None:
    database, file = killable
    client = azurite.PersistentClient(path=str(database))
    target_before = all_records(client.get_collection("target"))
    client.close()
    azurite.SharedSystemClient.clear_system_cache()
    kill_halfway(database, file, "target", "upsert")
    kill_halfway(database, file, "new-target", "create")
    client = azurite.PersistentClient(path=str(database))
    assert [c.name for c in client.list_collections()] == ["target"]
    assert all_records(client.get_collection("target")) == target_before
    client.close()


def cli(*arguments: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "azurite.cli", *map(str, arguments)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )


def test_the_cli_exports_and_imports(tmp_path: Path) -> None:
    source, copy = tmp_path / "source", tmp_path / "copy"
    client = azurite.PersistentClient(path=str(source))
    for name in ("first", "second"):
        client.create_collection(name, embedding_function=None).add(**edge_records())
    expected = all_records(client.get_collection("first"))
    client.close()
    azurite.SharedSystemClient.clear_system_cache()

    exported = cli(
        "export", "--path", source, "--collection", "first", "--to", tmp_path / "first.parquet"
    )
    assert exported.returncode == 0, exported.stderr
    assert "Exported 18 records of first" in exported.stderr
    everything = cli(
        "export", "--path", source, "--all", "--to", tmp_path / "all", "--format", "jsonl"
    )
    assert everything.returncode == 0, everything.stderr
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == ["first.jsonl", "second.jsonl"]

    copy.mkdir()
    imported = cli("import", "--path", copy, tmp_path / "first.parquet")
    assert imported.returncode == 0, imported.stderr
    again = cli(
        "import",
        "--path",
        copy,
        tmp_path / "all" / "second.jsonl",
        "--collection",
        "first",
        "--mode",
        "upsert",
    )
    assert again.returncode == 0, again.stderr
    client = azurite.PersistentClient(path=str(copy))
    assert all_records(client.get_collection("first")) == expected
    client.close()
    azurite.SharedSystemClient.clear_system_cache()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ("export", "--path", "{db}", "--collection", "missing", "--to", "{tmp}/x.parquet"),
            "Collection [missing] does not exist",
        ),
        (
            ("export", "--path", "{tmp}/nowhere", "--collection", "c", "--to", "{tmp}/x.parquet"),
            "no database at",
        ),
        (
            ("export", "--path", "{db}", "--collection", "first", "--to", "{tmp}/x.csv"),
            "Cannot tell the format",
        ),
        (("import", "--path", "{db}", "{tmp}/absent.parquet"), "absent.parquet: no such file"),
        (("import", "--path", "{db}", "{tmp}/first.parquet"), "Collection [first] already exists"),
    ],
)
def test_cli_mistakes_are_one_line_and_status_1(
    tmp_path: Path, arguments: tuple[str, ...], message: str
) -> None:
    database = tmp_path / "db"
    client = azurite.PersistentClient(path=str(database))
    client.create_collection("first", embedding_function=None).add(ids=["a"], embeddings=[[1.0]])
    client.close()
    azurite.SharedSystemClient.clear_system_cache()
    assert (
        cli(
            "export",
            "--path",
            database,
            "--collection",
            "first",
            "--to",
            tmp_path / "first.parquet",
        ).returncode
        == 0
    )
    done = cli(*(a.format(db=database, tmp=tmp_path) for a in arguments))
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("azurite ")]
    assert len(errors) == 1 and errors[0].startswith(f"azurite {arguments[0]}: "), done.stderr
    assert message in errors[0] and "Traceback" not in done.stderr
