"""Starting real servers as subprocesses on 127.0.0.1, for tests and benchmarks."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

#: The console scripts of the environment running the tests.
AZURITE = [str(Path(sys.executable).parent / "azurite"), "run"]
CHROMA = [str(Path(sys.executable).parent / "chroma"), "run"]
STARTUP_TIMEOUT = 30.0
SHUTDOWN_TIMEOUT = 10.0


@dataclass(frozen=True)
class Server:
    """A running server: where to reach it and the process serving it."""

    host: str
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def free_port() -> int:
    """A port nothing listens on now (the OS picks it), for the server to bind next."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_up(server: Server, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited at start-up:\n{log.read_text()}")
        try:
            httpx.get(f"{server.url}/api/v2/heartbeat", timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"server did not answer within {STARTUP_TIMEOUT} s:\n{log.read_text()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (a graceful shutdown), then SIGKILL if it does not exit in time."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(SHUTDOWN_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def running(
    command: Sequence[str], port: int, log: Path, env: dict[str, str] | None = None
) -> Iterator[Server]:
    """Runs ``command`` (a server listening on 127.0.0.1:``port``) until the block ends."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            list(command),
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
    server = Server("127.0.0.1", port, process)
    try:
        _wait_until_up(server, log)
        yield server
    finally:
        stop(process)


@contextlib.contextmanager
def azurite_server(
    directory: Path, *options: str, env: dict[str, str] | None = None
) -> Iterator[Server]:
    """``azurite run`` on a free loopback port with its database in ``directory``."""
    port = free_port()
    command = [
        *AZURITE,
        "--path",
        str(directory / "db"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        *options,
    ]
    with running(command, port, directory / "server.log", env) as server:
        yield server


@contextlib.contextmanager
def chroma_server(directory: Path) -> Iterator[Server]:
    """chromadb's own ``chroma run`` on a free loopback port, for comparisons."""
    port = free_port()
    command = [*CHROMA, "--path", str(directory / "db"), "--host", "127.0.0.1", "--port", str(port)]
    with running(command, port, directory / "server.log") as server:
        yield server
