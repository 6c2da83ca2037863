"""Ray datasets written into and read from a local database directory (azurite.ray), on a
local Ray cluster of two CPUs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
import ray
from ray_rows import DIMENSION, METADATA_COLUMNS, expected_records, read_back, rows_table

import azurite
from azurite.errors import NotFoundError
from azurite.io.records import from_batch
from azurite.ray import CollectionDatasink, read_collection, write_collection
from azurite.ray.writing import STAGING_LOCK

pytestmark = [
    pytest.mark.ray,
    # Ray's own code warns of its own deprecated settings, which it reads itself.
    pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.*"),
]

ROWS = 20_000


def write(rows: pa.Table | ray.data.Dataset, path: Path, mode: str = "add", **kwargs: Any) -> None:
    dataset = ray.data.from_arrow(rows).repartition(8) if isinstance(rows, pa.Table) else rows
    write_collection(
        dataset,
        path=path,
        collection="docs",
        mode=mode,
        embedding_column="vector",
        document_column="text",
        metadata_columns=METADATA_COLUMNS,
        **kwargs,
    )


def leftovers(path: Path) -> list[str]:
    """What the job left beside the database directory."""
    return sorted(entry.name for entry in path.parent.iterdir() if entry != path)


def test_rows_read_back_equal(tmp_path: Path) -> None:
    path = tmp_path / "db"
    table = rows_table(ROWS)
    write(table, path)
    stored = read_back(path, "docs")
    expected = expected_records(table)
    assert stored == expected
    assert type(stored["row-1"][2]["serial"]) is int
    assert type(stored["row-1"][2]["score"]) is float
    assert type(stored["row-1"][2]["published"]) is bool
    assert leftovers(path) == []


def test_tensor_and_list_embedding_columns(tmp_path: Path) -> None:
    path = tmp_path / "db"
    vectors = np.arange(300 * DIMENSION, dtype=np.float32).reshape(300, DIMENSION)
    ids = [f"t{n}" for n in range(300)]
    tensors = ray.data.from_items(
        [{"id": identifier, "vector": vector} for identifier, vector in zip(ids, vectors)]
    )
    write_collection(tensors, path=path, collection="tensors", embedding_column="vector")
    lists = ray.data.from_arrow(pa.table({"id": ids, "vector": vectors.tolist()}))
    write_collection(lists, path=path, collection="lists", embedding_column="vector")
    for name in ("tensors", "lists"):
        got = (
            azurite.PersistentClient(path).get_collection(name).get(ids=ids, include=["embeddings"])
        )
        # The rows are imported in the order the write tasks finish.
        stored = dict(zip(got["ids"], np.asarray(got["embeddings"], dtype=np.float32)))
        assert sorted(stored) == sorted(ids)
        assert all(stored[i].tobytes() == vector.tobytes() for i, vector in zip(ids, vectors))


def test_failed_job_publishes_nothing_and_upsert_converges(tmp_path: Path) -> None:
    halfway = f"row-{ROWS // 2}"

    # Local, so that Ray ships it by value: workers cannot import the test modules.
    def fail_halfway(batch: pa.Table) -> pa.Table:
        if halfway in batch.column("id").to_pylist():
            raise RuntimeError("the job fails halfway")
        return batch

    path = tmp_path / "db"
    table = rows_table(ROWS)
    failing = (
        ray.data.from_arrow(table).repartition(8).map_batches(fail_halfway, batch_format="pyarrow")
    )
    with pytest.raises(Exception, match="the job fails halfway"):
        write_collection(
            failing,
            path=path,
            collection="docs",
            embedding_column="vector",
            document_column="text",
            metadata_columns=METADATA_COLUMNS,
        )
    with pytest.raises(NotFoundError):
        azurite.PersistentClient(path).get_collection("docs")
    assert leftovers(path) == []

    # An existing collection is left as it was by a failed job.
    first_half = table.slice(0, ROWS // 4)
    write(first_half, path, mode="upsert")
    with pytest.raises(Exception, match="the job fails halfway"):
        write_collection(
            failing,
            path=path,
            collection="docs",
            mode="upsert",
            embedding_column="vector",
            document_column="text",
            metadata_columns=METADATA_COLUMNS,
        )
    assert read_back(path, "docs") == expected_records(first_half)
    assert leftovers(path) == []

    # Rerunning the whole job converges, whatever the earlier attempts left.
    write(table, path, mode="upsert")
    write(table, path, mode="upsert")
    assert read_back(path, "docs") == expected_records(table)
    assert azurite.PersistentClient(path).get_collection("docs").count() == ROWS
    assert leftovers(path) == []


def test_read_with_where(tmp_path: Path) -> None:
    path = tmp_path / "db"
    table = rows_table(2_000)
    write(table, path)
    dataset = read_collection(path, "docs", where={"author": "author 3"}, page_size=50)
    got = from_batch(pa.concat_tables(ray.get(dataset.to_arrow_refs())), "the dataset")
    expected = [row["id"] for row in table.to_pylist() if row["author"] == "author 3"]
    assert sorted(got.ids) == sorted(expected)
    assert got.metadatas is not None
    assert all(metadata["author"] == "author 3" for metadata in got.metadatas if metadata)


def test_bad_columns_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "db"
    dataset = ray.data.from_arrow(pa.table({"id": ["a"], "vector": [[1.0, 2.0]]}))
    with pytest.raises(Exception, match="no column 'missing'"):
        write_collection(
            dataset,
            path=path,
            collection="c",
            embedding_column="vector",
            metadata_columns=["missing"],
        )
    with pytest.raises(ValueError, match="mode must be one of add, upsert"):
        write_collection(
            dataset, path=path, collection="c", mode="create", embedding_column="vector"
        )
    with pytest.raises(ValueError, match="needs an embedding_column"):
        write_collection(dataset, path=path, collection="c")
    assert leftovers(path) == []


def test_a_hundred_thousand_rows_read_back_equal(tmp_path: Path) -> None:
    path = tmp_path / "db"
    table = rows_table(100_000)
    write(table, path)
    assert read_back(path, "docs") == expected_records(table)
    assert azurite.PersistentClient(path).get_collection("docs").count() == 100_000
    assert leftovers(path) == []


def test_a_worker_killed_after_staging_a_file_is_retried_into_exactly_the_rows(
    tmp_path: Path,
) -> None:
    """A write task's process dies after its first file is staged: Ray runs the task again,
    and the import reads the files of the attempts that returned only, so that the
    killed attempt's file adds no row twice."""
    # The job's own folder: the markers beside it are the test's.
    path = tmp_path / "job" / "db"
    marker = tmp_path / "killed"
    staged_by_the_killed_attempt = tmp_path / "staged"

    class DyingSink(CollectionDatasink):
        def write(self, blocks: Any, ctx: Any) -> list[str]:
            written = super().write(blocks, ctx)
            if not marker.exists():
                marker.touch()
                staged_by_the_killed_attempt.write_text("\n".join(written))
                os.kill(os.getpid(), signal.SIGKILL)
            return written

    sink = DyingSink(
        path,
        "docs",
        embedding_column="vector",
        document_column="text",
        metadata_columns=METADATA_COLUMNS,
    )
    table = rows_table(ROWS)
    try:
        ray.data.from_arrow(table).repartition(8).write_datasink(sink)
    finally:
        sink.remove_staging()
    assert marker.exists()
    assert staged_by_the_killed_attempt.read_text()
    assert read_back(path, "docs") == expected_records(table)
    assert azurite.PersistentClient(path).get_collection("docs").count() == ROWS
    assert leftovers(path) == []


def test_a_worker_killed_mid_job_leaves_an_existing_collection_unchanged_until_it_succeeds(
    tmp_path: Path,
) -> None:
    """The driver reads the collection while the job runs, after a worker was killed:
    the collection shows none of the job's rows until the job is done, then all."""
    # The job's own folder: the markers beside it are the test's.
    path = tmp_path / "job" / "db"
    before = rows_table(1_000, start=ROWS)
    write(before, path)
    marker = tmp_path / "killed"
    seen_while_running = tmp_path / "seen"
    chosen = f"row-{ROWS // 2}"

    def kill_once(batch: pa.Table) -> pa.Table:
        if chosen in batch.column("id").to_pylist() and not marker.exists():
            marker.touch()
            with azurite.PersistentClient(path, azurite.Settings(azurite_read_only=True)) as probe:
                seen_while_running.write_text(str(probe.get_collection("docs").count()))
            os.kill(os.getpid(), signal.SIGKILL)
        return batch

    table = rows_table(ROWS)
    write(
        ray.data.from_arrow(table).repartition(8).map_batches(kill_once, batch_format="pyarrow"),
        path,
    )
    assert int(seen_while_running.read_text()) == 1_000
    assert read_back(path, "docs") == expected_records(pa.concat_tables([before, table]))
    assert leftovers(path) == []


def test_a_job_removes_the_staging_folders_of_dead_drivers_only(tmp_path: Path) -> None:
    path = tmp_path / "db"
    dead = tmp_path / ".db.ray-0123456789abcdef"
    dead.mkdir()
    (dead / STAGING_LOCK).touch()
    (dead / "000000-000000-x.parquet").write_bytes(b"left by a killed driver")
    running = tmp_path / ".db.ray-fedcba9876543210"
    running.mkdir()
    (running / STAGING_LOCK).touch()
    other_database = tmp_path / ".other.ray-0123456789abcdef"
    other_database.mkdir()
    (other_database / STAGING_LOCK).touch()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time\n"
            f"fd = os.open({str(running / STAGING_LOCK)!r}, os.O_RDWR)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "print('held', flush=True)\n"
            "time.sleep(600)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        write(rows_table(500), path)
        assert sorted(leftovers(path)) == sorted([running.name, other_database.name])
    finally:
        holder.kill()
        holder.communicate()
    write(rows_table(500, start=500), path)
    assert sorted(leftovers(path)) == [other_database.name]
    assert azurite.PersistentClient(path).get_collection("docs").count() == 1_000
