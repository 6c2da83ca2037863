"""Backup of a directory that ``azurite run`` serves: through the server's route, from the
command line (which finds the server beside the directory's lock, or is told its URL) and
from an HTTP client, while clients keep writing."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import httpx
import pytest
from server.servers import Server, azurite_server

import azurite
from azurite import AsyncHttpClient, HttpClient, PersistentClient
from azurite.api.engine import BackupReport
from azurite.errors import ChromaAuthError, InvalidArgumentError
from azurite.server.discovery import ADDRESS_FILE

from .copies import assert_opens_from_snapshots, create_loaded, held_batches, write_batch

CLI = [sys.executable, "-m", "azurite.cli"]


def cli(*arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *arguments],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )


def http_client(server: Server, token: str | None = None) -> azurite.ClientAPI:
    headers = {"Authorization": f"Bearer {token}"} if token else None
    return HttpClient(host=server.host, port=server.port, headers=headers)


def test_the_cli_backs_up_a_served_directory_while_a_client_writes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with azurite_server(tmp_path) as server:
        assert (tmp_path / "db" / ADDRESS_FILE).exists()
        client = http_client(server)
        create_loaded(client)
        acknowledged = 0
        stop = threading.Event()

        def writer() -> None:
            nonlocal acknowledged
            n = 0
            while not stop.is_set():
                write_batch(client, n)
                n += 1
                acknowledged = n

        thread = threading.Thread(target=writer)
        thread.start()
        try:
            while acknowledged < 20 and thread.is_alive():
                stop.wait(0.01)
            before = acknowledged
            done = cli("backup", "--path", str(tmp_path / "db"), "--to", str(tmp_path / "copy"))
            after = acknowledged
        finally:
            stop.set()
            thread.join()
        assert done.returncode == 0, done.stderr
        assert "Backed up 2 collections" in done.stdout
        client.close()
    # A server that stopped leaves no address behind.
    assert not (tmp_path / "db" / ADDRESS_FILE).exists()
    assert_opens_from_snapshots(tmp_path / "copy", caplog)
    copy = PersistentClient(tmp_path / "copy")
    batches = held_batches(copy)
    assert before <= batches <= after + 1, (before, batches, after)
    copy.close()


def test_http_clients_and_the_cli_with_a_url_back_up_through_the_route(tmp_path: Path) -> None:
    with azurite_server(tmp_path, "--auth-token", "secret") as server:
        client = http_client(server, "secret")
        collection = client.create_collection("served", embedding_function=None)
        collection.add(ids=["a", "b"], embeddings=[[1.0, 0.0], [0.0, 1.0]], documents=["x", "y"])
        report = client.backup(str(tmp_path / "by-client"))
        assert report["collections"] == 1 and report["path"] == str(tmp_path / "by-client")
        with pytest.raises(InvalidArgumentError, match="exists and is not empty"):
            client.backup(str(tmp_path / "by-client"))
        with pytest.raises(ChromaAuthError):
            http_client(server, "wrong").backup(str(tmp_path / "refused"))

        async def backup_asynchronously() -> BackupReport:
            headers = {"Authorization": "Bearer secret"}
            client = await AsyncHttpClient(host=server.host, port=server.port, headers=headers)
            try:
                return await client.backup(str(tmp_path / "by-async-client"))
            finally:
                await client.close()

        assert asyncio.run(backup_asynchronously())["collections"] == 1
        refused = cli("backup", "--url", server.url, "--to", str(tmp_path / "refused"))
        assert refused.returncode == 1
        by_url = cli(
            "backup",
            "--url",
            server.url,
            "--to",
            str(tmp_path / "by-url"),
            env={"AZURITE_AUTH_TOKEN": "secret"},
        )
        assert by_url.returncode == 0, by_url.stderr
        client.close()
    assert not (tmp_path / "refused").exists()
    for name in ("by-client", "by-async-client", "by-url"):
        copy = PersistentClient(tmp_path / name)
        records = copy.get_collection("served").get(include=["documents"])
        assert (records["ids"], records["documents"]) == (["a", "b"], ["x", "y"])
        copy.close()


def test_the_route_is_described_and_takes_a_path(tmp_path: Path) -> None:
    with azurite_server(tmp_path) as server:
        document = httpx.get(f"{server.url}/openapi.json").json()
        operation = document["paths"]["/api/v2/backup"]["post"]
        assert operation["operationId"] == "backup"
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        assert schema["required"] == ["path"]
        # Refused as Chroma's server refuses a body of the wrong shape.
        reply = httpx.post(f"{server.url}/api/v2/backup", json={"path": 3})
        assert reply.status_code == 422
        assert "path: invalid type: integer `3`, expected a string" in reply.json()["message"]
        reply = httpx.post(f"{server.url}/api/v2/backup", json={})
        assert reply.status_code == 422
        assert "missing field `path`" in reply.json()["message"]


#: Holds a database open (and its lock) until its standard input closes.
HOLDER = """
    import sys
    import azurite
    client = azurite.PersistentClient(sys.argv[1])
    client.create_collection("held", embedding_function=None).add(ids=["a"], embeddings=[[1.0]])
    print("open", flush=True)
    sys.stdin.read()
"""


def test_a_directory_held_by_a_process_without_a_server_is_a_clear_locked_error(
    tmp_path: Path,
) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(HOLDER), str(tmp_path / "db")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline().strip() == "open"
        done = cli("backup", "--path", str(tmp_path / "db"), "--to", str(tmp_path / "copy"))
        # Nor is a directory in use restored from: it may change while it is copied.
        restored = cli("restore", "--from", str(tmp_path / "db"), "--path", str(tmp_path / "r"))
        holder.stdin.close()
    assert done.returncode == 1
    assert "already open for writing in another process" in done.stderr
    assert "--url" in done.stderr
    assert not (tmp_path / "copy").exists()
    assert restored.returncode == 1
    assert f"pid {holder.pid}" in restored.stderr and "azurite backup" in restored.stderr
    assert not (tmp_path / "r").exists()


def test_the_address_of_a_killed_server_is_ignored(tmp_path: Path) -> None:
    with azurite_server(tmp_path) as server:
        client = http_client(server)
        client.create_collection("survivor", embedding_function=None).add(
            ids=["a"], embeddings=[[1.0]]
        )
        client.close()
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()
    assert (tmp_path / "db" / ADDRESS_FILE).exists()
    # Nobody holds the lock now: the command opens the directory itself.
    done = cli("backup", "--path", str(tmp_path / "db"), "--to", str(tmp_path / "copy"))
    assert done.returncode == 0, done.stderr
    copy = PersistentClient(tmp_path / "copy")
    assert copy.get_collection("survivor").get()["ids"] == ["a"]
    assert not (tmp_path / "copy" / ADDRESS_FILE).exists()
    copy.close()
