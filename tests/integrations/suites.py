"""The integrations whose own test suites run against Azurite, and what each run must give.

Each suite is the test directory of a package's source distribution on PyPI, pinned by version
and digest, run unchanged by its own pytest configuration. Every collected test must pass,
except the ones listed here with the reason; a listed test that passes fails the check too,
so the lists stay exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Every `import chromadb...` of the run imports Azurite (plugin chromadb_is_azurite).
CHROMADB_IS_AZURITE = "chromadb_is_azurite"
# The real chromadb is imported, but every client is Azurite's (plugin azurite_clients): the
# package receives an Azurite client where it takes `client=`.
AZURITE_CLIENTS = "azurite_clients"


@dataclass(frozen=True)
class ListedFailure:
    reason: str
    # The test must fail with a message containing one of these, so that it keeps failing
    # for the listed reason and not for another one.
    message_contains: tuple[str, ...]


@dataclass(frozen=True)
class Suite:
    package: str
    version: str
    sdist_sha256: str
    test_paths: tuple[str, ...]
    modes: tuple[str, ...]
    collected: int
    expected_failures: dict[str, ListedFailure] = field(default_factory=dict)
    expected_skips: dict[str, str] = field(default_factory=dict)

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


_CHROMADBS_OWN_CLIENT_CLASSES = ListedFailure(
    reason=(
        "asserts that the client is chromadb's own client class (chromadb.ClientCreator, "
        "when the real chromadb is imported) and that client._server is "
        "chromadb.api.rust.RustBindingsAPI, chromadb's private class for its Rust-bindings "
        "server, to call its stop(); Azurite has no such class"
    ),
    message_contains=("RustBindingsAPI", "<class 'chromadb.api.client.Client'>"),
)
_NEEDS_SERVER_ON_PORT_8000 = (
    "skipped by the suite itself unless a Chroma server answers on localhost:8000"
)
_NEEDS_CHROMADB_0_4 = (
    "skipped by the suite itself unless chromadb.__version__ is 0.4.10 or a later 0.x "
    "(it is 1.5.9), and it also needs a Chroma server on localhost:8000"
)

LANGCHAIN_CHROMA = Suite(
    package="langchain-chroma",
    version="1.1.0",
    sdist_sha256="8069685e7848041e998d16c8a4964256b031fd20551bf59429173415bc2adc12",
    test_paths=("tests",),
    modes=(CHROMADB_IS_AZURITE, AZURITE_CLIENTS),
    collected=67,
    expected_failures={
        "tests/integration_tests/test_vectorstores.py::test_chroma_with_persistence": (
            _CHROMADBS_OWN_CLIENT_CLASSES
        ),
        "tests/integration_tests/test_vectorstores.py"
        "::test_chroma_with_persistence_with_client_settings": _CHROMADBS_OWN_CLIENT_CLASSES,
    },
    expected_skips={
        "tests/integration_tests/test_vectorstores.py::test_chroma_large_batch": (
            _NEEDS_CHROMADB_0_4
        ),
        "tests/integration_tests/test_vectorstores.py::test_chroma_large_batch_update": (
            _NEEDS_CHROMADB_0_4
        ),
        "tests/integration_tests/test_vectorstores.py::test_chroma_legacy_batching": (
            _NEEDS_SERVER_ON_PORT_8000
        ),
    },
)

# autogen's ChromaDBVectorMemory builds its client itself from a configuration (it takes no
# client), so only the run with Azurite as chromadb applies. Its tests embed with
# DefaultEmbeddingFunction, which Azurite computes offline (all-MiniLM-L6-v2, deterministic).
AUTOGEN_EXT = Suite(
    package="autogen-ext",
    version="0.7.5",
    sdist_sha256="711ab9238ea66ff2abef163c331e538092bdea661620727a4a9b2ebce1c22df9",
    test_paths=("tests/memory/test_chroma_memory.py",),
    modes=(CHROMADB_IS_AZURITE,),
    collected=15,
    expected_failures={
        "tests/memory/test_chroma_memory.py::test_sentence_transformer_embedding_function": (
            ListedFailure(
                reason=(
                    "needs the sentence-transformers package (torch) and downloads the "
                    "all-MiniLM-L6-v2 model from the Hugging Face Hub"
                ),
                message_contains=("pip install sentence-transformers",),
            )
        ),
    },
)

SUITES = (LANGCHAIN_CHROMA, AUTOGEN_EXT)
