"""Runs documentation examples in a fresh interpreter:
``python runner.py SYSTEM REQUEST RESULT``, where SYSTEM is ``azurite`` (every import of
``chromadb`` and ``chromadb.*`` resolves to azurite's module of the same path) or
``chromadb`` (the real package, for comparison).

REQUEST is a JSON file: ``sections``, each a ``prelude`` (source) and ``blocks``
(``[name, source]`` pairs), and ``server``, a command serving Chroma's API on
127.0.0.1:8000 (started first, stopped at the end) or null. Each section runs in a fresh
directory under the current one, in a fresh namespace, with a fresh database (the
process's clients are closed in between): its prelude, then its blocks in order, each
whatever the previous ones raised. RESULT receives, per block name, null if the block ran,
else ``{"classes": [the exception's class and its bases], "message": str}``.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.machinery
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

SERVER_URL = "http://127.0.0.1:8000"
STARTUP_TIMEOUT = 60.0


class ChromadbIsAzurite(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """``import chromadb.X`` gives the module ``azurite.X`` itself (not a copy), as
    ``import azurite as chromadb`` gives ``azurite``."""

    def __init__(self) -> None:
        self._own_specs: dict[str, Any] = {}

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != "chromadb" and not fullname.startswith("chromadb."):
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: Any) -> ModuleType:
        module = importlib.import_module("azurite" + spec.name[len("chromadb") :])
        self._own_specs[spec.name] = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # The import system has just set the alias's spec on the module: give it back its
        # own (the module is already executed).
        module.__spec__ = self._own_specs.pop(module.__spec__.name)


def use_azurite_model_in_chromadb() -> None:
    """chromadb's default function reads the model Azurite's uses, through a scratch
    directory: nothing is downloaded and the user's cache is untouched."""
    from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

    from azurite.embedding_functions import _minilm_files

    scratch = Path(tempfile.mkdtemp())
    (scratch / "onnx").symlink_to(_minilm_files.resolve_model_dir(), target_is_directory=True)
    ONNXMiniLM_L6_V2.DOWNLOAD_PATH = scratch


@contextlib.contextmanager
def serving(command: list[str] | None) -> Any:
    if command is None:
        yield
        return
    import httpx

    log = open("server.log", "wb")  # noqa: SIM115 (closed below, after the server)
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {Path('server.log').read_text()}")
            try:
                httpx.get(f"{SERVER_URL}/api/v2/heartbeat", timeout=1.0)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield
    finally:
        process.terminate()
        process.wait(30)
        log.close()


def run_block(code: str, namespace: dict[str, Any], name: str) -> dict[str, Any] | None:
    try:
        exec(compile(code, name, "exec"), namespace)
    except BaseException as exc:
        print(f"--- {name}", file=sys.stderr)
        traceback.print_exc()
        return {"classes": [c.__name__ for c in type(exc).__mro__], "message": str(exc)}
    return None


def close_clients() -> None:
    """Closes every client of the system under test, so the next section starts with a
    new in-memory database."""
    package = sys.modules.get("chromadb")
    if package is not None:
        package.api.client.SharedSystemClient.clear_system_cache()


def main() -> None:
    system, request_file, result_file = sys.argv[1:]
    request = json.loads(Path(request_file).read_text())
    if system == "azurite":
        sys.meta_path.insert(0, ChromadbIsAzurite())
    else:
        use_azurite_model_in_chromadb()
    outcomes: dict[str, dict[str, Any] | None] = {}
    home = Path.cwd()
    # The examples print their results: keep them off this process's stdout.
    with serving(request["server"]), contextlib.redirect_stdout(sys.stderr):
        for number, section in enumerate(request["sections"]):
            directory = home / f"section-{number}"
            directory.mkdir()
            os.chdir(directory)
            namespace: dict[str, Any] = {"__name__": "__main__"}
            failure = run_block(section["prelude"], namespace, "prelude")
            if failure is not None:
                raise SystemExit(f"the prelude of section {number} failed: {failure}")
            for name, code in section["blocks"]:
                outcomes[name] = run_block(code, namespace, name)
            close_clients()
            os.chdir(home)
    Path(result_file).write_text(json.dumps(outcomes))


if __name__ == "__main__":
    main()
