"""The HTTP API itself, request by request, against a real ``azurite run``: paths, JSON
shapes, status codes, error JSON and the encodings Chroma's clients use, all as Chroma's
own server (chromadb 1.5.9) answers them: errors as ``{"error", "message"}`` with a
``chroma-trace-id`` header, bodies that do not fit the request type as 422, invalid JSON
as 400, and embeddings written as lists of numbers or as base64 little-endian float32."""

from __future__ import annotations

import base64
import re
import struct
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .servers import Server

TRACE_ID = "0" * 32
DEFAULT = "/api/v2/tenants/default_tenant/databases/default_database"


@pytest.fixture(scope="module")
def http(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30.0) as client:
        yield client


def error_of(response: httpx.Response) -> tuple[int, str, str]:
    assert response.headers["chroma-trace-id"] == TRACE_ID
    body = response.json()
    assert set(body) == {"error", "message"}
    return response.status_code, body["error"], body["message"]


def new_collection(http: httpx.Client, **body: Any) -> dict[str, Any]:
    response = http.post(f"{DEFAULT}/collections", json={"name": f"w-{uuid.uuid4().hex}", **body})
    assert response.status_code == 200, response.text
    return response.json()


def records(collection: dict[str, Any]) -> str:
    return f"{DEFAULT}/collections/{collection['id']}"


def b64(vector: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


# ---- system endpoints


def test_start_up_calls(http: httpx.Client) -> None:
    assert http.get("/api/v2/auth/identity").json() == {
        "user_id": "",
        "tenant": "default_tenant",
        "databases": ["default_database"],
    }
    assert http.get("/api/v2/tenants/default_tenant").json() == {
        "name": "default_tenant",
        "resource_name": None,
    }
    database = http.get(DEFAULT).json()
    assert set(database) == {"id", "name", "tenant"}
    assert (database["name"], database["tenant"]) == ("default_database", "default_tenant")
    assert http.get("/api/v2/pre-flight-checks").json() == {
        "max_batch_size": 5461,
        "supports_base64_encoding": True,
    }


def test_heartbeat_version_healthcheck(http: httpx.Client) -> None:
    for path in ("/api/v2/heartbeat", "/api/v2"):
        body = http.get(path).json()
        assert list(body) == ["nanosecond heartbeat"]
        assert isinstance(body["nanosecond heartbeat"], int)
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", http.get("/api/v2/version").json())
    assert http.get("/api/v2/healthcheck").json() == {
        "is_executor_ready": True,
        "is_log_client_ready": True,
    }


def test_openapi_and_docs(http: httpx.Client) -> None:
    document = http.get("/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert (
        f"{DEFAULT.replace('default_tenant', '{tenant}').replace('default_database', '{database}')}/collections"
        in document["paths"]
    )
    docs = http.get("/docs")
    assert docs.status_code == 200
    assert "/openapi.json" in docs.text


def test_unknown_routes_wrong_methods_and_v1(http: httpx.Client) -> None:
    missing = http.get("/api/v2/nothing-here")
    assert (missing.status_code, missing.content) == (404, b"")
    wrong_method = http.delete("/api/v2/heartbeat")
    assert (wrong_method.status_code, wrong_method.content) == (405, b"")
    gone = http.get("/api/v1/heartbeat")
    assert gone.status_code == 410
    assert gone.json() == {
        "error": "Unimplemented",
        "message": "The v1 API is deprecated. Please use /v2 apis",
    }


# ---- request decoding errors


def test_body_must_be_json(http: httpx.Client) -> None:
    collection = new_collection(http)
    no_type = http.post(f"{records(collection)}/get", content=b"{}")
    assert error_of(no_type) == (
        415,
        "ChromaError",
        "Expected request with `Content-Type: application/json`",
    )
    broken = http.post(
        f"{records(collection)}/get", content=b"{", headers={"content-type": "application/json"}
    )
    status, name, message = error_of(broken)
    assert (status, name) == (400, "InvalidArgumentError")
    assert message.startswith("Failed to parse the request body as JSON")


def test_bodies_that_do_not_fit_the_request_type(http: httpx.Client) -> None:
    collection = new_collection(http)
    cases = [
        ("get", {"include": ["bogus"]}, "include[0]: unknown variant `bogus`"),
        ("add", {"ids": ["a"], "embeddings": [[1.0]], "metadatas": [{"k": None}]}, "metadatas[0]"),
        ("add", {"embeddings": [[1.0]]}, "missing field `ids`"),
        ("query", {"query_embeddings": [b64([1.0])]}, "query_embeddings[0]"),
        ("get", [], "invalid type: sequence, expected struct GetRequestPayload"),
        (
            "add",
            [],
            "invalid length 0, expected struct AddCollectionRecordsPayload with 5 elements",
        ),
        ("get", {"limit": 2**40}, "limit: invalid value: integer `1099511627776`, expected u32"),
        ("query", {"query_embeddings": [[1.0]], "n_results": 2**32}, "expected u32"),
        (
            "add",
            {"ids": ["a"], "embeddings": [[1.0]], "metadatas": [{"k": [1, "x"]}]},
            "metadatas[0].k: data did not match any variant of untagged enum MetadataValue",
        ),
    ]
    for route, body, detail in cases:
        status, name, message = error_of(http.post(f"{records(collection)}/{route}", json=body))
        assert (status, name) == (422, "ChromaError"), (route, body)
        assert message.startswith("Failed to deserialize the JSON body into the target type: ")
        assert detail in message


def test_collection_metadata_that_does_not_fit(http: httpx.Client) -> None:
    nested = http.post(f"{DEFAULT}/collections", json={"name": "nested", "metadata": {"a": {}}})
    status, name, message = error_of(nested)
    assert (status, name) == (422, "ChromaError")
    assert message.endswith(
        "metadata.a: data did not match any variant of untagged enum MetadataValue"
    )
    collection = new_collection(http)
    mixed = http.put(records(collection), json={"new_metadata": {"a": [True, 1]}})
    status, name, message = error_of(mixed)
    assert (status, name) == (422, "ChromaError")
    assert "new_metadata.a: data did not match" in message


def test_empty_metadata_lists(http: httpx.Client) -> None:
    empty = (400, "InvalidArgumentError", "Empty lists are not allowed as metadata values")
    created = http.post(f"{DEFAULT}/collections", json={"name": "empty", "metadata": {"a": []}})
    assert error_of(created) == empty
    collection = new_collection(http)
    added = http.post(
        f"{records(collection)}/add",
        json={"ids": ["a"], "embeddings": [[1.0]], "metadatas": [{"k": []}]},
    )
    assert error_of(added) == empty


def test_query_string_beyond_u32(http: httpx.Client) -> None:
    too_large = http.get(f"{DEFAULT}/collections", params={"limit": 2**40})
    assert error_of(too_large) == (
        400,
        "InvalidArgumentError",
        "Failed to deserialize query string: limit: number too large to fit in target type",
    )


def test_filters_nested_too_deep(http: httpx.Client) -> None:
    """Nested deeper than the server can re-encode for the engine, though not too deep to
    parse: refused as the engine refuses clauses too deep."""
    collection = new_collection(http)
    depth = 505
    for key, innermost, message in [
        ("where", '{"a": 1}', "Invalid where clause"),
        ("where_document", '{"$contains": "a"}', "Invalid where document clause"),
    ]:
        clause = '{"$and": [' * depth + innermost + "]}" * depth
        reply = http.post(
            f"{records(collection)}/get",
            content=f'{{"{key}": {clause}}}'.encode(),
            headers={"content-type": "application/json"},
        )
        assert error_of(reply) == (400, "InvalidArgumentError", message)


# ---- collections


def test_collection_json(http: httpx.Client) -> None:
    collection = new_collection(
        http,
        metadata={"a": 1},
        configuration={"hnsw": {"space": "cosine"}, "spann": None, "embedding_function": None},
    )
    assert set(collection) == {
        "id", "name", "configuration_json", "schema", "metadata", "dimension",
        "tenant", "database", "log_position", "version",
    }  # fmt: skip
    assert collection["metadata"] == {"a": 1}
    assert collection["configuration_json"]["hnsw"]["space"] == "cosine"
    vector_index = collection["schema"]["keys"]["#embedding"]["float_list"]["vector_index"]
    assert vector_index["enabled"] is True
    assert vector_index["config"]["space"] == "cosine"
    assert vector_index["config"]["hnsw"]["ef_search"] == 100
    assert (collection["dimension"], collection["tenant"]) == (None, "default_tenant")
    by_id = http.get(f"{DEFAULT}/collections/by-id/{collection['id']}").json()
    by_name = http.get(f"{DEFAULT}/collections/{collection['name']}").json()
    assert by_id == by_name == collection
    http.post(f"{records(collection)}/add", json={"ids": ["a"], "embeddings": [[1.0, 2.0]]})
    assert http.get(f"{DEFAULT}/collections/{collection['name']}").json()["dimension"] == 2


def test_collection_errors(http: httpx.Client) -> None:
    collection = new_collection(http)
    duplicate = http.post(f"{DEFAULT}/collections", json={"name": collection["name"]})
    assert error_of(duplicate) == (
        409,
        "ChromaError",
        f"Collection [{collection['name']}] already exists",
    )
    existing = http.post(
        f"{DEFAULT}/collections", json={"name": collection["name"], "get_or_create": True}
    )
    assert existing.json()["id"] == collection["id"]
    assert error_of(http.get(f"{DEFAULT}/collections/nope-nope")) == (
        404,
        "NotFoundError",
        "Collection [nope-nope] does not exist",
    )
    assert error_of(http.get(f"{DEFAULT}/collections/by-id/not-a-uuid")) == (
        400,
        "InvalidArgumentError",
        "Validation error: collection_id: Invalid collection ID format, expected UUID",
    )
    empty_metadata = http.put(records(collection), json={"new_metadata": {}})
    assert error_of(empty_metadata) == (
        400,
        "InvalidArgumentError",
        "Validation error: new_metadata: Metadata cannot be empty",
    )
    in_missing_database = http.post(
        "/api/v2/tenants/default_tenant/databases/nodb/collections", json={"name": "abc"}
    )
    assert error_of(in_missing_database) == (
        400,
        "InvalidArgumentError",
        "Database [nodb] does not exist",
    )
    short_database = http.get("/api/v2/tenants/default_tenant/databases/ab/collections")
    assert error_of(short_database)[:2] == (400, "InvalidArgumentError")


def test_modify_and_count_collections(http: httpx.Client) -> None:
    collection = new_collection(http, metadata={"old": 1})
    before = http.get(f"{DEFAULT}/collections_count").json()
    new_name = f"w-{uuid.uuid4().hex}"
    modified = http.put(records(collection), json={"new_name": new_name, "new_metadata": {"n": 2}})
    assert (modified.status_code, modified.json()) == (200, {})
    fetched = http.get(f"{DEFAULT}/collections/{new_name}").json()
    assert (fetched["id"], fetched["metadata"]) == (collection["id"], {"n": 2})
    assert http.delete(f"{DEFAULT}/collections/{new_name}").json() == {}
    assert http.get(f"{DEFAULT}/collections_count").json() == before - 1
    listed = http.get(f"{DEFAULT}/collections", params={"limit": 1, "offset": 0}).json()
    assert len(listed) <= 1
    bad_limit = http.get(f"{DEFAULT}/collections", params={"limit": "x"})
    assert error_of(bad_limit)[:2] == (400, "InvalidArgumentError")


# ---- records


def test_add_with_base64_and_plain_embeddings(http: httpx.Client) -> None:
    collection = new_collection(http)
    added = http.post(
        f"{records(collection)}/add",
        json={"ids": ["a"], "embeddings": [b64([1.0, 2.0])], "metadatas": [{"k": 1}],
              "documents": ["doc a"], "uris": ["u"]},
    )  # fmt: skip
    assert (added.status_code, added.json()) == (201, {})
    added = http.post(
        f"{records(collection)}/add",
        json={"ids": ["b"], "embeddings": [[3.0, 4.0]], "metadatas": [None],
              "documents": [None], "uris": [None]},
    )  # fmt: skip
    assert (added.status_code, added.json()) == (201, {})
    # One payload is all base64 or all lists, as Chroma's server reads it.
    mixed = http.post(
        f"{records(collection)}/add",
        json={"ids": ["c", "d"], "embeddings": [b64([1.0, 2.0]), [3.0, 4.0]]},
    )
    assert error_of(mixed) == (
        422,
        "ChromaError",
        "Failed to deserialize the JSON body into the target type: "
        "embeddings: data did not match any variant of untagged enum EmbeddingsPayload",
    )
    got = http.post(
        f"{records(collection)}/get",
        json={"include": ["embeddings", "metadatas", "documents", "uris"]},
    ).json()
    assert got == {
        "ids": ["a", "b"],
        "embeddings": [[1.0, 2.0], [3.0, 4.0]],
        "documents": ["doc a", None],
        "uris": ["u", None],
        "metadatas": [{"k": 1}, None],
        "include": ["embeddings", "metadatas", "documents", "uris"],
    }
    default = http.post(f"{records(collection)}/get", json={}).json()
    assert (default["embeddings"], default["uris"]) == (None, None)
    assert default["include"] == ["documents", "metadatas"]
    # "distances" is accepted by get and ignored.
    assert http.post(f"{records(collection)}/get", json={"include": ["distances"]}).is_success


def test_base64_errors(http: httpx.Client) -> None:
    collection = new_collection(http)
    for embedding in ("not base64!", base64.b64encode(b"abc").decode(), b64([float("inf")])):
        response = http.post(
            f"{records(collection)}/add", json={"ids": ["a"], "embeddings": [embedding]}
        )
        status, name, message = error_of(response)
        assert (status, name) == (400, "InvalidArgumentError")
        assert message.startswith("Base64 decoding error")


def test_query_shape_and_defaults(http: httpx.Client) -> None:
    collection = new_collection(http)
    http.post(
        f"{records(collection)}/add",
        json={"ids": ["a", "b"], "embeddings": [[0.0, 0.0], [3.0, 4.0]], "documents": ["x", "y"]},
    )
    result = http.post(
        f"{records(collection)}/query", json={"query_embeddings": [[0.0, 0.0], [3.0, 4.0]]}
    ).json()
    assert result == {
        "ids": [["a", "b"], ["b", "a"]],
        "embeddings": None,
        "documents": [["x", "y"], ["y", "x"]],
        "uris": None,
        "metadatas": [[None, None], [None, None]],
        "distances": [[0.0, 25.0], [0.0, 25.0]],
        "include": ["documents", "metadatas", "distances"],
    }
    nothing = http.post(
        f"{records(collection)}/query",
        json={"query_embeddings": [[0.0, 0.0]], "where": {"k": 1}, "include": ["distances"]},
    ).json()
    assert (nothing["ids"], nothing["distances"]) == ([[]], [[]])
    unknown_id = http.post(
        f"{records(collection)}/query", json={"query_embeddings": [[0.0, 0.0]], "ids": ["zz"]}
    )
    assert error_of(unknown_id) == (
        500,
        "InternalError",
        "Error executing plan: Internal error: Error finding id",
    )


def test_update_upsert_delete_count(http: httpx.Client) -> None:
    collection = new_collection(http)
    url = records(collection)
    http.post(f"{url}/add", json={"ids": ["a", "b"], "embeddings": [[1.0], [2.0]]})
    updated = http.post(
        f"{url}/update", json={"ids": ["a"], "embeddings": None, "metadatas": [{"k": 1}]}
    )
    assert (updated.status_code, updated.json()) == (200, {})
    upserted = http.post(f"{url}/upsert", json={"ids": ["c"], "embeddings": [b64([3.0])]})
    assert (upserted.status_code, upserted.json()) == (200, {})
    assert http.get(f"{url}/count").json() == 3
    assert http.get(f"{url}/count", params={"read_level": "index_only"}).json() == 3
    assert error_of(http.get(f"{url}/count", params={"read_level": "bogus"}))[:2] == (
        400,
        "InvalidArgumentError",
    )
    assert http.post(f"{url}/delete", json={"ids": None, "where": None}).json() == {"deleted": 0}
    assert error_of(http.post(f"{url}/delete", json={"ids": []})) == (
        400,
        "InvalidArgumentError",
        "Validation error: ids, where: Either ids or where must be specified",
    )
    assert error_of(http.post(f"{url}/delete", json={"ids": ["a"], "limit": 1}))[:2] == (
        400,
        "InvalidArgumentError",
    )
    deleted = http.post(f"{url}/delete", json={"where": {"k": 1}})
    assert deleted.json() == {"deleted": 1}
    assert http.get(f"{url}/count").json() == 2


def test_index_stats(http: httpx.Client) -> None:
    collection = new_collection(http)
    url = records(collection)
    http.post(f"{url}/add", json={"ids": ["a", "b"], "embeddings": [[1.0, 2.0], [3.0, 4.0]]})
    http.post(f"{url}/delete", json={"ids": ["a"]})
    reply = http.get(f"{url}/index_stats")
    assert reply.status_code == 200
    stats = reply.json()
    index_bytes = stats.pop("index_bytes")
    assert index_bytes > 0
    # Two float32 values and an inverse norm; two int8 codes and their 16-byte scaling.
    assert stats.pop("f32_bytes_per_vector") == 12
    assert stats.pop("int8_bytes_per_vector") == 18
    assert stats.pop("bytes_per_vector") == 12 + 18 + index_bytes // 2
    # The deleted record's vector stays in the index, as a tombstone, until a rebuild.
    assert stats == {"live": 1, "index": "hnsw", "points": 2, "tombstones": 1, "pending": 0}
    missing = str(uuid.uuid4())
    status, name, message = error_of(http.get(f"{DEFAULT}/collections/{missing}/index_stats"))
    assert (status, name) == (404, "NotFoundError")
    assert message.startswith(f"Collection [{missing}] does not exist")


def test_record_route_errors(http: httpx.Client) -> None:
    assert error_of(http.get(f"{DEFAULT}/collections/not-a-uuid/count")) == (
        400,
        "InvalidArgumentError",
        "Collection ID is not a valid UUIDv4",
    )
    missing = str(uuid.uuid4())
    status, name, message = error_of(http.get(f"{DEFAULT}/collections/{missing}/count"))
    assert (status, name) == (404, "NotFoundError")
    assert message.startswith(f"Collection [{missing}] does not exist")
    assert error_of(http.get("/api/v2/collections/tenant:db:name"))[0] == 501


# ---- tenants and databases


def test_tenants_and_databases(http: httpx.Client) -> None:
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    assert http.post("/api/v2/tenants", json={"name": tenant}).json() == {}
    assert error_of(http.post("/api/v2/tenants", json={"name": tenant}))[:2] == (409, "ChromaError")
    assert http.get(f"/api/v2/tenants/{tenant}").json() == {"name": tenant, "resource_name": None}
    assert error_of(http.get("/api/v2/tenants/no-such-tenant"))[:2] == (404, "NotFoundError")
    databases = f"/api/v2/tenants/{tenant}/databases"
    assert http.post(databases, json={"name": "db1"}).json() == {}
    assert error_of(http.post(databases, json={"name": "db1"}))[:2] == (409, "ChromaError")
    assert error_of(http.post(databases, json={"name": "x"})) == (
        400,
        "InvalidArgumentError",
        "Expected a name containing 3-512 characters from [a-zA-Z0-9._-], starting and "
        "ending with a character in [a-zA-Z0-9]. Got: x",
    )
    listed = http.get(databases).json()
    assert [d["name"] for d in listed] == ["db1"]
    assert http.get(f"{databases}/db1").json() == listed[0]
    collection = http.post(f"{databases}/db1/collections", json={"name": "inside"}).json()
    assert collection["tenant"] == tenant
    assert collection["database"] == "db1"
    assert http.delete(f"{databases}/db1").json() == {}
    assert error_of(http.get(f"{databases}/db1"))[:2] == (404, "NotFoundError")


def test_reset_when_allowed(http: httpx.Client) -> None:
    new_collection(http)
    reset = http.post("/api/v2/reset", headers={"content-type": "application/json"})
    assert (reset.status_code, reset.json()) == (200, True)
    assert http.get(f"{DEFAULT}/collections_count").json() == 0
