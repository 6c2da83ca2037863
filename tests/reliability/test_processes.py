"""Several processes on one directory, with real processes: one writer at a time, any
number of read-only readers that see only whole committed writes, and a writer that
takes over cleanly after the previous one was killed.

(tests/persistence/test_restart.py covers the basic refusal of a second writer and a
reader beside an idle writer.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import azurite
from azurite.errors import DatabaseLockedError

BATCH = 50

#: Writes batches of BATCH records for ever; prints each batch number once it returned.
WRITER = f"""
    import sys
    import numpy as np
    import azurite

    client = azurite.PersistentClient(sys.argv[1])
    collection = client.get_or_create_collection("shared", embedding_function=None)
    start = collection.count() // {BATCH}
    batch = start
    while True:
        rng = np.random.default_rng(batch)
        collection.add(
            ids=[f"b{{batch}}-{{i}}" for i in range({BATCH})],
            embeddings=rng.normal(size=({BATCH}, 8)).astype(np.float32),
            metadatas=[{{"batch": batch}}] * {BATCH},
        )
        print(batch, flush=True)
        batch += 1
"""

#: Opens the directory read-only a number of times while the writer goes on, and reports
#: for each open the batches it saw and whether each record was whole.
READER = f"""
    import json, sys
    import numpy as np
    import azurite

    seen = []
    for _ in range(int(sys.argv[2])):
        client = azurite.PersistentClient(
            sys.argv[1], settings=azurite.Settings(azurite_read_only=True)
        )
        collection = client.get_collection("shared")
        got = collection.get(include=["embeddings", "metadatas"])
        batches = {{}}
        vectors = {{}}
        for id_, vector, metadata in zip(got["ids"], got["embeddings"], got["metadatas"]):
            batch, i = map(int, id_[1:].split("-"))
            if batch not in vectors:
                rng = np.random.default_rng(batch)
                vectors[batch] = rng.normal(size=({BATCH}, 8)).astype(np.float32)
            expected = vectors[batch]
            assert metadata == {{"batch": batch}}, (id_, metadata)
            assert np.array_equal(vector, expected[i]), id_
            batches[batch] = batches.get(batch, 0) + 1
        assert collection.count() == len(got["ids"])
        seen.append(sorted(batches.items()))
        client.close()
    print(json.dumps(seen))
"""


def start_writer(path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(WRITER), str(path)],
        stdout=subprocess.PIPE,
        text=True,
    )


def wait_for_batch(writer: subprocess.Popen[str], at_least: int) -> int:
    assert writer.stdout is not None
    while True:
        line = writer.stdout.readline()
        assert line, "the writer stopped"
        if int(line) >= at_least:
            return int(line)


def test_readers_in_other_processes_see_only_whole_committed_writes(tmp_path: Path) -> None:
    with start_writer(tmp_path) as writer:
        try:
            acknowledged = wait_for_batch(writer, 3)
            readers = [
                subprocess.Popen(
                    [sys.executable, "-c", textwrap.dedent(READER), str(tmp_path), "5"],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for _ in range(3)
            ]
            outputs = [reader.communicate(timeout=120) for reader in readers]
        finally:
            writer.kill()
        # Everything the writer acknowledged before it was killed.
        assert writer.stdout is not None
        acknowledged_after = max([acknowledged, *map(int, writer.stdout.read().split())])
    for reader, (stdout, stderr) in zip(readers, outputs):
        assert reader.returncode == 0, stderr
        opens = json.loads(stdout)
        previous = -1
        for batches in opens:
            numbers = [batch for batch, _ in batches]
            # Whole batches only, and no batch missing below the newest one seen.
            assert all(count == BATCH for _, count in batches), batches
            assert numbers == list(range(len(numbers)))
            # Every batch acknowledged before the readers started is seen; nothing the
            # writer had not yet written; later opens never see less.
            assert acknowledged + 1 <= len(numbers) <= acknowledged_after + 2
            assert len(numbers) >= previous
            previous = len(numbers)


def test_a_second_writer_is_refused_while_the_first_writes_and_takes_over_after_a_kill(
    tmp_path: Path,
) -> None:
    with start_writer(tmp_path) as writer:
        try:
            wait_for_batch(writer, 2)
            for _ in range(3):
                with pytest.raises(DatabaseLockedError, match=f"pid {writer.pid}"):
                    azurite.PersistentClient(tmp_path)
            acknowledged = wait_for_batch(writer, 0)
        finally:
            writer.kill()
            writer.wait()
    # The OS lock died with the process: the next writer opens and finds every batch.
    client = azurite.PersistentClient(tmp_path)
    try:
        collection = client.get_collection("shared")
        count = collection.count()
        assert count % BATCH == 0 and count >= (acknowledged + 1) * BATCH
        # It writes on from where the killed one stopped.
        rng = np.random.default_rng(0)
        collection.add(ids=["after"], embeddings=rng.normal(size=(1, 8)).astype(np.float32))
        assert collection.count() == count + 1
    finally:
        client.close()


def test_a_writer_in_another_process_is_refused_while_this_one_holds_the_directory(
    tmp_path: Path,
) -> None:
    client = azurite.PersistentClient(tmp_path)
    try:
        client.create_collection("shared", embedding_function=None).add(
            ids=["a"], embeddings=[[1.0, 2.0]]
        )
        code = """
            import os, sys
            import azurite
            from azurite.errors import DatabaseLockedError
            try:
                azurite.PersistentClient(sys.argv[1])
            except DatabaseLockedError as error:
                print(error)
            reader = azurite.PersistentClient(
                sys.argv[1], settings=azurite.Settings(azurite_read_only=True)
            )
            print(reader.get_collection("shared").get()["ids"])
        """
        done = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code), str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        refusal, ids = done.stdout.splitlines()
        assert f"pid {os.getpid()}" in refusal and "read-only" in refusal
        assert ids == "['a']"
    finally:
        client.close()


def test_repair_refuses_a_directory_another_process_has_open(tmp_path: Path) -> None:
    client = azurite.PersistentClient(tmp_path)
    try:
        client.create_collection("shared", embedding_function=None)
        done = subprocess.run(
            [sys.executable, "-m", "azurite.cli", "repair", "--path", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 1
        assert f"pid {os.getpid()}" in done.stderr and "Could not repair" in done.stderr
    finally:
        client.close()
