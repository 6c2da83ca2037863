"""Which of chromadb 1.5.9's tests run against the server under test, and why the others do not.

The suite's mechanism for an external server (``CHROMA_INTEGRATION_TEST_ONLY=1``) makes its
``system`` fixture a client of the server named by ``CHROMA_SERVER_HOST`` and
``CHROMA_SERVER_HTTP_PORT``, once with the sync and once with the async HTTP client. A test is
in the selection when it reaches that fixture; every other test is left out with its reason.
"""

from __future__ import annotations

from pathlib import Path

import chromadb.test
import pytest

SUITE_ROOT = Path(chromadb.test.__file__).parent

#: Files not even collected (they fail to import or only test chromadb's internals), by path
#: relative to ``chromadb/test``.
EXCLUDED_FILES = {
    "distributed": "Chroma's distributed deployment (log service, sysdb, compactor, Kubernetes); "
    "imports chromadb.proto modules the wheel does not ship",
    "segment": "chromadb's segment internals (memberlist, rendezvous hashing of its cluster)",
    "db/test_log_purge.py": "the SQLite write-ahead log of chromadb's embedded engine",
    "property/test_persist.py": "reopens chromadb's persistent embedded engine and reads its "
    "SQLite and HNSW files (imports hnswlib)",
    "property/test_cross_version_persist.py": "installs older chromadb releases with pip and "
    "reads their data directories",
    "test_cli.py": "chromadb's `chroma` CLI over its own SQLite files",
    "utils/test_result_df_transform.py": "chromadb's pandas result helpers on hand-built results "
    "(no server; pandas is not a test dependency)",
}

#: Fixtures that start chromadb's own Python server in a subprocess (with authentication or
#: TLS) or build chromadb's embedded engine, instead of using the server under test.
OWN_SERVER_FIXTURES = {
    "sqlite": "chromadb's embedded engine (SegmentAPI over SQLite)",
    "sqlite_persistent": "chromadb's persistent embedded engine (SegmentAPI over SQLite)",
    "client_ssl": "chromadb's own Python server with TLS, started by the suite",
    "api_wrong_cred": "chromadb's own Python server with basic authentication",
    "api_with_server_auth": "chromadb's own Python server with basic authentication",
    "api_with_authn_rbac_authz": "chromadb's own Python server with RBAC authorization",
}

#: Tests that take the server fixture but use something else, by file and function name.
EXCLUDED_TESTS = {
    "test_api.py::test_persist_index_loading_params": "reopens chromadb's persistent embedded "
    "engine (fixture local_persist_api); its server fixture only resets",
}

#: Tests left to the full form: each embeds 250 to 500 documents with chromadb's default
#: embedding function (all-MiniLM-L6-v2 on onnxruntime, in the client), one to two minutes
#: per test on 2 cores.
FULL_FORM_ONLY = {
    "api/test_schema_e2e.py::test_schema_discovers_new_keys_after_compaction",
    "api/test_schema_e2e.py::test_schema_rejects_conflicting_discoverable_key_types",
    "api/test_schema_e2e.py::test_collection_fork_inherits_and_isolates_schema",
    "api/test_schema_e2e.py::test_schema_precedence_for_overrides_discoverables_and_defaults",
}

NO_SERVER = (
    "does not use the server under test: chromadb's own code alone (client-side classes, "
    "embedding functions with mocked providers, or an embedded engine the test builds)"
)


def excluded_file_reason(relative_path: str) -> str | None:
    for prefix, reason in EXCLUDED_FILES.items():
        if relative_path == prefix or relative_path.startswith(prefix + "/"):
            return reason
    return None


def excluded_reason(item: pytest.Item, form: str) -> str | None:
    """Why ``item`` is left out of the selection of ``form``, or None if it runs."""
    test = f"{item.path.relative_to(SUITE_ROOT).as_posix()}::{getattr(item, 'originalname', item.name)}"
    if test in EXCLUDED_TESTS:
        return EXCLUDED_TESTS[test]
    if form == "short" and test in FULL_FORM_ONLY:
        return "full form only"
    fixtures = set(getattr(item, "fixturenames", ()))
    for fixture, reason in OWN_SERVER_FIXTURES.items():
        if fixture in fixtures:
            return reason
    if "system" not in fixtures and "system_http_server" not in fixtures:
        return NO_SERVER
    return None
