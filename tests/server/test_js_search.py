"""The official chromadb JavaScript client's ``collection.search`` (npm ``chromadb``,
pinned in js/package.json) runs js/search.mjs against a real ``azurite run``; the script
compares every answer with one computed from the client's ``query`` results."""

from __future__ import annotations

import shutil
import subprocess

from .servers import Server
from .test_js_client import SCENARIO_DIRECTORY, TIMEOUT_SECONDS


def test_js_client_search(server: Server) -> None:
    node = shutil.which("node")
    assert node is not None, "Node.js is needed for the JavaScript client's search"
    assert (SCENARIO_DIRECTORY / "node_modules" / "chromadb").is_dir(), (
        "the npm client is not installed: run `npm ci --omit=optional` in tests/server/js "
        "(make test does)"
    )
    finished = subprocess.run(
        [node, "search.mjs", server.host, str(server.port)],
        cwd=SCENARIO_DIRECTORY,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
    )
    assert finished.returncode == 0, finished.stderr + finished.stdout
    assert finished.stdout == "ok 5 checks\n", finished.stdout
