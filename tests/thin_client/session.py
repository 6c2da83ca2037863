"""Run by the interpreter of a fresh virtual environment that has only azurite-client and
its dependencies: ``python session.py WHAT [HOST PORT]`` prints what it observed as JSON,
for test_thin_client.py to check. It imports nothing from the test suite."""

from __future__ import annotations

import asyncio
import importlib.metadata
import importlib.util
import json
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import azurite
import azurite.api.types
import azurite.errors
import azurite.utils.embedding_functions
from azurite.config import Settings

#: Modules of the full package and of its heavy dependencies, absent from the thin one.
ABSENT = ("azurite._core", "azurite.server", "azurite.cli", "onnxruntime", "tokenizers")


def error(call: Any) -> list[str] | None:
    """[class name, message] of what `call()` raises, None if it returns."""
    try:
        call()
    except Exception as exc:
        return [type(exc).__name__, str(exc)]
    return None


def contents() -> dict[str, Any]:
    return {
        "file": azurite.__file__,
        "importable": {name: importlib.util.find_spec(name) is not None for name in ABSENT},
        "is_thin_client": azurite.config.is_thin_client,
        "version": azurite.__version__,
        "azurite_version": azurite.__azurite_version__,
        "distribution_version": importlib.metadata.version("azurite-client"),
        "requires": importlib.metadata.requires("azurite-client"),
        "missing_names": [name for name in azurite.__all__ if not hasattr(azurite, name)],
    }


def local_clients() -> dict[str, Any]:
    path = Path(tempfile.mkdtemp()) / "db"
    return {
        "PersistentClient": error(lambda: azurite.PersistentClient(path=str(path))),
        "EphemeralClient": error(azurite.EphemeralClient),
        "Client": error(azurite.Client),
        "RustClient": error(azurite.RustClient),
        "AdminClient": error(azurite.AdminClient),
        "path_created": path.exists(),
    }


def sync_session(host: str, port: int) -> dict[str, Any]:
    client = azurite.HttpClient(host=host, port=port)
    seen: dict[str, Any] = {"heartbeat": isinstance(client.heartbeat(), int)}
    collection = client.create_collection(
        "thin", metadata={"hnsw:space": "cosine"}, embedding_function=None
    )
    collection.add(
        ids=["a", "b", "c"],
        embeddings=[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
        documents=["alpha", "beta", "gamma"],
        metadatas=[{"n": 1}, {"n": 2}, {"n": 3}],
    )
    seen["count"] = collection.count()
    query = collection.query(query_embeddings=[[1.0, 0.1]], n_results=2, where={"n": {"$lt": 3}})
    seen["query_ids"] = query["ids"]
    collection.update(
        ids=["b"], embeddings=[[0.0, 2.0]], documents=["beta 2"], metadatas=[{"n": 20}]
    )
    collection.upsert(ids=["d"], embeddings=[[0.5, 0.5]], documents=["delta"])
    seen["get"] = collection.get(ids=["b", "d"], include=["documents", "metadatas"])
    collection.delete(ids=["a"])
    seen["count_after_delete"] = collection.count()
    seen["collections"] = [c.name for c in client.list_collections()]
    seen["missing_collection"] = error(lambda: client.get_collection("nope"))
    seen["duplicate_collection"] = error(lambda: client.create_collection("thin"))
    seen["wrong_dimension"] = error(lambda: collection.add(ids=["e"], embeddings=[[1.0, 2.0, 3.0]]))
    seen["not_found_is_chroma_error"] = issubclass(
        azurite.errors.NotFoundError, azurite.errors.ChromaError
    )

    admin = azurite.AdminClient(
        Settings(
            chroma_api_impl="chromadb.api.fastapi.FastAPI",
            chroma_server_host=host,
            chroma_server_http_port=port,
        )
    )
    # Tenants cannot be deleted: each run makes its own.
    tenant = f"tenant_{uuid.uuid4().hex}"
    admin.create_tenant(tenant)
    admin.create_database("thin_db", tenant=tenant)
    seen["database"] = admin.get_database("thin_db", tenant=tenant)["name"]
    other = azurite.HttpClient(host=host, port=port, tenant=tenant, database="thin_db")
    seen["other_database_collections"] = other.list_collections()
    client.delete_collection("thin")
    return seen


async def async_session(host: str, port: int) -> dict[str, Any]:
    client = await azurite.AsyncHttpClient(host=host, port=port)
    collection = await client.create_collection("thin_async", embedding_function=None)
    await collection.add(ids=["x", "y"], embeddings=[[0.0, 1.0], [1.0, 0.0]])
    seen: dict[str, Any] = {"count": await collection.count()}
    query = await collection.query(query_embeddings=[[0.1, 1.0]], n_results=1)
    seen["query_ids"] = query["ids"]
    await collection.delete(ids=["x"])
    seen["ids_after_delete"] = (await collection.get())["ids"]
    try:
        await client.get_collection("nope")
    except azurite.errors.NotFoundError as exc:
        seen["missing_collection"] = [type(exc).__name__, str(exc)]
    await client.delete_collection("thin_async")
    return seen


def default_embedding_function(host: str, port: int) -> dict[str, Any]:
    client = azurite.HttpClient(host=host, port=port)
    collection = client.create_collection("thin_default")
    seen = {
        "function": type(collection._embedding_function).__name__,
        "add_documents": error(lambda: collection.add(ids=["a"], documents=["text"])),
        "count": collection.count(),
    }
    client.delete_collection("thin_default")
    return seen


def main() -> None:
    what, *address = sys.argv[1:]
    server = (address[0], int(address[1])) if address else None
    observed: dict[str, Any]
    if what == "contents":
        observed = contents()
    elif what == "local-clients":
        observed = local_clients()
    elif what == "sync" and server:
        observed = sync_session(*server)
    elif what == "async" and server:
        observed = asyncio.run(async_session(*server))
    elif what == "default-embedding-function" and server:
        observed = default_embedding_function(*server)
    else:
        raise SystemExit(f"usage: session.py WHAT [HOST PORT], not {sys.argv[1:]}")
    print(json.dumps(observed))


if __name__ == "__main__":
    main()
