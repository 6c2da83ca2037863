"""The official chromadb JavaScript client (npm ``chromadb``, pinned in js/package.json)
runs js/scenario.mjs against a real ``azurite run``. ``make test`` installs it with
``npm ci`` first."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from .servers import Server

SCENARIO_DIRECTORY = Path(__file__).parent / "js"
TIMEOUT_SECONDS = 120


def test_js_client_scenario(server: Server) -> None:
    node = shutil.which("node")
    assert node is not None, "Node.js is needed for the JavaScript client scenario"
    assert (SCENARIO_DIRECTORY / "node_modules" / "chromadb").is_dir(), (
        "the npm client is not installed: run `npm ci --omit=optional` in tests/server/js "
        "(make test does)"
    )
    finished = subprocess.run(
        [node, "scenario.mjs", server.host, str(server.port)],
        cwd=SCENARIO_DIRECTORY,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
    )
    assert finished.returncode == 0, finished.stderr + finished.stdout
    assert finished.stdout.startswith("ok "), finished.stdout
