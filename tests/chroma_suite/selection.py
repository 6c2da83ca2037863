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

#: The reasons chromadb 1.5.9 gives when it skips a test outside distributed Chroma, word for
#: word (``skipif`` marks with exactly one of them are what a lifted test loses).
SEARCH_DISTRIBUTED_ONLY = "Search API only available in distributed mode"
GROUP_BY_DISTRIBUTED_ONLY = "GroupBy is only supported in distributed mode"
# Chroma uses its SPANN index as the sign of a distributed deployment: every test of the
# Search API or of sparse vectors in api/ carries this skip, though none of them needs SPANN.
SPANN_DISABLED = "SPANN creation/modification disallowed in Rust bindings or integration test mode"
# The fork tests carry this one (``skip_if_not_cluster``).
CLUSTER_ONLY = "Requires Kubernetes to be running with a valid config"

#: chromadb's tests of the Chroma Cloud features Azurite implements (issue 13: the Search API,
#: GroupBy, sparse vectors, fork), by file and function name, each with the skips it ships
#: with.
#: Against ``azurite run`` those skips alone are lifted: the module-level conditions stay as
#: chromadb sets them in integration mode, so a test that reads them in its body still takes
#: its single-node path (no compaction waits, HNSW rather than SPANN). Against ``chroma run``
#: the tests stay skipped: it refuses these features locally. A lifted test must pass against
#: Azurite unless ``known_differences.json`` names it with its reason.
#:
#: Skipped outside distributed Chroma and left out, with why:
#: - api/test_indexing_status.py: get_indexing_status() reports the compactor's progress
#:   (indexed vs unindexed log operations); some of its tests wait for a compaction.
#: - api/test_count_api.py: count() at the read levels of a log-and-compactor deployment; not
#:   the Search API.
#: - api/test_schema_e2e.py::test_modify_collection_* (4 tests) and
#:   configurations/test_collection_configuration.py SPANN tests: a SPANN vector index, which
#:   Azurite does not build (HNSW only, as chromadb locally).
#: - api/test_schema_e2e.py::test_create_index_with_key_type, test_delete_index_with_key_type,
#:   test_server_validates_schema_with_special_keys: metadata index and schema-key validation,
#:   neither Search, GroupBy nor sparse vectors.
CLOUD_FEATURE_TESTS: dict[str, tuple[str, ...]] = {
    "property/test_embeddings.py::test_embeddings_state_with_search": (SEARCH_DISTRIBUTED_ONLY,),
    "property/test_filtering.py::test_filterable_metadata_search": (SEARCH_DISTRIBUTED_ONLY,),
    "property/test_filtering.py::test_filterable_metadata_query_via_search": (
        SEARCH_DISTRIBUTED_ONLY,
    ),
    "property/test_add.py::test_search_group_by": (GROUP_BY_DISTRIBUTED_ONLY,),
    "api/test_search_api.py::test_search_with_read_level_index_and_wal": (SPANN_DISABLED,),
    "api/test_search_api.py::test_search_with_read_level_index_only": (SPANN_DISABLED,),
    "api/test_search_api.py::test_search_with_read_level_index_and_bounded_wal": (SPANN_DISABLED,),
    "api/test_search_api.py::test_search_default_read_level": (SPANN_DISABLED,),
    **{
        f"api/test_schema_e2e.py::{name}": (SPANN_DISABLED,)
        for name in (
            "test_sparse_vector_source_key_and_index_constraints",
            "test_search_embeds_string_knn_queries",
            "test_search_embeds_string_knn_queries_with_sparse_embedding_function",
            "test_search_embeds_string_queries_in_nested_ranks",
            "test_disabled_metadata_index_filters_raise_invalid_argument",
            "test_schema_embedding_configuration_enforced",
            "test_sparse_auto_embedding_with_document_source_no_metadata",
            "test_sparse_auto_embedding_with_document_source_and_metadata",
            "test_sparse_auto_embedding_with_metadata_source_key",
            "test_sparse_auto_embedding_with_mixed_metadata_none_and_filled",
            "test_sparse_auto_embedding_skips_existing_values",
            "test_sparse_auto_embedding_with_missing_source_field",
            "test_sparse_auto_embedding_with_string_inverted_index",
            "test_dense_and_sparse_auto_embeddings_together",
            "test_sparse_auto_embedding_with_update_and_upsert",
            "test_sparse_auto_embedding_persistence_across_client_reload",
            "test_sparse_auto_embedding_with_batch_operations",
            "test_sparse_auto_embedding_with_empty_documents",
            "test_vector_index_config_with_key_document_source",
            "test_sparse_vector_index_config_with_key_types",
            "test_server_validates_invalid_source_key_in_sparse_vector_config",
            "test_search_api_uses_embedded_searches_with_sparse_embeddings",
            "test_fts_disabled_search_api_blocks_document_filter",
        )
    },
    **{
        f"api/test_fork_count_api.py::{name}": (CLUSTER_ONLY,)
        for name in (
            "test_fork_count_no_forks",
            "test_fork_count_after_single_fork",
            "test_fork_count_after_multiple_forks",
            "test_fork_count_empty_collection",
            "test_fork_count_returns_integer",
        )
    },
    "property/test_fork.py::test_fork": (CLUSTER_ONLY,),
    # Full form only (FULL_FORM_ONLY): it waits on compaction, unguarded, through
    # wait_for_version_increase, so it is a known difference there.
    "api/test_schema_e2e.py::test_collection_fork_inherits_and_isolates_schema": (
        SPANN_DISABLED,
        CLUSTER_ONLY,
    ),
}

#: Lifted tests that keep their skip in the short form, with why: a known difference that
#: would only spend CI time waiting out a timeout.
SHORT_FORM_KEEPS_SKIP = {
    "property/test_filtering.py::test_filterable_metadata_search": "its derandomized short-form "
    "examples include one with should_compact and more than 10 records, on which it calls "
    "wait_for_version_increase (unguarded, unlike the get() test beside it): 120 s, twice with "
    "Hypothesis's replay of the failing example, for a compaction version bump only a cluster "
    "makes; four minutes per client for a known difference",
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


def test_name(item: pytest.Item) -> str:
    """``item``'s file and function, without its parameters: how the lists above name it."""
    return f"{item.path.relative_to(SUITE_ROOT).as_posix()}::{getattr(item, 'originalname', item.name)}"


def lifted(test: str, form: str) -> bool:
    """Whether ``test`` (file and function) has its distributed-only skip lifted in ``form``
    against Azurite."""
    return test in CLOUD_FEATURE_TESTS and not (form == "short" and test in SHORT_FORM_KEEPS_SKIP)


def lifted_outcome(nodeid: str, form: str) -> bool:
    """Whether the outcome recorded under ``nodeid`` (a test with its parameters) is that of a
    lifted test."""
    return lifted(nodeid.split("[", 1)[0], form)


def excluded_reason(item: pytest.Item, form: str) -> str | None:
    """Why ``item`` is left out of the selection of ``form``, or None if it runs."""
    test = test_name(item)
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
