"""Fault injection: each kind of file the database writes is truncated, corrupted, filled
with garbage or deleted, then the database is reopened in a child process.

The reopen either repairs by itself (every acknowledged record there, with a warning when
something was cut or rebuilt), or raises CorruptionError naming the file and the command
`azurite repair --path DIR`; the process never dies and never hangs. After the repair
command the database opens again, and the report says what was lost, if anything.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from .faults import damage, make_database, reopen, run_repair

DAMAGE = ["truncate", "truncate-empty", "corrupt", "garbage", "delete"]

#: file kind -> (glob inside the directory, outcome per damage, warning expected when the
#: reopen repairs by itself). Outcomes: "intact" (opens with every record); "repaired" (a
#: clear error, then `azurite repair` brings every record back); "repaired-with-losses"
#: (a clear error, then the repair says what was lost and the database opens with what is
#: left); "refused" (a clear error; the repair refuses to guess and says how to go on);
#: "served" (damage the open does not read: every record is served from the segment
#: snapshots, and `azurite repair` then finds and repairs the damage, losing nothing).
#: A damaged journal frame fails its checksum and is ignored with the frames after it; the
#: writes they covered are replayed from the log, graph and all (no warning: it is what a
#: crash in the middle of an append leaves, and a deleted journal is no different).
JOURNAL_OUTCOMES = dict.fromkeys(DAMAGE, "intact")

FILES: dict[str, tuple[str, dict[str, str], str | None]] = {
    # SQLite's main file. Damaged records are salvaged and the log, which here holds the
    # whole history, brings back the rest; without a readable catalog nothing can be done.
    "store": (
        "azurite.sqlite3",
        {
            "truncate": "repaired",
            "truncate-empty": "repaired-with-losses",
            "corrupt": "served",
            "garbage": "refused",
            "delete": "repaired-with-losses",
        },
        None,
    ),
    # SQLite's own write-ahead file: what it loses, Azurite's log replays.
    "store-wal": ("azurite.sqlite3-wal", dict.fromkeys(DAMAGE, "intact"), "replaying"),
    # SQLite's shared-memory index of its -wal: rebuilt by SQLite.
    "store-shm": ("azurite.sqlite3-shm", dict.fromkeys(DAMAGE, "intact"), None),
    # Azurite's log: every entry is in the store already; a damaged tail is cut.
    "log": ("wal/*.log", dict.fromkeys(DAMAGE, "intact"), "cutting"),
    # Segment snapshots: the collection is loaded from the record store instead.
    "snapshot": ("index/*.seg", dict.fromkeys(DAMAGE, "intact"), "segment snapshot"),
    # The graph journal: the collection is loaded from the record store instead.
    "journal": ("index/*.graph", JOURNAL_OUTCOMES, None),
    # A snapshot write that a crash interrupted: removed.
    "snapshot-tmp": ("index/*.tmp", dict.fromkeys(DAMAGE, "intact"), None),
    # The lock file only carries the holder's pid.
    "lock": ("azurite.lock", dict.fromkeys(DAMAGE, "intact"), None),
}

CASES = [
    pytest.param(kind, how, id=f"{kind}-{how}")
    for kind, (_, outcomes, _) in FILES.items()
    for how in DAMAGE
]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A database left by a killed writer, and what it holds (read from a copy)."""
    source = tmp_path_factory.mktemp("faults") / "db"
    make_database(source)
    copy = source.parent / "copy"
    shutil.copytree(source, copy)
    expected = reopen(copy)
    assert expected["outcome"] == "ok" and len(expected["records"]) == 2_901
    return source, expected["records"]


def assert_clear_error(outcome: dict[str, Any], file: Path, path: Path) -> None:
    assert outcome["outcome"] == "error", outcome
    assert outcome["class"] == "CorruptionError"
    assert file.name in outcome["message"]
    assert f"azurite repair --path {path}" in outcome["message"]


@pytest.mark.parametrize(("kind", "how"), CASES)
def test_a_damaged_file_is_repaired_or_reported(
    tmp_path: Path, pristine: tuple[Path, dict[str, Any]], kind: str, how: str
) -> None:
    source, records = pristine
    path = tmp_path / "db"
    shutil.copytree(source, path)
    pattern, outcomes, warning = FILES[kind]
    (file,) = path.glob(pattern)
    damage(file, how)
    outcome = reopen(path)
    expected = outcomes[how]

    if expected == "served":
        assert outcome["outcome"] == "ok", outcome.get("message")
        assert outcome["records"] == records
        repaired = run_repair(path)
        assert repaired.returncode == 0, repaired.stdout + repaired.stderr
        assert "Repaired: nothing was lost." in repaired.stdout, repaired.stdout
        assert reopen(path)["records"] == records
        return

    if expected == "intact":
        assert outcome["outcome"] == "ok", outcome.get("message")
        assert outcome["records"] == records
        # An empty or missing log segment is a valid, empty log: nothing to say.
        silent = kind == "log" and how in ("truncate-empty", "delete")
        if warning is not None and not silent:
            # The replay after a damaged -wal file names the store it completes.
            name = "azurite.sqlite3" if kind == "store-wal" else file.name
            warned = [w for w in outcome["warnings"] if warning in w and name in w]
            assert warned, outcome["warnings"]
        if kind == "snapshot-tmp":
            assert not file.exists()
        return

    assert_clear_error(outcome, file, path)
    repaired = run_repair(path)
    if expected == "refused":
        assert repaired.returncode == 1, repaired.stdout + repaired.stderr
        assert "Could not repair" in repaired.stderr and "Nothing was changed" in repaired.stderr
        assert file.name in repaired.stderr
        # Nothing was changed: the same clear error again.
        assert_clear_error(reopen(path), file, path)
        return
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    after = reopen(path)
    assert after["outcome"] == "ok", after.get("message")
    if expected == "repaired":
        assert "Repaired: nothing was lost." in repaired.stdout, repaired.stdout
        assert after["records"] == records
    else:
        assert "Repaired, with losses:" in repaired.stdout, repaired.stdout
        # What is left is what was there (here: nothing, the store lost its catalog).
        assert all(records[id_] == record for id_, record in after["records"].items())
    # Repaired for good: a second repair finds nothing to do.
    again = run_repair(path)
    assert again.returncode == 0 and "Repaired: nothing was lost." in again.stdout


@pytest.mark.parametrize("directory", ["wal", "index"])
def test_a_deleted_directory_is_recreated(
    tmp_path: Path, pristine: tuple[Path, dict[str, Any]], directory: str
) -> None:
    source, records = pristine
    path = tmp_path / "db"
    shutil.copytree(source, path)
    shutil.rmtree(path / directory)
    outcome = reopen(path)
    assert outcome["outcome"] == "ok", outcome.get("message")
    assert outcome["records"] == records
    assert (path / directory).is_dir()


def test_repair_of_an_intact_database_changes_nothing(
    tmp_path: Path, pristine: tuple[Path, dict[str, Any]]
) -> None:
    source, records = pristine
    path = tmp_path / "db"
    shutil.copytree(source, path)
    repaired = run_repair(path)
    assert repaired.returncode == 0, repaired.stderr
    assert "integrity check passed" in repaired.stdout
    assert "Repaired: nothing was lost." in repaired.stdout
    assert reopen(path)["records"] == records
