"""Hostile HTTP against a real ``azurite run`` (token authentication on, a small body limit).

Every case must be answered with the status ``chroma run`` 1.5.9 gives (checked against it;
the three cases where Azurite answers otherwise say so): errors as 4xx JSON bodies
``{"error": <name>, "message": <text>}``, except wrong methods (405) and unknown routes
(404), which Chroma answers with an empty body. Auth cases follow Azurite's token
authentication and body-limit cases its ``--max-body-size`` (``chroma run`` has neither). After each case the server
still answers, and nothing stored has changed. Requests go through ``http.client`` so
that paths reach the server byte for byte (httpx would normalise ``..``).

A Hypothesis test then posts random JSON documents and bytes to every write and read
route: never a 5xx, and a refused request changes nothing.
"""

from __future__ import annotations

import http.client
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from server.servers import Server, azurite_server

TOKEN = "s3cret-Token_1"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BODY_LIMIT = 4096
API = "/api/v2"
COLLECTIONS = f"{API}/tenants/default_tenant/databases/default_database/collections"
RECORD_ROUTES = ("add", "upsert", "update", "get", "query", "delete")
FUZZ_EXAMPLES = int(os.environ.get("AZURITE_HOSTILE_HTTP_EXAMPLES", "60"))
SOAK_FUZZ_EXAMPLES = int(os.environ.get("AZURITE_HOSTILE_HTTP_SOAK_EXAMPLES", "2000"))


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Http:
    """Raw requests to one server; ``{id}`` in a path is the seeded collection's id."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.collection_id = ""

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | list[tuple[str, str]] | None = None,
        json_body: Any = None,
    ) -> Reply:
        connection = http.client.HTTPConnection(self.server.host, self.server.port, timeout=30)
        try:
            if json_body is not None:
                body = json.dumps(json_body).encode()
            items = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
            # A list of headers is sent exactly as given; a dict gets the JSON content type.
            if body is not None and isinstance(headers, dict) and "Content-Type" not in headers:
                items.append(("Content-Type", "application/json"))
            connection.putrequest(method, path.replace("{id}", self.collection_id))
            for key, value in items:
                connection.putheader(key, value)
            if body is not None:
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            response = connection.getresponse()
            return Reply(response.status, response.read())
        finally:
            connection.close()

    def api(self, method: str, path: str, json_body: Any = None) -> Any:
        reply = self.request(method, path, headers=AUTH, json_body=json_body)
        assert reply.status < 300, (reply.status, reply.body[:300])
        return reply.json()

    def snapshot(self) -> Any:
        """Every collection (name, metadata, configuration) and all of its records."""
        state = []
        for collection in sorted(self.api("GET", COLLECTIONS), key=lambda c: c["name"]):
            records = self.api(
                "POST",
                f"{COLLECTIONS}/{collection['id']}/get",
                {"include": ["embeddings", "metadatas", "documents", "uris"]},
            )
            state.append(
                (
                    collection["name"],
                    json.dumps(collection["metadata"], sort_keys=True),
                    json.dumps(collection["configuration_json"], sort_keys=True),
                    json.dumps(records, sort_keys=True),
                )
            )
        return state

    def alive(self) -> bool:
        return self.request("GET", f"{API}/heartbeat").status == 200


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory: Path = tmp_path_factory.mktemp("hostile-http")
    with azurite_server(
        directory, "--auth-token", TOKEN, "--max-body-size", str(BODY_LIMIT)
    ) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: Server) -> Http:
    client = Http(server)
    collection = client.api("POST", COLLECTIONS, {"name": "hostile", "get_or_create": True})
    client.collection_id = collection["id"]
    client.api(
        "POST",
        f"{COLLECTIONS}/{{id}}/upsert",
        {
            "ids": ["a", "b"],
            "embeddings": [[1.0, 0.0], [0.0, 1.0]],
            "metadatas": [{"k": 1}, None],
            "documents": ["doc a", None],
            "uris": None,
        },
    )
    return client


@dataclass(frozen=True)
class Case:
    """One hostile request and the status it must get."""

    name: str
    method: str
    path: str
    status: int
    body: bytes | None = None
    headers: Any = field(default_factory=lambda: dict(AUTH))
    #: The JSON error name expected; None for Chroma's empty-bodied 404/405.
    error: str | None = "any"
    #: Where Chroma's server (``chroma run`` 1.5.9) answers otherwise: its status and why
    #: Azurite differs.
    chroma: tuple[int, str] | None = None


ADD = f"{COLLECTIONS}/{{id}}/add"
GET = f"{COLLECTIONS}/{{id}}/get"
VALID_ADD = json.dumps({"ids": ["z"], "embeddings": [[1.0, 1.0]]}).encode()
LONG = "x" * 10_000
DEEP_WHERE: dict[str, Any] = {"a": 1}
for _ in range(200):
    DEEP_WHERE = {"$and": [DEEP_WHERE]}

CASES = [
    # Malformed JSON
    Case("truncated object", "POST", ADD, 400, b'{"ids": ["z"'),
    Case("python literal", "POST", ADD, 400, b"{'ids': ['z']}"),
    Case("bare NaN", "POST", ADD, 400, b'{"ids": ["z"], "embeddings": [[NaN, 1.0]]}'),
    Case("not utf-8", "POST", ADD, 400, b'{"ids": ["\xff\xfe"]}'),
    Case("empty body", "POST", ADD, 400, b""),
    Case(
        "nested 2000 deep",
        "POST",
        ADD,
        400,
        b"[" * 2000,
        chroma=(422, "it refuses the top-level array before the depth; Azurite parses first"),
    ),
    Case("trailing garbage", "POST", ADD, 400, VALID_ADD + b"}"),
    Case("null body", "POST", ADD, 422, b"null"),
    Case("array body", "POST", ADD, 422, b"[]"),
    Case("string body", "POST", GET, 422, b'"get"'),
    Case("ids not strings", "POST", ADD, 422, b'{"ids": [1], "embeddings": [[1.0, 1.0]]}'),
    Case("embeddings of strings", "POST", ADD, 422, b'{"ids": ["z"], "embeddings": [["a", "b"]]}'),
    Case("huge number", "POST", ADD, 400, b'{"ids": ["z"], "embeddings": [[1e999, 1.0]]}'),
    Case("where not an object", "POST", GET, 400, b'{"where": [1, 2]}'),
    Case("where a string", "POST", GET, 400, b'{"where": "a"}'),
    Case("where empty", "POST", f"{COLLECTIONS}/{{id}}/delete", 400, b'{"where": {}}'),
    Case("where_document empty", "POST", GET, 400, b'{"where_document": {}}'),
    Case("where_document a number", "POST", GET, 400, b'{"where_document": 1}'),
    Case("deep where", "POST", GET, 400, json.dumps({"where": DEEP_WHERE}).encode()),
    Case("where operator", "POST", GET, 400, b'{"where": {"a": {"$regex": "("}}}'),
    Case("bad regex", "POST", GET, 400, b'{"where_document": {"$regex": "(?P<"}}'),
    Case("limit negative", "POST", GET, 422, b'{"limit": -1}'),
    Case("limit beyond u32", "POST", GET, 422, b'{"limit": 99999999999999999999}'),
    Case("bad create", "POST", COLLECTIONS, 422, b'{"name": 5}'),
    Case("create with bad name", "POST", COLLECTIONS, 400, b'{"name": "../../etc"}'),
    # Content types
    Case("text/plain", "POST", ADD, 415, VALID_ADD, {**AUTH, "Content-Type": "text/plain"}),
    Case(
        "form",
        "POST",
        ADD,
        415,
        b"ids=z",
        {**AUTH, "Content-Type": "application/x-www-form-urlencoded"},
    ),
    Case("json-ish", "POST", ADD, 415, VALID_ADD, {**AUTH, "Content-Type": "application/jsonx"}),
    Case(
        "no content type",
        "POST",
        ADD,
        415,
        VALID_ADD,
        [("Authorization", AUTH["Authorization"])],
        chroma=(201, "it reads a body without a type as JSON; a browser can send one cross-site"),
    ),
    # Oversized bodies
    Case("body over the limit", "POST", ADD, 413, b'{"ids": ["' + b"z" * BODY_LIMIT + b'"]}'),
    Case("large create", "POST", COLLECTIONS, 413, b'{"name": "' + b"n" * 100_000 + b'"}'),
    # Odd collection names and ids in paths
    Case("dot dot", "GET", f"{COLLECTIONS}/..", 404),
    Case("NUL", "GET", f"{COLLECTIONS}/%00", 404),
    Case("encoded slash", "GET", f"{COLLECTIONS}/a%2Fb%2F..", 404, error=None),
    Case("very long", "GET", f"{COLLECTIONS}/{LONG}", 404),
    Case("unicode", "GET", f"{COLLECTIONS}/%E6%97%A5%E6%9C%AC%E8%AA%9E", 404),
    Case(
        "bad percent",
        "GET",
        f"{COLLECTIONS}/%ff%zz",
        404,
        chroma=(400, "Invalid URL: Invalid UTF-8; Azurite decodes %ff to U+FFFD, an unknown name"),
    ),
    Case("missing name", "GET", f"{COLLECTIONS}/nope", 404),
    Case("uuid as name", "GET", f"{COLLECTIONS}/{'0' * 8}-0000-4000-8000-{'0' * 12}", 404),
    Case("id instead of name", "GET", f"{COLLECTIONS}/{{id}}", 404),
    Case("delete dot dot", "DELETE", f"{COLLECTIONS}/..", 404),
    Case("delete NUL", "DELETE", f"{COLLECTIONS}/%00", 404),
    Case("delete long", "DELETE", f"{COLLECTIONS}/{LONG}", 404),
    Case("add to a non-uuid", "POST", f"{COLLECTIONS}/hostile/add", 400, VALID_ADD),
    Case("add to dot dot", "POST", f"{COLLECTIONS}/../add", 400, VALID_ADD),
    Case("add to NUL", "POST", f"{COLLECTIONS}/%00/add", 400, VALID_ADD),
    Case(
        "add to a missing uuid",
        "POST",
        f"{COLLECTIONS}/{'1' * 8}-1111-4111-8111-{'1' * 12}/add",
        404,
        VALID_ADD,
    ),
    Case("count of a non-uuid", "GET", f"{COLLECTIONS}/{LONG}/count", 400),
    Case("tenant dot dot", "GET", f"{API}/tenants/../databases/default_database", 404),
    Case("tenant NUL", "GET", f"{API}/tenants/%00", 404),
    Case("database long", "GET", f"{API}/tenants/default_tenant/databases/{LONG}", 404),
    # Wrong methods and unknown routes: Chroma answers with an empty body.
    Case("PUT heartbeat", "PUT", f"{API}/heartbeat", 405, error=None),
    Case("GET add", "GET", ADD, 405, error=None),
    Case("DELETE add", "DELETE", ADD, 405, error=None),
    Case("PATCH collections", "PATCH", COLLECTIONS, 405, b"{}", error=None),
    Case("TRACE", "TRACE", COLLECTIONS, 405, error=None),
    Case("unknown route", "POST", f"{COLLECTIONS}/{{id}}/truncate", 404, b"{}", error=None),
    Case("unknown root", "GET", "/admin", 404, error=None),
    # Authentication bypass attempts
    Case("no token", "POST", ADD, 401, VALID_ADD, {}),
    Case("wrong token", "POST", ADD, 403, VALID_ADD, {"Authorization": "Bearer nope"}),
    Case("token case", "POST", ADD, 403, VALID_ADD, {"Authorization": f"Bearer {TOKEN.upper()}"}),
    Case("token prefix", "POST", ADD, 403, VALID_ADD, {"Authorization": f"Bearer {TOKEN[:-1]}"}),
    Case("token extended", "POST", ADD, 403, VALID_ADD, {"X-Chroma-Token": TOKEN + "\t1"}),
    Case("empty bearer", "POST", ADD, 403, VALID_ADD, {"Authorization": "Bearer "}),
    Case("basic scheme", "POST", ADD, 401, VALID_ADD, {"Authorization": f"Basic {TOKEN}"}),
    Case("bare token", "POST", ADD, 401, VALID_ADD, {"Authorization": TOKEN}),
    Case("odd header", "POST", ADD, 401, VALID_ADD, {"X-Chroma-Auth": TOKEN, "Token": TOKEN}),
    Case("cookie", "POST", ADD, 401, VALID_ADD, {"Cookie": f"token={TOKEN}"}),
    Case("query string", "POST", ADD + f"?token={TOKEN}", 401, VALID_ADD, {}),
    Case("non-ascii token", "POST", ADD, 403, VALID_ADD, {"X-Chroma-Token": "s3cr\xe9t"}),
    Case("reset without token", "POST", f"{API}/reset", 401, b"{}", {}),
    Case("public prefix", "GET", f"{API}/heartbeat/../tenants/default_tenant", 401, headers={}),
    Case("encoded traversal", "GET", f"{API}/heartbeat%2F..%2Fcollections", 401, headers={}),
    Case("double slash", "GET", f"/{COLLECTIONS}", 401, headers={}),
    Case("upper-case path", "GET", COLLECTIONS.upper(), 401, headers={}),
    Case("public with suffix", "GET", f"{API}/heartbeatx", 401, headers={}),
    Case("v1 without token", "GET", "/api/v1/collections", 401, headers={}),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hostile_request(client: Http, case: Case) -> None:
    before = client.snapshot()
    reply = client.request(case.method, case.path, case.body, case.headers)
    assert reply.status == case.status, reply.body[:300]
    if case.error is None:
        assert reply.body == b""
    else:
        error = reply.json()
        assert set(error) == {"error", "message"}, error
        assert isinstance(error["error"], str) and isinstance(error["message"], str)
    assert client.alive()
    assert client.snapshot() == before


def test_header_names_and_schemes_are_case_insensitive(client: Http) -> None:
    """HTTP header names and the Bearer scheme are case-insensitive: these are the token,
    not a bypass (the body is refused afterwards for another reason, so nothing changes)."""
    before = client.snapshot()
    for headers in (
        {"x-CHROMA-token": TOKEN},
        {"AUTHORIZATION": f"bearer {TOKEN}"},
        {"Authorization": f"BEARER {TOKEN}"},
    ):
        reply = client.request("POST", ADD, b"{", headers)
        assert reply.status == 400, (headers, reply.body)
        assert reply.json()["error"] == "InvalidArgumentError"
    assert client.snapshot() == before


def test_body_over_the_limit_without_a_declared_length(client: Http) -> None:
    """A chunked body has no Content-Length to refuse up front: it is cut off when it
    passes the limit."""
    before = client.snapshot()
    connection = http.client.HTTPConnection(client.server.host, client.server.port, timeout=30)
    try:
        chunks = [b'{"ids": ["', *([b"z" * 1000] * 10), b'"]}']
        connection.request(
            "POST",
            ADD.replace("{id}", client.collection_id),
            body=iter(chunks),
            headers={**AUTH, "Content-Type": "application/json"},
            encode_chunked=True,
        )
        response = connection.getresponse()
        assert response.status == 413
        assert json.loads(response.read())["error"] == "ChromaError"
    finally:
        connection.close()
    assert client.alive()
    assert client.snapshot() == before


# ---- random bodies

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=8),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = (
    "ids", "embeddings", "metadatas", "documents", "uris", "where", "where_document",
    "include", "limit", "offset", "n_results", "query_embeddings", "name",
)  # fmt: skip
bodies = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=5).map(
        lambda d: json.dumps(d).encode()
    ),
    json_values.map(lambda d: json.dumps(d).encode()),
    st.binary(max_size=64),
)


def _post_random(client: Http, route: str, body: bytes) -> None:
    before = client.snapshot()
    path = COLLECTIONS if route == "create" else f"{COLLECTIONS}/{{id}}/{route}"
    reply = client.request("POST", path, body, AUTH)
    assert reply.status < 500, (reply.status, reply.body[:300])
    if reply.status >= 400:
        error = reply.json()
        assert set(error) == {"error", "message"}, error
        assert client.snapshot() == before


def _random_bodies(examples: int) -> Any:
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(route=st.sampled_from([*RECORD_ROUTES, "create"]), body=bodies)
    def run(client: Http, route: str, body: bytes) -> None:
        _post_random(client, route, body)

    return run


def test_random_bodies_never_fail_the_server(client: Http) -> None:
    _random_bodies(FUZZ_EXAMPLES)(client)
    assert client.alive()


@pytest.mark.soak
def test_random_bodies_never_fail_the_server_soak(client: Http) -> None:
    _random_bodies(SOAK_FUZZ_EXAMPLES)(client)
    assert client.alive()
