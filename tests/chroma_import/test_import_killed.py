"""An import killed with SIGKILL at any point of its writes leaves the target as it was:
staged collections are invisible until the one publish at the end, and the next open drops
them; the same import then runs again and succeeds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import azurite
from azurite.io.chroma import import_chroma

from .conftest import visible_collections

IMPORTER = """
import sys
from azurite.io.chroma import import_chroma

def progress(collection, written):
    print(collection.name, written, flush=True)

import_chroma(sys.argv[1], sys.argv[2], batch_size=16, progress=progress)
print("finished", flush=True)
"""


@pytest.mark.parametrize("kill_after_batches", [1, 30, 90])
def test_killed_import_leaves_the_target_unchanged(
    chroma_dir: Path, tmp_path: Path, kill_after_batches: int
) -> None:
    target = tmp_path / "azurite"
    client = azurite.PersistentClient(str(target))
    client.create_collection("kept", embedding_function=None).add(
        ids=["a", "b"], embeddings=[[1.0, 2.0], [3.0, 4.0]]
    )
    azurite.api.client.SharedSystemClient.clear_system_cache()
    before = visible_collections(target)

    process = subprocess.Popen(
        [sys.executable, "-c", IMPORTER, str(chroma_dir), str(target)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    try:
        for _ in range(kill_after_batches):
            line = process.stdout.readline()
            assert line and line != "finished\n", "the import ended before it could be killed"
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        process.stdout.close()

    assert visible_collections(target) == before
    report = import_chroma(chroma_dir, target)
    assert report.ok
    after = visible_collections(target)
    assert after["default_tenant/default_database/kept"] == 2
    assert len(after) == len(before) + len(report.collections)


def test_failed_import_leaves_the_target_unchanged(chroma_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "azurite"
    client = azurite.PersistentClient(str(target))
    client.create_collection("kept", embedding_function=None).add(ids=["a"], embeddings=[[1.0]])
    azurite.api.client.SharedSystemClient.clear_system_cache()
    before = visible_collections(target)
    batches = 0

    def fail_midway(_collection: object, _written: int) -> None:
        nonlocal batches
        batches += 1
        if batches == 40:
            raise RuntimeError("stopped by the test")

    with pytest.raises(RuntimeError, match="stopped by the test"):
        import_chroma(chroma_dir, target, batch_size=16, progress=fail_midway)
    assert visible_collections(target) == before
    admin = azurite.AdminClient(azurite.Settings(is_persistent=True, persist_directory=str(target)))
    # The databases it created are gone again (a tenant cannot be deleted).
    assert admin.list_databases(tenant="team_tenant") == []
    assert [d["name"] for d in admin.list_databases()] == ["default_database"]
