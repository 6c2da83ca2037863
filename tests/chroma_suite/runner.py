"""Runs chromadb 1.5.9's own test suite, as its wheel ships it, against a server on 127.0.0.1.

The suite runs in a pytest subprocess through its own mechanism for an external server
(``CHROMA_INTEGRATION_TEST_ONLY=1`` with ``CHROMA_SERVER_HOST`` / ``CHROMA_SERVER_HTTP_PORT``):
the real chromadb client, sync and async, talks to ``azurite run`` or to ``chroma run``.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from server.servers import CHROMA, Server, azurite_server, free_port, running

from azurite.embedding_functions import _minilm_files

#: Few Hypothesis examples (CI) or the suite's own counts; see chroma_suite.plugin.
FORMS = ("short", "full")
SERVERS = ("azurite", "chroma")
TESTS_DIR = Path(__file__).resolve().parent.parent
#: The selection, serially (every test resets the one server), takes under this long.
SUITE_TIMEOUT = {"short": 1800, "full": 7200}

Outcomes = dict[str, dict[str, str]]


@contextlib.contextmanager
def chroma_run(directory: Path) -> Iterator[Server]:
    """``chroma run`` allowing reset(), which the suite calls before every test; the option
    exists only in its configuration file."""
    port = free_port()
    config = directory / "chroma.yaml"
    config.write_text(
        f"persist_path: {json.dumps(str(directory / 'db'))}\n"
        f"listen_address: 127.0.0.1\nport: {port}\nallow_reset: true\n"
    )
    with running([*CHROMA, str(config)], port, directory / "server.log") as server:
        yield server


def start(server: str, directory: Path) -> contextlib.AbstractContextManager[Server]:
    if server == "azurite":
        return azurite_server(directory, "--allow-reset")
    return chroma_run(directory)


def run_suite(server: str, form: str, directory: Path) -> Outcomes:
    """Each selected test's outcome (``passed``, ``failed``, ``skipped`` or ``error``, with the
    first line of its failure) against a fresh ``server``."""
    outcomes_file = directory / "outcomes.json"
    # An empty configuration: neither this repository's pytest settings nor its conftest apply.
    (directory / "pytest.ini").write_text("[pytest]\n")
    command = [
        sys.executable,
        "-m",
        "pytest",
        "--pyargs",
        "chromadb.test",
        "-c",
        str(directory / "pytest.ini"),
        "--rootdir",
        str(directory),
        "--import-mode=importlib",
        "-p",
        "no:cacheprovider",
        "-p",
        "chroma_suite.plugin",
        "-q",
        "--no-header",
        "-rN",
        "--durations=20",
    ]
    with start(server, directory) as running_server:
        # Without the outer pytest's variables (xdist worker, current test) and only with the
        # server under test as the suite's external server.
        env = {
            **{name: value for name, value in os.environ.items() if not name.startswith("PYTEST_")},
            "CHROMA_INTEGRATION_TEST_ONLY": "1",
            "CHROMA_SERVER_HOST": running_server.host,
            "CHROMA_SERVER_HTTP_PORT": str(running_server.port),
            "ANONYMIZED_TELEMETRY": "False",
            "AZURITE_SUITE_OUTCOMES": str(outcomes_file),
            "AZURITE_SUITE_FORM": form,
            "AZURITE_SUITE_SERVER": server,
            # chromadb's default embedding function (run by the client before it sends
            # documents) reads this copy of the model instead of downloading it.
            "AZURITE_SUITE_MODEL_DIR": str(_minilm_files.resolve_model_dir()),
            "PYTHONPATH": os.pathsep.join(
                [str(TESTS_DIR), *filter(None, [os.environ.get("PYTHONPATH")])]
            ),
        }
        with (directory / "pytest.log").open("wb") as log:
            subprocess.run(
                command,
                cwd=directory,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=SUITE_TIMEOUT[form],
                check=False,
            )
    if not outcomes_file.exists():
        raise RuntimeError(
            f"the suite recorded no outcome:\n{(directory / 'pytest.log').read_text()}"
        )
    outcomes: Outcomes = json.loads(outcomes_file.read_text())
    return outcomes
