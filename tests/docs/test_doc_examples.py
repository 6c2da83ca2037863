"""Every Python example of Chroma's documentation pages that the spec covers, run
unchanged with ``chromadb`` resolved to azurite, and with the real chromadb 1.5.9 beside
it for comparison.

How the examples run (the rule, for every page alike):

- The blocks of one section of a page (those under one level-2 heading; those above a
  page's first such heading form a section too) run in page order in one namespace, as a reader following the section
  would run them, each whatever the previous ones raised; each section starts in a fresh
  temporary directory as the current directory, with a fresh namespace and a fresh
  in-memory database (``runner.py``, in an interpreter of its own).
- ``chromadb`` is resolved to azurite through ``sys.modules`` (an import hook gives
  ``azurite.X`` for every ``chromadb.X``), not by rewriting the examples' imports: the
  text runs byte for byte, ``from chromadb.utils.embedding_functions import ...`` and
  ``import chromadb.x as y`` included, and a module path azurite lacks fails as it would
  for a user.
- Names a section uses but never defines (``client``, ``collection``, ``emb_fn``) come
  from a small prelude per page, run at the start of each of its sections
  (``PRELUDES``, which says why); the examples' text is never edited.
- Pages whose examples reach a server on ``localhost:8000`` (``HttpClient``'s and
  ``AsyncHttpClient``'s defaults) run in a network namespace of their own, where
  ``azurite run`` (or, for chromadb, ``chroma run``) listens on 127.0.0.1:8000, so that
  nothing else on the machine can hold or see that port.
- Every block runs, except those in ``NOT_RUN`` (with the reason). A block that raises
  must be in ``FAILS_IN_CHROMADB_TOO`` (with the reason), raise with chromadb too, and
  raise an exception that ``except <chromadb's class>`` catches, with chromadb's message
  unless ``OTHER_WORDING`` says why not.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from server.servers import AZURITE, CHROMA

from .examples import Block, pages

RUNNER = Path(__file__).with_name("runner.py")
PAGES = pages()
BLOCKS = [block for page in PAGES.values() for block in page]
SERVER_ADDRESS = ["--host", "127.0.0.1", "--port", "8000"]
RUN_TIMEOUT = 600
#: Pages whose examples reach a server on localhost:8000.
SERVED_PAGES = ("guides/usage-guide", "run-chroma/client-server", "run-chroma/python-http-client")

#: An ephemeral client, as in the page on clients, for pages that use one without making it.
CLIENT = "import chromadb\nclient = chromadb.Client()\n"
#: The reader's embedding function: the default one, which needs no service or download.
EMB_FN = (
    "from chromadb.utils import embedding_functions\n"
    "emb_fn = embedding_functions.DefaultEmbeddingFunction()\n"
)
#: A collection of the ephemeral client, for pages on records that use one.
COLLECTION = CLIENT + 'collection = client.create_collection(name="my_collection")\n'
#: The multimodal pages' collection section uses the function and the data loader their
#: first two sections make. The function is OpenCLIP (torch, with weights fetched from a
#: model hub, neither of which this machine has): a deterministic function of texts and
#: images stands in for it.
MULTIMODAL = """\
import numpy as np
from chromadb import EmbeddingFunction


class StandInOpenCLIP(EmbeddingFunction):
    def __call__(self, input):
        return [
            np.array([len(x), 1.0], np.float32)
            if isinstance(x, str)
            else np.array([float(np.mean(x)), 2.0], np.float32)
            for x in input
        ]


embedding_function = StandInOpenCLIP()

from chromadb.utils.data_loaders import ImageLoader
data_loader = ImageLoader()
"""

PRELUDES: dict[str, str] = {
    "collections/add-data": COLLECTION,
    "collections/configure": CLIENT + EMB_FN,
    # Block 3 gets an existing collection named "test".
    "collections/create-get-delete": CLIENT + EMB_FN + 'client.create_collection(name="test")\n',
    "collections/delete-data": COLLECTION,
    "collections/update-data": COLLECTION,
    # The sections after the first use `embedding_functions` as the first one imports it.
    "embeddings/embedding-functions": EMB_FN,
    "guides/embeddings-guide": EMB_FN,
    "embeddings/multimodal": MULTIMODAL,
    "guides/multimodal-guide": MULTIMODAL,
    # Block 2 (not run) would make the client; the collection examples use `emb_fn` and get
    # an existing collection named "test".
    "guides/usage-guide": CLIENT + EMB_FN + 'client.create_collection(name="test")\n',
    "overview/telemetry": "import chromadb\n",
    "querying-collections/full-text-search": COLLECTION,
    "querying-collections/metadata-filtering": COLLECTION,
    "querying-collections/query-and-get": COLLECTION,
    # Block 1 (not run) would make the client.
    "run-chroma/persistent-client": CLIENT,
}
PLACEHOLDER_PATH = (
    "stores its database in /path/to/save/to, the page's placeholder for the reader's "
    "directory, outside the test's own directory"
)
NOT_RUN: dict[str, str] = {
    "guides/usage-guide#2": PLACEHOLDER_PATH,
    "overview/telemetry#1": PLACEHOLDER_PATH,
    "run-chroma/persistent-client#1": PLACEHOLDER_PATH,
}
ELLIPSIS = (
    "`...` stands for the reader's further records, and is Python's Ellipsis in the data "
    "lists, which chromadb refuses too"
)
PSEUDO_CODE = "the shape of a filter with `<Operator>: <Value>` placeholders, not Python"
NO_TORCH = (
    "needs {package}, which needs torch and fetches its model from a model hub, neither of "
    "which this machine has; chromadb refuses the same way"
)
RESET_REFUSED = (
    "`client.reset()` needs `Settings(allow_reset=True)`, which the page's client does not "
    "set: chromadb refuses it too"
)
FAILS_IN_CHROMADB_TOO: dict[str, str] = {
    "collections/add-data#1": ELLIPSIS,
    "collections/add-data#2": ELLIPSIS,
    "collections/add-data#3": ELLIPSIS,
    "collections/create-get-delete#2": (
        "creates my_collection, which the page's first example has created: chromadb raises "
        "InternalError, and azurite's AlreadyExistsError is one"
    ),
    "collections/delete-data#1": ELLIPSIS,
    "collections/update-data#1": ELLIPSIS,
    "collections/update-data#2": ELLIPSIS,
    "embeddings/embedding-functions#3": NO_TORCH.format(package="sentence-transformers"),
    "guides/embeddings-guide#2": NO_TORCH.format(package="sentence-transformers"),
    "guides/usage-guide#3": RESET_REFUSED,
    "guides/usage-guide#6": "a shell command (`pip install chromadb-client`) marked as Python",
    "guides/usage-guide#11": "indented by one space in the page: Python's IndentationError",
    **{f"guides/usage-guide#{n}": ELLIPSIS for n in (12, 13, 14, 15, 16, 17, 18, 25, 26, 27)},
    **{f"guides/usage-guide#{n}": PSEUDO_CODE for n in (19, 23, 24)},
    "querying-collections/full-text-search#2": ELLIPSIS,
    **{f"querying-collections/metadata-filtering#{n}": PSEUDO_CODE for n in (1, 3, 4)},
    **{f"querying-collections/query-and-get#{n}": ELLIPSIS for n in (1, 2, 3, 4)},
    "run-chroma/persistent-client#2": RESET_REFUSED,
}
for _page in ("embeddings/multimodal", "guides/multimodal-guide"):
    FAILS_IN_CHROMADB_TOO[f"{_page}#1"] = NO_TORCH.format(package="open-clip-torch")
    for _n in (4, 5, 7, 9, 11):
        FAILS_IN_CHROMADB_TOO[f"{_page}#{_n}"] = ELLIPSIS
    FAILS_IN_CHROMADB_TOO[f"{_page}#10"] = (
        "passes `includes=`, which is no parameter of `query` (the page means `include=`): "
        "the same TypeError as chromadb's"
    )
#: Blocks that fail with both, where azurite's message is its own.
OTHER_WORDING: dict[str, str] = {
    **dict.fromkeys(
        (
            "embeddings/embedding-functions#3",
            "guides/embeddings-guide#2",
            "embeddings/multimodal#1",
            "guides/multimodal-guide#1",
        ),
        "azurite's message names the function that needs the package, and the pip command",
    ),
}
#: Blocks that fail with both, where chromadb 1.5.9 crashes before its own validation
#: (``.items()`` on a metadata that is not a dict: AttributeError) and azurite gives the
#: validator's ValueError, as tests/differential/test_against_chromadb.py's
#: SPEC_OVER_CHROMADB does for the same input.
VALIDATED_WHERE_CHROMADB_CRASHES = ("collections/add-data#1", "guides/usage-guide#12")


def sections(page_names: list[str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for page in page_names:
        by_section: dict[str, list[Block]] = {}
        for block in PAGES[page]:
            by_section.setdefault(block.section, []).append(block)
        for blocks in by_section.values():
            found.append(
                {
                    "prelude": PRELUDES.get(page, ""),
                    "blocks": [[b.name, b.code] for b in blocks if b.name not in NOT_RUN],
                }
            )
    return found


Run = tuple[subprocess.Popen[bytes], Path]


def start(system: str, page_names: list[str], directory: Path, served: bool) -> Run:
    directory.mkdir(parents=True)
    server = None
    if served:
        command = AZURITE if system == "azurite" else CHROMA
        server = [*command, "--path", str(directory / "served"), *SERVER_ADDRESS]
    request = directory / "request.json"
    request.write_text(json.dumps({"sections": sections(page_names), "server": server}))
    command = [sys.executable, str(RUNNER), system, str(request), str(directory / "result.json")]
    if served:
        # A network namespace of its own: port 8000 is free there whatever runs here.
        command = ["unshare", "-rn", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *command]
    # chromadb's product telemetry would try to reach its service, which this machine has
    # no route to; the examples never read the setting.
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    with (directory / "runner.log").open("w") as log:
        process = subprocess.Popen(
            command,
            cwd=directory,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process, directory


def finish(run: Run) -> dict[str, Any]:
    process, directory = run
    try:
        process.wait(timeout=RUN_TIMEOUT)
    finally:
        # The runner's group holds its server too.
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 0, (directory / "runner.log").read_text()
    outcomes: dict[str, Any] = json.loads((directory / "result.json").read_text())
    return outcomes


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """System → block name → what running it raised (None if it ran). Every run starts at
    once (they are mostly single-threaded): the pages without a server in two
    interpreters per system, each page with a server in its own, with its own server."""
    root = tmp_path_factory.mktemp("docs")
    local = [page for page in PAGES if page not in SERVED_PAGES]
    runs: dict[str, list[Run]] = {}
    for system in ("azurite", "chromadb"):
        runs[system] = [
            start(system, local[half::2], root / system / f"local-{half}", served=False)
            for half in range(2)
        ]
        for number, page in enumerate(SERVED_PAGES):
            runs[system].append(
                start(system, [page], root / system / f"served-{number}", served=True)
            )
    found: dict[str, dict[str, Any]] = {}
    for system, started in runs.items():
        found[system] = {}
        for run in started:
            found[system].update(finish(run))
    return found


def test_every_block_is_found() -> None:
    assert len(BLOCKS) == 90
    names = {b.name for b in BLOCKS}
    listed = [*NOT_RUN, *FAILS_IN_CHROMADB_TOO, *OTHER_WORDING, *VALIDATED_WHERE_CHROMADB_CRASHES]
    assert sorted(set(listed) - names) == []
    assert set(NOT_RUN).isdisjoint(FAILS_IN_CHROMADB_TOO)


@pytest.mark.parametrize(
    "block", [b for b in BLOCKS if b.name not in NOT_RUN], ids=lambda b: b.name
)
def test_example(block: Block, outcomes: dict[str, dict[str, Any]]) -> None:
    ours = outcomes["azurite"][block.name]
    theirs = outcomes["chromadb"][block.name]
    if block.name not in FAILS_IN_CHROMADB_TOO:
        assert ours is None, f"line {block.line}:\n{block.code}\nraised {ours}"
        assert theirs is None
        return
    assert theirs is not None, "listed as failing with chromadb too, but it runs there"
    assert ours is not None, "listed as failing with chromadb too, but it runs with azurite"
    if block.name in VALIDATED_WHERE_CHROMADB_CRASHES:
        assert theirs["classes"][0] == "AttributeError"
        assert ours["classes"][0] == "ValueError"
        assert "Ellipsis" in ours["message"]
        return
    assert theirs["classes"][0] in ours["classes"]
    if block.name not in OTHER_WORDING:
        assert ours["message"] == theirs["message"]
