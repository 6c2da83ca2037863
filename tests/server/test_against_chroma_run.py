"""The wire side by side: the same requests to ``chroma run`` (chromadb 1.5.9) and to
``azurite run``, and the same answer from both — status, error name and message — as
raw HTTP and as chromadb's own ``HttpClient`` sees it (exception class and message).

Two things are compared loosely, both noted where they apply: serde_json ends each
message about the body with `` at line L column C`` (Azurite does not track positions in
the body, so the suffix is dropped from both sides), and Chroma lists several validation
problems in a random order (a Rust hash map), so those lines are compared as a set.
``DIFFERENCES`` lists the cases where Azurite answers otherwise on purpose, each with
its reason; both answers are still checked there, so a change on either side shows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import chromadb
import httpx
import pytest

import azurite
import azurite.api.types

from .servers import Server, azurite_server, chroma_server

API = "/api/v2"
DATABASE = f"{API}/tenants/default_tenant/databases/default_database"
COLLECTIONS = f"{DATABASE}/collections"
RECORDS = f"{COLLECTIONS}/{{id}}"
MISSING = "11111111-1111-4111-8111-111111111111"
NAME_RULE = (
    "Expected a name containing 3-512 characters from [a-zA-Z0-9._-], starting and ending "
    "with a character in [a-zA-Z0-9]."
)
POSITION = re.compile(r" at line \d+ column \d+")


@dataclass
class Side:
    """One server, its HTTP session and the collection seeded on it."""

    server: Server
    http: httpx.Client
    collection: dict[str, Any]

    def path(self, template: str) -> str:
        return template.replace("{id}", self.collection["id"]).replace(
            "{name}", self.collection["name"]
        )

    def normalised(self, text: str) -> str:
        return text.replace(self.collection["id"], "{id}").replace(
            self.collection["name"], "{name}"
        )


def _seed(server: Server) -> Side:
    http = httpx.Client(base_url=server.url, timeout=30.0)
    collection = http.post(COLLECTIONS, json={"name": "seeded"}).json()
    added = http.post(
        f"{COLLECTIONS}/{collection['id']}/add",
        json={
            "ids": ["a", "b"],
            "embeddings": [[1.0, 0.0], [0.0, 1.0]],
            "metadatas": [{"k": 1}, None],
            "documents": ["doc a", None],
        },
    )
    assert added.status_code == 201, added.text
    return Side(server, http, collection)


@pytest.fixture(scope="module")
def sides(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Side, Side]]:
    with (
        chroma_server(tmp_path_factory.mktemp("chroma")) as chroma,
        azurite_server(tmp_path_factory.mktemp("azurite")) as azurite,
    ):
        pair = (_seed(chroma), _seed(azurite))
        yield pair
        for side in pair:
            side.http.close()


def _message(text: str) -> Any:
    text = POSITION.sub("", text)
    prefix = "Validation error: "
    if text.startswith(prefix):
        return (prefix, frozenset(text[len(prefix) :].split("\n")))
    return text


def _answer(side: Side, method: str, path: str, body: Any) -> tuple[Any, ...]:
    """The status and, for an error, its name and message; a success's body is compared
    by the tests of each route, not here."""
    options: dict[str, Any] = {}
    if isinstance(body, bytes):
        options = {"content": body, "headers": {"content-type": "application/json"}}
    elif body is not None:
        options = {"json": body}
    try:
        reply = side.http.request(method, side.path(path), **options)
    except httpx.RemoteProtocolError:
        return ("no response",)
    if reply.is_success:
        return (reply.status_code,)
    if not reply.content:
        return (reply.status_code, b"")
    error = reply.json()
    return (reply.status_code, error["error"], _message(side.normalised(error["message"])))


Case = tuple[str, str, str, Any]

# Each case: an id, the method, the path ({id}, {name}: the seeded collection) and the body
# (JSON, or raw bytes sent as JSON). Creates use a name of their own, so that none finds
# another's collection.
CASES: list[Case] = [
    # Collections: names, metadata, configuration
    ("duplicate", "POST", COLLECTIONS, {"name": "seeded"}),
    ("get_or_create", "POST", COLLECTIONS, {"name": "seeded", "get_or_create": True}),
    ("no name", "POST", COLLECTIONS, {}),
    ("null name", "POST", COLLECTIONS, {"name": None}),
    ("number name", "POST", COLLECTIONS, {"name": 5}),
    ("short name", "POST", COLLECTIONS, {"name": "a"}),
    ("bad name", "POST", COLLECTIONS, {"name": "-bad-"}),
    ("bad name, empty key", "POST", COLLECTIONS, {"name": "-bad-", "metadata": {"": 1}}),
    ("bad name, # key", "POST", COLLECTIONS, {"name": "-bad-", "metadata": {"#a": 1}}),
    ("bad name, empty list", "POST", COLLECTIONS, {"name": "-bad-", "metadata": {"a": []}}),
    ("empty key", "POST", COLLECTIONS, {"name": "c-empty-key", "metadata": {"": 1}}),
    ("# key", "POST", COLLECTIONS, {"name": "c-hash-key", "metadata": {"#a": 1}}),
    ("$ key", "POST", COLLECTIONS, {"name": "c-dollar-key", "metadata": {"$a": 1}}),
    ("metadata string", "POST", COLLECTIONS, {"name": "c-m1", "metadata": "x"}),
    ("metadata list", "POST", COLLECTIONS, {"name": "c-m2", "metadata": []}),
    ("metadata empty", "POST", COLLECTIONS, {"name": "c-m3", "metadata": {}}),
    ("metadata null value", "POST", COLLECTIONS, {"name": "c-m4", "metadata": {"a": None}}),
    ("metadata nested", "POST", COLLECTIONS, {"name": "c-m5", "metadata": {"a": {}}}),
    ("metadata mixed list", "POST", COLLECTIONS, {"name": "c-m6", "metadata": {"a": [1, "x"]}}),
    ("metadata empty list", "POST", COLLECTIONS, {"name": "c-m7", "metadata": {"a": []}}),
    ("get_or_create string", "POST", COLLECTIONS, {"name": "c-g1", "get_or_create": "yes"}),
    ("get_or_create null", "POST", COLLECTIONS, {"name": "c-g2", "get_or_create": None}),
    ("configuration string", "POST", COLLECTIONS, {"name": "c-c1", "configuration": "x"}),
    ("configuration list", "POST", COLLECTIONS, {"name": "c-c2", "configuration": []}),
    ("schema string", "POST", COLLECTIONS, {"name": "c-s1", "schema": "x"}),
    ("schema list", "POST", COLLECTIONS, {"name": "c-s2", "schema": []}),
    ("schema keys not an object", "POST", COLLECTIONS, {"name": "c-s3", "schema": {"keys": 1}}),
    ("schema defaults a list", "POST", COLLECTIONS, {"name": "c-s5", "schema": {"defaults": []}}),
    (
        "schema and configuration",
        "POST",
        COLLECTIONS,
        {
            "name": "c-s4",
            "configuration": {"hnsw": {"space": "ip"}},
            "schema": {
                "defaults": {},
                "keys": {
                    "#embedding": {
                        "float_list": {
                            "vector_index": {
                                "enabled": True,
                                "config": {"space": "cosine", "source_key": "#document"},
                            }
                        }
                    }
                },
            },
        },
    ),
    (
        "configuration unknown key",
        "POST",
        COLLECTIONS,
        {"name": "c-c3", "configuration": {"bogus": 1}},
    ),
    ("hnsw string", "POST", COLLECTIONS, {"name": "c-c4", "configuration": {"hnsw": "x"}}),
    (
        "hnsw unknown field",
        "POST",
        COLLECTIONS,
        {"name": "c-c5", "configuration": {"hnsw": {"bogus": 1}}},
    ),
    (
        "hnsw unknown space",
        "POST",
        COLLECTIONS,
        {"name": "c-c6", "configuration": {"hnsw": {"space": "bogus"}}},
    ),
    (
        "hnsw ef_search string",
        "POST",
        COLLECTIONS,
        {"name": "c-c7", "configuration": {"hnsw": {"ef_search": "x"}}},
    ),
    (
        "hnsw ef_search negative",
        "POST",
        COLLECTIONS,
        {"name": "c-c8", "configuration": {"hnsw": {"ef_search": -1}}},
    ),
    (
        "hnsw ef_search fraction",
        "POST",
        COLLECTIONS,
        {"name": "c-c9", "configuration": {"hnsw": {"ef_search": 1.5}}},
    ),
    (
        "hnsw resize_factor string",
        "POST",
        COLLECTIONS,
        {"name": "c-c10", "configuration": {"hnsw": {"resize_factor": "x"}}},
    ),
    (
        "spann unknown field",
        "POST",
        COLLECTIONS,
        {"name": "c-c11", "configuration": {"spann": {"bogus": 1}}},
    ),
    (
        "spann search_nprobe string",
        "POST",
        COLLECTIONS,
        {"name": "c-c12", "configuration": {"spann": {"search_nprobe": "x"}}},
    ),
    (
        "spann unknown space",
        "POST",
        COLLECTIONS,
        {"name": "c-c13", "configuration": {"spann": {"space": "x"}}},
    ),
    (
        "hnsw and spann",
        "POST",
        COLLECTIONS,
        {"name": "c-c14", "configuration": {"hnsw": {}, "spann": {}}},
    ),
    (
        "embedding function string",
        "POST",
        COLLECTIONS,
        {"name": "c-c15", "configuration": {"embedding_function": "x"}},
    ),
    (
        "embedding function untyped",
        "POST",
        COLLECTIONS,
        {"name": "c-c16", "configuration": {"embedding_function": {}}},
    ),
    (
        "embedding function unknown type",
        "POST",
        COLLECTIONS,
        {"name": "c-c17", "configuration": {"embedding_function": {"type": "bogus"}}},
    ),
    (
        "embedding function known without name",
        "POST",
        COLLECTIONS,
        {"name": "c-c18", "configuration": {"embedding_function": {"type": "known"}}},
    ),
    # Collections by name and id
    ("get missing name", "GET", f"{COLLECTIONS}/nope-nope", None),
    ("get uuid as name", "GET", f"{COLLECTIONS}/{MISSING}", None),
    ("get by missing id", "GET", f"{COLLECTIONS}/by-id/{MISSING}", None),
    ("get by bad id", "GET", f"{COLLECTIONS}/by-id/not-a-uuid", None),
    ("delete missing", "DELETE", f"{COLLECTIONS}/nope-nope", None),
    ("short database", "GET", f"{API}/tenants/default_tenant/databases/ab/collections", None),
    (
        "missing database",
        "POST",
        f"{API}/tenants/default_tenant/databases/nodb/collections",
        {"name": "abc"},
    ),
    ("list limit negative", "GET", f"{COLLECTIONS}?limit=-1", None),
    ("list limit text", "GET", f"{COLLECTIONS}?limit=x", None),
    ("list limit beyond u32", "GET", f"{COLLECTIONS}?limit={2**40}", None),
    ("list offset fraction", "GET", f"{COLLECTIONS}?offset=1.5", None),
    ("databases limit negative", "GET", f"{API}/tenants/default_tenant/databases?limit=-1", None),
    # Modify
    ("modify missing", "PUT", f"{COLLECTIONS}/{MISSING}", {"new_name": "zzz"}),
    ("modify name number", "PUT", RECORDS, {"new_name": 5}),
    ("modify bad name", "PUT", RECORDS, {"new_name": "-bad-"}),
    ("modify metadata string", "PUT", RECORDS, {"new_metadata": "x"}),
    ("modify metadata empty", "PUT", RECORDS, {"new_metadata": {}}),
    ("modify metadata mixed", "PUT", RECORDS, {"new_metadata": {"a": [True, 1]}}),
    ("modify configuration string", "PUT", RECORDS, {"new_configuration": "x"}),
    ("modify unknown key", "PUT", RECORDS, {"new_configuration": {"bogus": 1}}),
    ("modify hnsw unknown", "PUT", RECORDS, {"new_configuration": {"hnsw": {"bogus": 1}}}),
    ("modify hnsw space", "PUT", RECORDS, {"new_configuration": {"hnsw": {"space": "ip"}}}),
    ("modify spann unknown", "PUT", RECORDS, {"new_configuration": {"spann": {"bogus": 1}}}),
    (
        "modify embedding function",
        "PUT",
        RECORDS,
        {"new_configuration": {"embedding_function": "x"}},
    ),
    # Records of a collection that does not exist
    ("count missing", "GET", f"{COLLECTIONS}/{MISSING}/count", None),
    (
        "add missing",
        "POST",
        f"{COLLECTIONS}/{MISSING}/add",
        {"ids": ["x"], "embeddings": [[1.0, 0.0]]},
    ),
    ("get missing", "POST", f"{COLLECTIONS}/{MISSING}/get", {}),
    ("query missing", "POST", f"{COLLECTIONS}/{MISSING}/query", {"query_embeddings": [[1.0, 0.0]]}),
    ("delete from missing", "POST", f"{COLLECTIONS}/{MISSING}/delete", {"ids": ["a"]}),
    ("update missing", "POST", f"{COLLECTIONS}/{MISSING}/update", {"ids": ["a"]}),
    (
        "upsert missing",
        "POST",
        f"{COLLECTIONS}/{MISSING}/upsert",
        {"ids": ["a"], "embeddings": [[1.0, 0.0]]},
    ),
    ("count of a non-uuid", "GET", f"{COLLECTIONS}/not-a-uuid/count", None),
    # Writes
    ("add without ids", "POST", f"{RECORDS}/add", {"embeddings": [[1.0, 0.0]]}),
    ("add ids string", "POST", f"{RECORDS}/add", {"ids": "x", "embeddings": [[1.0, 0.0]]}),
    ("add ids numbers", "POST", f"{RECORDS}/add", {"ids": [1], "embeddings": [[1.0, 0.0]]}),
    ("add embeddings string", "POST", f"{RECORDS}/add", {"ids": ["x"], "embeddings": "x"}),
    ("add embeddings of text", "POST", f"{RECORDS}/add", {"ids": ["x"], "embeddings": [["a"]]}),
    ("add embeddings of bools", "POST", f"{RECORDS}/add", {"ids": ["x"], "embeddings": [[True]]}),
    ("add null embedding", "POST", f"{RECORDS}/add", {"ids": ["x"], "embeddings": [None]}),
    (
        "add some null",
        "POST",
        f"{RECORDS}/add",
        {"ids": ["x", "y"], "embeddings": [[1.0, 0.0], None]},
    ),
    (
        "add base64 and lists",
        "POST",
        f"{RECORDS}/add",
        {"ids": ["x", "y"], "embeddings": ["AACAPwAAAAA=", [1.0, 0.0]]},
    ),
    ("add out of range", "POST", f"{RECORDS}/add", b'{"ids":["x"],"embeddings":[[1e999,0.0]]}'),
    (
        "add negative out of range",
        "POST",
        f"{RECORDS}/add",
        b'{"ids":["x"],"embeddings":[[-1e999,0.0]]}',
    ),
    ("add NaN", "POST", f"{RECORDS}/add", b'{"ids":["x"],"embeddings":[[NaN,0.0]]}'),
    ("add wrong dimension", "POST", f"{RECORDS}/add", {"ids": ["x"], "embeddings": [[1.0]]}),
    (
        "add duplicate ids",
        "POST",
        f"{RECORDS}/add",
        {"ids": ["x", "x"], "embeddings": [[1.0, 0.0], [1.0, 0.0]]},
    ),
    (
        "add count mismatch",
        "POST",
        f"{RECORDS}/add",
        {"ids": ["x", "y"], "embeddings": [[1.0, 0.0]]},
    ),
    (
        "add documents numbers",
        "POST",
        f"{RECORDS}/add",
        {"ids": ["x"], "embeddings": [[1.0, 0.0]], "documents": [1]},
    ),
    (
        "add metadatas string",
        "POST",
        f"{RECORDS}/add",
        {"ids": ["x"], "embeddings": [[1.0, 0.0]], "metadatas": "x"},
    ),
    (
        "add metadata number",
        "POST",
        f"{RECORDS}/add",
        {"ids": ["x"], "embeddings": [[1.0, 0.0]], "metadatas": [1]},
    ),
    (
        "add metadata null value",
        "POST",
        f"{RECORDS}/add",
        {"ids": ["x"], "embeddings": [[1.0, 0.0]], "metadatas": [{"k": None}]},
    ),
    (
        "add metadata empty list",
        "POST",
        f"{RECORDS}/add",
        {"ids": ["x"], "embeddings": [[1.0, 0.0]], "metadatas": [{"k": []}]},
    ),
    (
        "add unknown field",
        "POST",
        f"{RECORDS}/add",
        {"ids": ["x1"], "embeddings": [[1.0, 0.0]], "unknown": 1},
    ),
    ("add empty ids", "POST", f"{RECORDS}/add", {"ids": [], "embeddings": []}),
    (
        "add nothing, metadatas a string",
        "POST",
        f"{RECORDS}/add",
        {"ids": [], "embeddings": [], "metadatas": "x"},
    ),
    (
        "add no ids, one embedding",
        "POST",
        f"{RECORDS}/add",
        {"ids": [], "embeddings": [[1.0, 0.0]]},
    ),
    ("update nothing", "POST", f"{RECORDS}/update", {"ids": []}),
    ("upsert nothing", "POST", f"{RECORDS}/upsert", {"ids": [], "embeddings": []}),
    ("upsert without embeddings", "POST", f"{RECORDS}/upsert", {"ids": ["x"]}),
    ("update unknown id", "POST", f"{RECORDS}/update", {"ids": ["zz"], "documents": ["d"]}),
    ("update null embeddings", "POST", f"{RECORDS}/update", {"ids": ["a"], "embeddings": [None]}),
    (
        "update some null",
        "POST",
        f"{RECORDS}/update",
        {"ids": ["a", "b"], "embeddings": [[1.0, 0.0], None]},
    ),
    # Reads
    ("get body list", "POST", f"{RECORDS}/get", []),
    ("get body string", "POST", f"{RECORDS}/get", "get"),
    ("get unknown field", "POST", f"{RECORDS}/get", {"unknown": 1}),
    ("get limit true", "POST", f"{RECORDS}/get", {"limit": True}),
    ("get limit negative", "POST", f"{RECORDS}/get", {"limit": -1}),
    ("get limit beyond u32", "POST", f"{RECORDS}/get", {"limit": 2**40}),
    ("get offset fraction", "POST", f"{RECORDS}/get", {"offset": 1.5}),
    ("get where string", "POST", f"{RECORDS}/get", {"where": "a"}),
    ("get where empty", "POST", f"{RECORDS}/get", {"where": {}}),
    ("get where operator", "POST", f"{RECORDS}/get", {"where": {"a": {"$regex": "("}}}),
    ("get where_document empty", "POST", f"{RECORDS}/get", {"where_document": {}}),
    ("get include string", "POST", f"{RECORDS}/get", {"include": "documents"}),
    ("get include number", "POST", f"{RECORDS}/get", {"include": [1]}),
    ("get include unknown", "POST", f"{RECORDS}/get", {"include": ["bogus"]}),
    ("get ids string", "POST", f"{RECORDS}/get", {"ids": "a"}),
    (
        "query n_results true",
        "POST",
        f"{RECORDS}/query",
        {"query_embeddings": [[1.0, 0.0]], "n_results": True},
    ),
    (
        "query n_results fraction",
        "POST",
        f"{RECORDS}/query",
        {"query_embeddings": [[1.0, 0.0]], "n_results": 1.5},
    ),
    (
        "query n_results text",
        "POST",
        f"{RECORDS}/query",
        {"query_embeddings": [[1.0, 0.0]], "n_results": "3"},
    ),
    (
        "query n_results negative",
        "POST",
        f"{RECORDS}/query",
        {"query_embeddings": [[1.0, 0.0]], "n_results": -1},
    ),
    (
        "query n_results beyond u32",
        "POST",
        f"{RECORDS}/query",
        {"query_embeddings": [[1.0, 0.0]], "n_results": 2**32},
    ),
    (
        "query n_results zero",
        "POST",
        f"{RECORDS}/query",
        {"query_embeddings": [[1.0, 0.0]], "n_results": 0},
    ),
    ("query no embeddings", "POST", f"{RECORDS}/query", {}),
    ("query null embeddings", "POST", f"{RECORDS}/query", {"query_embeddings": None}),
    ("query embeddings string", "POST", f"{RECORDS}/query", {"query_embeddings": "x"}),
    ("query no queries", "POST", f"{RECORDS}/query", {"query_embeddings": []}),
    ("query embedding of text", "POST", f"{RECORDS}/query", {"query_embeddings": [["a"]]}),
    ("query embedding of bools", "POST", f"{RECORDS}/query", {"query_embeddings": [[True]]}),
    ("query embedding a number", "POST", f"{RECORDS}/query", {"query_embeddings": [1.0]}),
    ("query base64", "POST", f"{RECORDS}/query", {"query_embeddings": ["AACAPwAAAAA="]}),
    ("query wrong dimension", "POST", f"{RECORDS}/query", {"query_embeddings": [[1.0]]}),
    ("query out of range", "POST", f"{RECORDS}/query", b'{"query_embeddings":[[1e999,0.0]]}'),
    ("query NaN", "POST", f"{RECORDS}/query", b'{"query_embeddings":[[NaN,0.0]]}'),
    (
        "query unknown id",
        "POST",
        f"{RECORDS}/query",
        {"query_embeddings": [[1.0, 0.0]], "ids": ["zz"]},
    ),
    (
        "query include string",
        "POST",
        f"{RECORDS}/query",
        {"query_embeddings": [[1.0, 0.0]], "include": "distances"},
    ),
    (
        "query include unknown",
        "POST",
        f"{RECORDS}/query",
        {"query_embeddings": [[1.0, 0.0]], "include": ["bogus"]},
    ),
    ("delete nothing named", "POST", f"{RECORDS}/delete", {"ids": []}),
    ("delete ids numbers", "POST", f"{RECORDS}/delete", {"ids": [1]}),
    ("delete ids with limit", "POST", f"{RECORDS}/delete", {"ids": ["a"], "limit": 1}),
    ("count read level", "GET", f"{RECORDS}/count?read_level=bogus", None),
    # Tenants, databases, JSON itself
    ("tenant without name", "POST", f"{API}/tenants", {}),
    ("tenant name number", "POST", f"{API}/tenants", {"name": 5}),
    ("database name number", "POST", f"{API}/tenants/default_tenant/databases", {"name": 5}),
    ("database name short", "POST", f"{API}/tenants/default_tenant/databases", {"name": "x"}),
    ("missing tenant", "GET", f"{API}/tenants/no-such-tenant", None),
    ("unknown route", "GET", f"{API}/nothing-here", None),
    ("wrong method", "DELETE", f"{API}/heartbeat", None),
    ("v1", "GET", "/api/v1/heartbeat", None),
]

#: Where Azurite answers otherwise on purpose: the case, the statuses of ``chroma run``
#: and of Azurite, and why.
DIFFERENCES: dict[str, tuple[Any, int, str]] = {
    "metadata empty list": (
        "no response",
        400,
        "chroma run drops the connection (its server fails on the empty list); Azurite "
        "refuses the list as embedded chromadb does",
    ),
    "bad name, empty list": (
        400,
        400,
        "chroma run reports the name; Azurite's engine checks the metadata values first "
        "and reports the empty list",
    ),
    "add metadata empty list": (
        201,
        400,
        "chroma run stores the empty list; Azurite refuses it as embedded chromadb does",
    ),
    "update some null": (
        200,
        400,
        "chroma run keeps the stored vector of a null entry; Azurite's engine takes the "
        "embeddings of an update as one matrix, all given or none",
    ),
}


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_same_answer_as_chroma_run(sides: tuple[Side, Side], case: Case) -> None:
    name, method, path, body = case
    chroma, azurite = (_answer(side, method, path, body) for side in sides)
    if name in DIFFERENCES:
        chroma_status, azurite_status, _ = DIFFERENCES[name]
        assert (chroma[0], azurite[0]) == (chroma_status, azurite_status)
        assert azurite != chroma
    else:
        assert azurite == chroma


# ---- chromadb's HttpClient against each server


@pytest.fixture(scope="module")
def clients(sides: tuple[Side, Side]) -> Iterator[tuple[Any, Any]]:
    made = [chromadb.HttpClient(host=side.server.host, port=side.server.port) for side in sides]
    yield made[0], made[1]
    for client in made:
        for owner in (client, getattr(client, "_admin_client", None)):
            if owner is not None:
                owner._server._session.close()


def _outcome(client: Any, call: Callable[[Any], Any]) -> tuple[str, Any]:
    try:
        call(client)
    except Exception as error:  # the class itself is what is compared
        text = re.sub(
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "{id}", str(error)
        )
        return type(error).__module__ + "." + type(error).__qualname__, _message(text)
    return ("ok", None)


def _deleted(client: Any, name: str) -> Any:
    collection = client.get_or_create_collection(name)
    client.delete_collection(name)
    return collection


CLIENT_CASES: list[tuple[str, Callable[[Any], Any]]] = [
    ("duplicate create_collection", lambda c: c.create_collection("seeded")),
    ("missing collection", lambda c: c.get_collection("nope-nope")),
    ("delete missing collection", lambda c: c.delete_collection("nope-nope")),
    ("n_results=True", lambda c: c.get_collection("seeded").query(
        query_embeddings=[[1.0, 0.0]], n_results=True)),
    ("n_results=-1", lambda c: c.get_collection("seeded").query(
        query_embeddings=[[1.0, 0.0]], n_results=-1)),
    ("bad name and metadata", lambda c: c.create_collection("-bad-", metadata={"": 1})),
    ("bad name", lambda c: c.create_collection("-bad-")),
    ("unknown hnsw setting", lambda c: c.create_collection(
        "client-hnsw", configuration={"hnsw": {"bogus": 1}})),
    ("count of a deleted collection", lambda c: _deleted(c, "gone-1").count()),
    ("add to a deleted collection", lambda c: _deleted(c, "gone-2").add(
        ids=["a"], embeddings=[[1.0, 0.0]])),
    ("get of a deleted collection", lambda c: _deleted(c, "gone-3").get()),
    ("query of a deleted collection", lambda c: _deleted(c, "gone-4").query(
        query_embeddings=[[1.0, 0.0]])),
    ("wrong dimension", lambda c: c.get_collection("seeded").add(ids=["x"], embeddings=[[1.0]])),
    ("query an unknown id", lambda c: c.get_collection("seeded").query(
        query_embeddings=[[1.0, 0.0]], ids=["zz"])),
    ("rename to a bad name", lambda c: c.get_collection("seeded").modify(name="-bad-")),
    ("rename to a taken name", lambda c: (c.get_or_create_collection("taken"),
                                          c.get_collection("seeded").modify(name="taken"))),
    ("missing database", lambda c: c.list_collections(database="nodb")),
]  # fmt: skip


@pytest.mark.parametrize("case", CLIENT_CASES, ids=[case[0] for case in CLIENT_CASES])
def test_http_client_sees_the_same(
    clients: tuple[Any, Any], case: tuple[str, Callable[[Any], Any]]
) -> None:
    chroma, azurite = (_outcome(client, case[1]) for client in clients)
    # Every call here is refused by chroma run: a case that both accept compares nothing.
    assert chroma[0] != "ok"
    assert azurite == chroma


# ---- schemas: sent on create, stored, served with every collection, enforced


def _vector_schema(t: Any) -> Any:
    return t.Schema().create_index(
        config=t.VectorIndexConfig(
            space="cosine", hnsw=t.HnswIndexConfig(ef_construction=150, max_neighbors=20)
        )
    )


def _disabled_schema(t: Any) -> Any:
    return (
        t.Schema()
        .delete_index(key="k", config=t.StringInvertedIndexConfig())
        .delete_index(config=t.IntInvertedIndexConfig())
        .delete_index(key="#document", config=t.FtsIndexConfig())
    )


def _schema_round_trip(client: Any, types: Any, name: str, build: Callable[[Any], Any]) -> Any:
    """Create with the schema, write, and read everything back; errors as outcomes."""
    collection = client.create_collection(name, schema=build(types))
    created = (collection.configuration_json, collection.schema.serialize_to_json())
    collection.add(
        ids=["1", "2", "3"],
        embeddings=[[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]],
        documents=["hello", "world", None],
        metadatas=[{"k": "x", "n": 1}, {"k": "y", "f": 2.5, "tags": ["a"]}, None],
    )
    read = client.get_collection(name)
    query = collection.query(query_embeddings=[[1.0, 0.0]], n_results=3)
    filters = [
        _outcome(client, lambda _c, w=w: collection.get(where=w))  # type: ignore[misc]
        for w in ({"k": "x"}, {"n": 1}, {"f": 2.5}, {"k": {"$in": ["x"]}})
    ]
    filters.append(_outcome(client, lambda _c: collection.get(where_document={"$contains": "hel"})))
    filters.append(_outcome(client, lambda _c: collection.delete(where={"n": {"$gt": 0}})))
    return (
        created,
        read.configuration_json,
        read.schema.serialize_to_json(),
        query["ids"],
        query["distances"],
        filters,
        collection.count(),
    )


@pytest.mark.parametrize("build", [_vector_schema, _disabled_schema], ids=["vector", "disabled"])
def test_a_schema_over_http_as_chroma_run(
    clients: tuple[Any, Any], build: Callable[[Any], Any]
) -> None:
    name = f"schema-{build.__name__.strip('_')}"
    chroma = _schema_round_trip(clients[0], chromadb.api.types, name, build)
    theirs_through_ours = _schema_round_trip(clients[1], chromadb.api.types, name, build)
    assert theirs_through_ours == chroma


@pytest.mark.parametrize("build", [_vector_schema, _disabled_schema], ids=["vector", "disabled"])
def test_azurites_http_client_sends_and_reads_the_schema(
    sides: tuple[Side, Side], clients: tuple[Any, Any], build: Callable[[Any], Any]
) -> None:
    server = sides[1].server
    name = f"schema-ours-{build.__name__.strip('_')}"
    chroma = _schema_round_trip(clients[0], chromadb.api.types, name, build)
    with azurite.HttpClient(host=server.host, port=server.port) as client:
        ours = _schema_round_trip(client, azurite.api.types, name, build)
    # Azurite's clients read distances as the float32 the engine computes.
    assert ours[4][0] == pytest.approx(chroma[4][0])
    assert ours[:4] + ours[6:] == chroma[:4] + chroma[6:]
    # The same error classes, in Azurite's module.
    assert [(kind.replace("azurite.", "chromadb."), message) for kind, message in ours[5]] == (
        chroma[5]
    )


SCHEMA_REFUSALS: list[tuple[str, Callable[[Any], Any]]] = [
    ("configuration and schema", lambda c: c.create_collection(
        "schema-both", configuration={"hnsw": {"space": "ip"}},
        schema=_vector_schema(chromadb.api.types))),
    ("legacy metadata and schema", lambda c: c.create_collection(
        "schema-legacy", metadata={"hnsw:space": "ip"},
        schema=_vector_schema(chromadb.api.types))),
]  # fmt: skip


@pytest.mark.parametrize("case", SCHEMA_REFUSALS, ids=[case[0] for case in SCHEMA_REFUSALS])
def test_schema_refusals_over_http_as_chroma_run(
    clients: tuple[Any, Any], case: tuple[str, Callable[[Any], Any]]
) -> None:
    chroma, azurite = (_outcome(client, case[1]) for client in clients)
    assert chroma[0] != "ok"
    assert azurite == chroma
