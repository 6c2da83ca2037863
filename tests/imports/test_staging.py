"""Imports through staging collections, on the engine itself (``azurite._core.Database``),
persistent, in memory and through ``azurite run`` (the HTTP clients' engine): an import is hidden until published, replaces its target under
the target's id and name or creates a new name, is refused whole when its target moved
or its name was taken, can be abandoned, and is all or nothing across a SIGKILL: killed
while writing, the target is exactly as it was; killed after the publish returned, the
whole import is there."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest
from server.servers import Server, azurite_server

import azurite
from azurite._core import Database
from azurite.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError

from . import import_worker
from .import_worker import DATABASE, TARGET, TENANT, fill_target, stage, state, write_batch

CHANGED = (
    "Collection [books] was written, changed or deleted while it was being imported into: "
    "nothing was imported. Retry the import to import into its current state"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with azurite_server(tmp_path_factory.mktemp("server"), "--allow-reset") as running:
        yield running


@pytest.fixture(params=["persistent", "memory", "http"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "http":
        running: Server = request.getfixturevalue("server")
        client = azurite.HttpClient(host=running.host, port=running.port)
        client.reset()
        # The HTTP clients' engine answers every call of the engine's through the server.
        yield cast(Database, client._engine)
        client.close()
        return
    database = Database(tmp_path / "db" if request.param == "persistent" else None)
    yield database
    database.close()


def names(db: Database) -> list[str]:
    return sorted(c["name"] for c in db.list_collections(TENANT, DATABASE))


def imported(db: Database, staging: str, batches: int) -> None:
    for n in range(batches):
        write_batch(db, staging, n)


def test_a_published_import_replaces_its_target_under_its_id_and_name(db: Database) -> None:
    target = fill_target(db)
    before = state(db, target)
    model = db.get_collection(TENANT, DATABASE, TARGET)
    staging = db.stage_import(TENANT, DATABASE, TARGET)
    assert staging["name"] == TARGET
    assert staging["id"] != target
    assert {**staging, "id": target} == model
    assert state(db, staging["id"]) == before
    imported(db, staging["id"], 4)
    after = state(db, staging["id"])
    assert after != before
    assert state(db, target) == before

    published = db.publish_imports([staging["id"]])
    assert [(p["id"], p["name"]) for p in published] == [(target, TARGET)]
    assert state(db, target) == after
    assert db.get_collection(TENANT, DATABASE, TARGET)["id"] == target
    assert db.get_collection_by_id(TENANT, DATABASE, target)["name"] == TARGET
    assert names(db) == [TARGET]
    with pytest.raises(NotFoundError):
        db.count(staging["id"])
    assert db.fork_count(target) == 0


def test_a_staging_collection_is_reached_by_the_record_calls_only(db: Database) -> None:
    target = fill_target(db)
    fork = db.fork_collection(target, "books-fork")
    staging = db.stage_import(TENANT, DATABASE, TARGET)["id"]
    fresh = db.stage_import(TENANT, DATABASE, "fresh")["id"]
    assert names(db) == ["books", "books-fork"]
    assert db.count_collections(TENANT, DATABASE) == 2
    assert db.fork_count(target) == 1
    with pytest.raises(NotFoundError):
        db.get_collection(TENANT, DATABASE, "fresh")
    with pytest.raises(NotFoundError):
        db.delete_collection(TENANT, DATABASE, "fresh")
    for hidden in (staging, fresh):
        with pytest.raises(NotFoundError):
            db.get_collection_by_id(TENANT, DATABASE, hidden)
        with pytest.raises(NotFoundError):
            db.fork_collection(hidden, "copy")
        with pytest.raises(NotFoundError):
            db.fork_count(hidden)
        with pytest.raises(NotFoundError):
            db.modify_collection(hidden, new_name="renamed")
    db.add(fresh, ["a"], np.ones((1, 3), np.float32))
    assert db.count(fresh) == 1
    assert db.get(fresh, ids=["a"])["ids"] == ["a"]
    assert db.query(fresh, np.ones((1, 3), np.float32), 1)[0]["ids"] == ["a"]
    assert db.count(staging) == 200
    # Deleting the target by name deletes the collection, not the import into it, which
    # can then no longer be published.
    db.delete_collection(TENANT, DATABASE, TARGET)
    assert db.count(staging) == 200
    with pytest.raises(InvalidArgumentError) as refused:
        db.publish_imports([staging])
    assert str(refused.value) == CHANGED
    assert db.count(fork["id"]) == 200


def test_publishing_is_refused_whole_when_the_target_was_written_meanwhile(db: Database) -> None:
    target = fill_target(db)
    fresh = db.stage_import(TENANT, DATABASE, "fresh")["id"]
    staging = stage(db)
    imported(db, staging, 2)
    db.delete(target, ["b0"])
    before = state(db, target)
    with pytest.raises(InvalidArgumentError) as refused:
        db.publish_imports([fresh, staging])
    assert str(refused.value) == CHANGED
    assert names(db) == [TARGET]
    assert state(db, target) == before
    # Both imports are still there, to abandon or retry.
    db.abandon_import(staging)
    retry = stage(db)
    imported(db, retry, 2)
    expected = state(db, retry)
    db.publish_imports([fresh, retry])
    assert names(db) == [TARGET, "fresh"]
    assert state(db, target) == expected


def test_an_import_of_a_new_name_is_refused_when_the_name_was_taken_meanwhile(
    db: Database,
) -> None:
    staging = db.stage_import(TENANT, DATABASE, "fresh", metadata={"source": "parquet"})["id"]
    db.add(staging, ["a"], np.ones((1, 3), np.float32))
    db.create_collection(TENANT, DATABASE, "fresh")
    with pytest.raises(AlreadyExistsError, match=r"^Collection \[fresh\] already exists$"):
        db.publish_imports([staging])
    assert db.count(db.get_collection(TENANT, DATABASE, "fresh")["id"]) == 0
    db.delete_collection(TENANT, DATABASE, "fresh")
    (published,) = db.publish_imports([staging])
    assert published["id"] == staging
    assert published["metadata"] == {"source": "parquet"}
    assert db.get_collection(TENANT, DATABASE, "fresh")["id"] == staging


def test_a_new_import_is_checked_as_create_collection_checks_a_collection(db: Database) -> None:
    cases: list[dict[str, Any]] = [
        {"name": "ab"},
        {"name": "fine", "configuration_json": json.dumps({"hnsw": {"space": "nope"}})},
        {"name": "fine", "metadata": {}},
        {"name": "fine", "configuration_json": "{not json"},
    ]
    for case in cases:
        with pytest.raises(Exception) as created:
            db.create_collection(TENANT, DATABASE, **case)
        with pytest.raises(Exception) as staged:
            db.stage_import(TENANT, DATABASE, **case)
        assert type(staged.value) is type(created.value)
        assert str(staged.value) == str(created.value)
    configuration = json.dumps({"hnsw": {"space": "ip", "ef_search": 33}})
    staged_model = db.stage_import(TENANT, DATABASE, "fine", configuration_json=configuration)
    created_model = db.create_collection(TENANT, DATABASE, "twin", configuration_json=configuration)
    assert staged_model["configuration_json"] == created_model["configuration_json"]
    assert staged_model["schema_json"] == created_model["schema_json"]
    # Into a collection that exists, the import keeps its settings: none may be given.
    fill_target(db)
    with pytest.raises(InvalidArgumentError, match="none can be given"):
        db.stage_import(TENANT, DATABASE, TARGET, configuration_json=configuration)
    with pytest.raises(InvalidArgumentError, match="none can be given"):
        db.stage_import(TENANT, DATABASE, TARGET, metadata={"a": 1})


def test_an_abandoned_import_leaves_its_target_as_it_was(db: Database) -> None:
    target = fill_target(db)
    before = state(db, target)
    staging = stage(db)
    imported(db, staging, 3)
    db.abandon_import(staging)
    with pytest.raises(NotFoundError):
        db.count(staging)
    with pytest.raises(NotFoundError):
        db.abandon_import(staging)
    assert state(db, target) == before
    assert names(db) == [TARGET]


def test_an_open_discards_an_unfinished_import_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = Database(tmp_path)
    target = fill_target(db)
    before = state(db, target)
    imported(db, stage(db), 3)
    db.add(db.stage_import(TENANT, DATABASE, "fresh")["id"], ["a"], np.ones((1, 3), np.float32))
    db.close()
    reader = Database(tmp_path, read_only=True)
    assert names(reader) == [TARGET]
    reader.close()
    with caplog.at_level(logging.WARNING, logger="azurite_core"):
        db = Database(tmp_path)
    discarded = sorted(r.getMessage() for r in caplog.records if "import" in r.getMessage())
    assert discarded == [
        "an import into 'books' that did not finish was discarded",
        "an import into 'fresh' that did not finish was discarded",
    ]
    assert names(db) == [TARGET]
    assert state(db, target) == before
    assert sorted(p.name for p in (tmp_path / "index").iterdir()) == [f"{target}.seg"]
    db.close()


def run_worker(path: Path, mode: str, until: str) -> None:
    """Runs the importer on ``path`` and SIGKILLs it once it printed ``until``."""
    process = subprocess.Popen(
        [sys.executable, str(Path(import_worker.__file__)), str(path), mode],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.strip() == until:
            break
    else:
        raise AssertionError(f"the importer ended before printing {until!r}")
    process.send_signal(signal.SIGKILL)
    process.wait()
    process.stdout.close()


def test_an_import_killed_while_writing_leaves_the_target_exactly_as_it_was(
    tmp_path: Path,
) -> None:
    db = Database(tmp_path)
    target = fill_target(db)
    before = state(db, target)
    db.close()
    run_worker(tmp_path, "write", "batch 8")
    db = Database(tmp_path)
    assert names(db) == [TARGET]
    assert db.get_collection(TENANT, DATABASE, TARGET)["id"] == target
    assert state(db, target) == before
    db.close()


def test_an_import_killed_after_its_publish_returned_is_there_whole(tmp_path: Path) -> None:
    db = Database(tmp_path)
    target = fill_target(db)
    db.close()
    # The same import, in memory, says what the killed one must have left.
    replay = Database()
    fill_target(replay)
    staging = stage(replay)
    imported(replay, staging, import_worker.BATCHES)
    expected = state(replay, staging)
    replay.close()

    run_worker(tmp_path, "publish", "published")
    db = Database(tmp_path)
    assert db.get_collection(TENANT, DATABASE, TARGET)["id"] == target
    assert state(db, target) == expected
    db.close()
