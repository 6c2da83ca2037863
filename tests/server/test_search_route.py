"""The search route of ``azurite run`` on the wire: what ``/openapi.json`` says it takes
and answers (checked against real payloads and answers), and how it refuses bad bodies."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema
import pytest
from chromadb import K, Knn, Rrf, Search
from chromadb.execution.expression.operator import GroupBy, MinK

from azurite.server.openapi import SEARCH_REQUEST, SEARCH_RESPONSE

from .servers import Server

API = "/api/v2"
SEARCH_PATH = API + "/tenants/{tenant}/databases/{database}/collections/{collection_id}/search"


@pytest.fixture(scope="module")
def http(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def search_url(http: httpx.Client) -> str:
    collections = f"{API}/tenants/default_tenant/databases/default_database/collections"
    created = http.post(collections, json={"name": f"route-{uuid.uuid4().hex[:8]}"}).json()
    added = http.post(
        f"{collections}/{created['id']}/add",
        json={
            "ids": ["a", "b", "c"],
            "embeddings": [[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]],
            "documents": ["red fox", "blue fox", "green owl"],
            "metadatas": [{"kind": "fox"}, {"kind": "fox"}, {"kind": "owl"}],
        },
    )
    assert added.status_code == 201, added.text
    return f"{collections}/{created['id']}/search"


SEARCHES = [
    Search().rank(Knn(query=[0.0, 0.0], limit=2)).select(K.SCORE, K.DOCUMENT),
    Search().where(K.DOCUMENT.contains("fox")).limit(1).select_all(),
    Search()
    .rank(Rrf([Knn(query=[0.0, 0.0], return_rank=True), Knn(query=[0.0, 2.0], return_rank=True)]))
    .group_by(GroupBy(keys=K("kind"), aggregate=MinK(keys=K.SCORE, k=1)))
    .select("kind"),
]


def test_openapi_describes_the_search_route(http: httpx.Client) -> None:
    operation = http.get("/openapi.json").json()["paths"][SEARCH_PATH]["post"]
    assert operation["operationId"] == "collection_search"
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body == SEARCH_REQUEST
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == SEARCH_RESPONSE


def test_payloads_and_answers_fit_the_described_schemas(
    http: httpx.Client, search_url: str
) -> None:
    body: dict[str, Any] = {
        "searches": [search.to_dict() for search in SEARCHES],
        "read_level": "index_and_wal",
    }
    jsonschema.validate(body, SEARCH_REQUEST)
    reply = http.post(search_url, json=body)
    assert reply.status_code == 200, reply.text
    answer = reply.json()
    jsonschema.validate(answer, SEARCH_RESPONSE)
    assert answer["ids"] == [["a", "b"], ["a"], ["a", "c"]]
    assert answer["scores"][0] == [0.0, 1.0]
    assert answer["metadatas"][2] == [{"kind": "fox"}, {"kind": "owl"}]
    assert answer["select"][1] == ["#document", "#embedding", "#metadata", "#score"]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({}, 422, "missing field `searches`"),
        ({"searches": {}}, 422, "searches: invalid type"),
        ({"searches": [], "read_level": "fresh"}, 422, "read_level: unknown variant `fresh`"),
        ({"searches": [{"rank": {"$pow": 2}}]}, 400, "unknown operator '$pow'"),
        ({"searches": [{"filter": {"a": 1, "b": 2}}]}, 400, "Invalid where clause"),
        (
            {"searches": [{"rank": {"$knn": {"query": [1.0]}}}]},
            400,
            "Collection expecting embedding with dimension of 2, got 1",
        ),
    ],
    ids=["no-searches", "searches-object", "read-level", "rank-op", "where", "dimension"],
)
def test_bad_bodies_are_refused(
    http: httpx.Client, search_url: str, body: dict[str, Any], status: int, message: str
) -> None:
    reply = http.post(search_url, json=body)
    assert reply.status_code == status, reply.text
    assert message in reply.json()["message"]


def test_an_unknown_collection_is_not_found(http: httpx.Client) -> None:
    missing = SEARCH_PATH.format(
        tenant="default_tenant", database="default_database", collection_id=uuid.uuid4()
    )
    reply = http.post(missing, json={"searches": []})
    assert reply.status_code == 404, reply.text
    assert reply.json()["error"] == "NotFoundError"
