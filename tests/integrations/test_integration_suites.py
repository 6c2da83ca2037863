"""The test suites of the integrations people use with Chroma, run against Azurite.

Each package's own tests (from its source distribution on PyPI, downloaded once into a cache)
run in their own pytest process, by their own configuration, with one of our plugins loaded
first: either every `import chromadb...` is Azurite, or the real chromadb stays but every
client is Azurite's. The outcomes must be exactly those that suites.py records.

To run one by hand: extract the cached sdist, and from its top directory run
`PYTHONPATH=<this directory> python -m pytest -p chromadb_is_azurite <its test paths>`.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from .record_outcomes import OUTCOMES_FILE_VARIABLE
from .suites import CHROMADB_IS_AZURITE, SUITES, Suite

PLUGINS = Path(__file__).resolve().parent
# Where the source distributions are kept between runs; downloaded with pip when absent.
SDIST_CACHE_VARIABLE = "AZURITE_SDIST_CACHE"
SUITE_TIMEOUT_SECONDS = 300


def _sdist_cache() -> Path:
    configured = os.environ.get(SDIST_CACHE_VARIABLE)
    return Path(configured) if configured else Path.home() / ".cache" / "azurite" / "sdists"


def _sdist(suite: Suite) -> Path:
    directory = _sdist_cache() / suite.requirement
    found = sorted(directory.glob("*.tar.gz"))
    if not found:
        directory.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                *(sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"),
                # Only the package itself as source: its build backend may come as a wheel.
                *("--no-binary", suite.package, "--dest", str(directory), suite.requirement),
            ],
            check=True,
            timeout=SUITE_TIMEOUT_SECONDS,
        )
        found = sorted(directory.glob("*.tar.gz"))
    (sdist,) = found
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    assert digest == suite.sdist_sha256, f"{sdist.name} is not the pinned file"
    return sdist


def _extract(sdist: Path, into: Path) -> Path:
    with tarfile.open(sdist) as archive:
        archive.extractall(into, filter="data")
    (root,) = into.iterdir()
    return root


def _run(suite: Suite, mode: str, workdir: Path) -> tuple[dict[str, Any], str]:
    root = _extract(_sdist(suite), workdir / "source")
    outcomes_file = workdir / "outcomes.json"
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(PLUGINS), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    env[OUTCOMES_FILE_VARIABLE] = str(outcomes_file)
    completed = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-p", mode, "-p", "record_outcomes"),
            *("-p", "no:cacheprovider", "-q", "-rfEs", "--basetemp", str(workdir / "tmp")),
            *suite.test_paths,
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=SUITE_TIMEOUT_SECONDS,
    )
    output = completed.stdout + completed.stderr
    assert outcomes_file.exists(), output
    record: dict[str, Any] = json.loads(outcomes_file.read_text(encoding="utf-8"))
    return record, output


@pytest.mark.parametrize(
    ("suite", "mode"),
    [(suite, mode) for suite in SUITES for mode in suite.modes],
    ids=lambda value: value.package if isinstance(value, Suite) else value,
)
def test_suite_outcomes_are_the_recorded_ones(suite: Suite, mode: str, tmp_path: Path) -> None:
    record, output = _run(suite, mode, tmp_path)
    tail = output[-6000:]
    assert record["chromadb"] == ("azurite" if mode == CHROMADB_IS_AZURITE else "chromadb")
    assert record["client_factory"].startswith("azurite.")
    outcomes: dict[str, str] = record["outcomes"]

    failed = {test for test, outcome in outcomes.items() if outcome not in ("passed", "skipped")}
    skipped = {test for test, outcome in outcomes.items() if outcome == "skipped"}
    unexpected = sorted(failed - set(suite.expected_failures))
    now_passing = sorted(set(suite.expected_failures) - failed)
    assert not unexpected, f"failing, not listed: {unexpected}\n{tail}"
    assert not now_passing, f"listed as failing, but did not fail: {now_passing}"
    for test, listed in suite.expected_failures.items():
        message = record["failure_messages"][test]
        assert any(part in message for part in listed.message_contains), (
            f"{test} fails, but not for the listed reason ({listed.reason}): {message}"
        )
    assert skipped == set(suite.expected_skips), tail
    assert len(outcomes) == suite.collected, tail
