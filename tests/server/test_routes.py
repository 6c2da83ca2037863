"""Every route of the app, method by method, against a real ``azurite run``: each answers
with its status and the shape of its body, and ``/openapi.json`` describes exactly the
API routes."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.routing import Route

from azurite import __version__
from azurite.server.app import routes
from azurite.server.openapi import OperationRoute

from .servers import Server

API = "/api/v2"
TENANT = API + "/tenants/{tenant}"
DATABASE = TENANT + "/databases/{database}"
COLLECTIONS = DATABASE + "/collections"
RECORDS = COLLECTIONS + "/{collection_id}"
V1_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
PATH_PARAMETER = re.compile(r"\{(\w+)(?::\w+)?\}")


@pytest.fixture(scope="module")
def http(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30.0) as client:
        yield client


@dataclass(frozen=True)
class Seeded:
    """What each exchange starts from: a database of its own in the default tenant, with
    one collection holding records ``a`` and ``b``."""

    database: str
    collection: dict[str, Any]

    def path(self, template: str) -> str:
        values = {
            "tenant": "default_tenant",
            "database": self.database,
            "collection_id": self.collection["id"],
            "name": self.collection["name"],
            "crn": f"default_tenant:{self.database}:{self.collection['name']}",
            "operation": "run",
            "rest": "heartbeat",
        }
        return PATH_PARAMETER.sub(lambda match: values[match.group(1)], template)


@pytest.fixture
def seeded(http: httpx.Client) -> Seeded:
    database = f"db-{uuid.uuid4().hex[:12]}"
    assert http.post(f"{API}/tenants/default_tenant/databases", json={"name": database}).is_success
    collections = f"{API}/tenants/default_tenant/databases/{database}/collections"
    created = http.post(collections, json={"name": f"c-{uuid.uuid4().hex[:12]}"}).json()
    added = http.post(
        f"{collections}/{created['id']}/add",
        json={
            "ids": ["a", "b"],
            "embeddings": [[0.0, 0.0], [3.0, 4.0]],
            "documents": ["doc a", "doc b"],
        },
    )
    assert added.status_code == 201, added.text
    collection = http.get(f"{collections}/{created['name']}").json()
    return Seeded(database, collection)


Check = Callable[[Any, Seeded], bool]


@dataclass(frozen=True)
class Exchange:
    """The request body a route is sent (None: no body) and what it must answer."""

    status: int
    check: Check
    body: Any = None


def is_collection(reply: Any, seeded: Seeded) -> bool:
    return reply == seeded.collection


def is_empty(reply: Any, seeded: Seeded) -> bool:
    return reply == {}


def is_heartbeat(reply: Any, seeded: Seeded) -> bool:
    return list(reply) == ["nanosecond heartbeat"] and isinstance(
        reply["nanosecond heartbeat"], int
    )


def not_implemented(what: str) -> Exchange:
    return Exchange(
        501,
        lambda reply, seeded: (
            reply == {"error": "ChromaError", "message": f"{what} is not implemented by Azurite"}
        ),
    )


GONE = Exchange(
    410,
    lambda reply, seeded: (
        reply
        == {"error": "Unimplemented", "message": "The v1 API is deprecated. Please use /v2 apis"}
    ),
)


def database_json(seeded: Seeded) -> dict[str, Any]:
    return {"name": seeded.database, "tenant": "default_tenant"}


EXCHANGES: dict[tuple[str, str], Exchange] = {
    ("GET", API): Exchange(200, is_heartbeat),
    ("GET", API + "/heartbeat"): Exchange(200, is_heartbeat),
    ("GET", API + "/version"): Exchange(200, lambda reply, seeded: reply == __version__),
    ("GET", API + "/pre-flight-checks"): Exchange(
        200,
        lambda reply, seeded: reply == {"max_batch_size": 5461, "supports_base64_encoding": True},
    ),
    ("GET", API + "/auth/identity"): Exchange(
        200,
        lambda reply, seeded: (
            reply == {"user_id": "", "tenant": "default_tenant", "databases": ["default_database"]}
        ),
    ),
    ("GET", API + "/healthcheck"): Exchange(
        200,
        lambda reply, seeded: reply == {"is_executor_ready": True, "is_log_client_ready": True},
    ),
    ("POST", API + "/reset"): Exchange(200, lambda reply, seeded: reply is True),
    # A destination that holds files is refused before anything is written.
    ("POST", API + "/backup"): Exchange(
        400,
        lambda reply, seeded: (
            reply["error"] == "InvalidArgumentError" and "is not empty" in reply["message"]
        ),
        {"path": "/"},
    ),
    # Publishing no import publishes nothing; a visible collection is no import to abandon.
    ("POST", API + "/imports/publish"): Exchange(
        200, lambda reply, seeded: reply == [], {"ids": []}
    ),
    ("DELETE", API + "/imports/{collection_id}"): Exchange(
        404, lambda reply, seeded: reply["error"] == "NotFoundError"
    ),
    ("POST", API + "/tenants"): Exchange(200, is_empty, {"name": "unused"}),
    ("GET", TENANT): Exchange(
        200, lambda reply, seeded: reply == {"name": "default_tenant", "resource_name": None}
    ),
    ("PATCH", TENANT): Exchange(200, is_empty, {"resource_name": "r"}),
    ("POST", TENANT + "/databases"): Exchange(200, is_empty, {"name": "unused"}),
    ("GET", TENANT + "/databases"): Exchange(
        200,
        lambda reply, seeded: (
            database_json(seeded) in [{"name": d["name"], "tenant": d["tenant"]} for d in reply]
            and all(set(d) == {"id", "name", "tenant"} for d in reply)
        ),
    ),
    ("GET", DATABASE): Exchange(
        200,
        lambda reply, seeded: (
            set(reply) == {"id", "name", "tenant"}
            and {"name": reply["name"], "tenant": reply["tenant"]} == database_json(seeded)
        ),
    ),
    ("DELETE", DATABASE): Exchange(200, is_empty),
    ("GET", DATABASE + "/collections_count"): Exchange(200, lambda reply, seeded: reply == 1),
    ("GET", COLLECTIONS): Exchange(200, lambda reply, seeded: reply == [seeded.collection]),
    ("POST", COLLECTIONS): Exchange(
        200,
        lambda reply, seeded: (
            reply["name"] == "unused"
            and set(reply) == set(seeded.collection)
            and reply["id"] != seeded.collection["id"]
        ),
        {"name": "unused"},
    ),
    # A staging collection is shaped as a collection, with its own id and the target name.
    ("POST", DATABASE + "/imports"): Exchange(
        200,
        lambda reply, seeded: (
            reply["name"] == "staged"
            and set(reply) == set(seeded.collection)
            and reply["id"] != seeded.collection["id"]
        ),
        {"name": "staged"},
    ),
    ("GET", COLLECTIONS + "/by-id/{collection_id}"): Exchange(200, is_collection),
    ("GET", COLLECTIONS + "/{name}"): Exchange(200, is_collection),
    ("PUT", RECORDS): Exchange(200, is_empty, {"new_metadata": {"m": 1}}),
    ("DELETE", COLLECTIONS + "/{name}"): Exchange(200, is_empty),
    ("POST", RECORDS + "/add"): Exchange(201, is_empty, {"ids": ["c"], "embeddings": [[1.0, 1.0]]}),
    ("POST", RECORDS + "/update"): Exchange(200, is_empty, {"ids": ["a"], "documents": ["new"]}),
    ("POST", RECORDS + "/upsert"): Exchange(
        200, is_empty, {"ids": ["c"], "embeddings": [[1.0, 1.0]]}
    ),
    ("POST", RECORDS + "/get"): Exchange(
        200,
        lambda reply, seeded: (
            reply
            == {
                "ids": ["a"],
                "embeddings": None,
                "documents": ["doc a"],
                "uris": None,
                "metadatas": None,
                "include": ["documents"],
            }
        ),
        {"ids": ["a"], "include": ["documents"]},
    ),
    ("POST", RECORDS + "/query"): Exchange(
        200,
        lambda reply, seeded: (
            reply
            == {
                "ids": [["b"]],
                "embeddings": None,
                "documents": None,
                "uris": None,
                "metadatas": None,
                "distances": [[0.0]],
                "include": ["distances"],
            }
        ),
        {"query_embeddings": [[3.0, 4.0]], "n_results": 1, "include": ["distances"]},
    ),
    ("POST", RECORDS + "/delete"): Exchange(
        200, lambda reply, seeded: reply == {"deleted": 1}, {"ids": ["a"]}
    ),
    ("GET", RECORDS + "/count"): Exchange(200, lambda reply, seeded: reply == 2),
    ("GET", RECORDS + "/index_stats"): Exchange(
        200,
        lambda reply, seeded: (
            set(reply)
            == {
                "live",
                "index",
                "points",
                "tombstones",
                "pending",
                "index_bytes",
                "f32_bytes_per_vector",
                "int8_bytes_per_vector",
                "bytes_per_vector",
            }
            and (reply["live"], reply["points"], reply["tombstones"]) == (2, 2, 0)
        ),
    ),
    ("GET", API + "/collections/{crn}"): not_implemented("Collection lookup by CRN"),
    ("POST", RECORDS + "/fork"): Exchange(
        200,
        lambda reply, seeded: (
            reply["name"] == "forked"
            and reply["id"] != seeded.collection["id"]
            and {key: value for key, value in reply.items() if key not in ("id", "name")}
            == {key: value for key, value in seeded.collection.items() if key not in ("id", "name")}
        ),
        {"new_name": "forked"},
    ),
    ("GET", RECORDS + "/fork_count"): Exchange(200, lambda reply, seeded: reply == {"count": 0}),
    ("GET", RECORDS + "/indexing_status"): not_implemented("Indexing status"),
    ("POST", RECORDS + "/search"): Exchange(
        200,
        lambda reply, seeded: (
            reply
            == {
                "ids": [["b", "a"]],
                "documents": [["doc b", "doc a"]],
                "embeddings": [None],
                "metadatas": [None],
                "scores": [[0.0, 25.0]],
                "select": [["#document", "#score"]],
            }
        ),
        {
            "searches": [
                {
                    "rank": {"$knn": {"query": [3.0, 4.0]}},
                    "select": {"keys": ["#score", "#document"]},
                }
            ],
            "read_level": "index_only",
        },
    ),
    ("POST", RECORDS + "/conditional/{operation}"): not_implemented("Conditional writes"),
    ("POST", RECORDS + "/functions/attach"): not_implemented("Attached functions"),
    ("GET", RECORDS + "/functions/{name}"): not_implemented("Attached functions"),
    ("POST", RECORDS + "/attached_functions/{name}/{operation}"): not_implemented(
        "Attached functions"
    ),
    **{(method, "/api/v1/{rest:path}"): GONE for method in V1_METHODS},
    **{(method, "/api/v1"): GONE for method in V1_METHODS},
    ("GET", "/openapi.json"): Exchange(
        200, lambda reply, seeded: reply["openapi"] == "3.1.0" and API in reply["paths"]
    ),
    ("GET", "/docs"): Exchange(200, lambda reply, seeded: '"/openapi.json"' in reply),
}


def route_methods() -> list[tuple[str, str]]:
    """Every (method, path) the app routes, HEAD included where the route answers it."""
    pairs = []
    for route in routes():
        assert isinstance(route, Route), route
        pairs += [(method, route.path) for method in sorted(route.methods or ())]
    return pairs


def test_every_route_has_an_exchange() -> None:
    assert {pair for pair in route_methods() if pair[0] != "HEAD"} == set(EXCHANGES)


@pytest.mark.parametrize(
    ("method", "path"), [pytest.param(*pair, id=" ".join(pair)) for pair in route_methods()]
)
def test_route_answers(http: httpx.Client, seeded: Seeded, method: str, path: str) -> None:
    # HEAD answers as GET does, without the body.
    exchange = EXCHANGES["GET" if method == "HEAD" else method, path]
    reply = http.request(method, seeded.path(path), json=exchange.body)
    assert reply.status_code == exchange.status, reply.text
    if method == "HEAD":
        assert reply.content == b""
        return
    body = reply.text if reply.headers["content-type"].startswith("text/html") else reply.json()
    if exchange.status >= 400:
        assert reply.headers["chroma-trace-id"] == "0" * 32
    assert exchange.check(body, seeded), body


def test_the_api_description_lists_exactly_the_api_routes(http: httpx.Client) -> None:
    document = http.get("/openapi.json").json()
    described = {
        (method.upper(), path) for path, methods in document["paths"].items() for method in methods
    }
    api_routes = [route for route in routes() if isinstance(route, OperationRoute)]
    assert described == {(route.method, route.path) for route in api_routes}
    # Every route of the API v2 is described; the others (v1, the description itself)
    # are not part of it.
    for route in routes():
        assert isinstance(route, OperationRoute) == route.path.startswith(API), route.path
    operation_ids = [
        operation["operationId"]
        for methods in document["paths"].values()
        for operation in methods.values()
    ]
    assert len(set(operation_ids)) == len(operation_ids)
    add = document["paths"][RECORDS + "/add"]["post"]
    assert add["operationId"] == "collection_add"
    assert list(add["responses"]) == ["201", "default"]
    assert [parameter["name"] for parameter in add["parameters"]] == [
        "tenant",
        "database",
        "collection_id",
    ]
    assert "requestBody" in add
