"""The remote engine of the HTTP clients, against a stand-in server: the requests it sends
for engine calls, and how it turns a server's error answer into an exception (by the error
name the body gives, and for 409 answers by the status: the already-exists kind)."""

from __future__ import annotations

import json

import httpx
import pytest

from azurite import errors
from azurite.api.http_client import RemoteDatabase, raise_for_error

COLLECTION_ID = "4f6c1d5e-8a0b-4c2d-9e3f-1a2b3c4d5e6f"


def answer(status: int, name: str, message: str) -> httpx.Response:
    return httpx.Response(
        status,
        json={"error": name, "message": message},
        headers={"chroma-trace-id": "1" * 32},
    )


@pytest.mark.parametrize(
    ("name", "message", "expected"),
    [
        # azurite run and Chroma's server name an existing collection or database generically.
        ("ChromaError", "Collection [c] already exists", errors.AlreadyExistsError),
        ("InternalError", "Database [d] already exists", errors.AlreadyExistsError),
        ("AlreadyExistsError", "Tenant [t] already exists", errors.AlreadyExistsError),
        # Chroma's server reports its conditional-write conflict generically, by this text.
        ("ChromaError", "conditional write conflict", errors.ConditionalWriteConflictError),
        # Other 409 kinds keep their own classes.
        ("UniqueConstraintError", "taken", errors.UniqueConstraintError),
        ("IDAlreadyExists", "id taken", errors.IDAlreadyExistsError),
        ("ConditionalWriteConflictError", "conflict", errors.ConditionalWriteConflictError),
    ],
)
def test_a_409_answer(name: str, message: str, expected: type[errors.ChromaError]) -> None:
    with pytest.raises(expected) as raised:
        raise_for_error(answer(409, name, message))
    assert type(raised.value) is expected
    assert str(raised.value) == message
    assert raised.value.trace_id == "1" * 32


def test_other_answers_are_decoded_by_name() -> None:
    with pytest.raises(errors.InternalError) as raised:
        raise_for_error(answer(500, "InternalError", "boom"))
    assert type(raised.value) is errors.InternalError
    with pytest.raises(errors.NotFoundError, match=r"^gone$"):
        raise_for_error(answer(404, "NotFoundError", "gone"))


def test_index_stats_is_a_get_of_the_collections_index_stats() -> None:
    stats = {"live": 2, "index": "hnsw", "points": 3, "tombstones": 1, "index_bytes": 96}
    seen: list[tuple[str, str]] = []

    def server(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path))
        return httpx.Response(200, content=json.dumps(stats))

    session = httpx.Client(base_url="http://server/api/v2", transport=httpx.MockTransport(server))
    with session:
        assert RemoteDatabase(session).index_stats(COLLECTION_ID) == stats
    records = (
        f"/api/v2/tenants/default_tenant/databases/default_database/collections/{COLLECTION_ID}"
    )
    assert seen == [("GET", f"{records}/index_stats")]
