"""Writes a chromadb directory through chromadb 1.5.9's own client, run as a script so that
chromadb has let go of every file when the tests read it:

    python write_chroma_directory.py DIR [RECORDS]

Several tenants, databases and collections, each space, custom HNSW parameters, the
default, a registered (Hugging Face's, configured but never run) and no embedding
function; metadata of every type chromadb stores; documents and URIs; updates, upserts and
deletes. sync_threshold is small in some collections, so their HNSW files hold the older
writes while the newer ones (and some deletes) are only in the log.
"""

from __future__ import annotations

import os
import sys

import chromadb
import numpy as np
from chromadb.utils.embedding_functions import HuggingFaceEmbeddingFunction

# Each collection: name, tenant, database, dimension, configuration (besides the function),
# and which embedding function.
COLLECTIONS = [
    ("l2_flushed", "default_tenant", "default_database", 8,
     {"hnsw": {"space": "l2", "sync_threshold": 100, "batch_size": 50, "max_neighbors": 12,
               "ef_construction": 120, "ef_search": 80}}, "none"),
    ("cosine_flushed", "default_tenant", "default_database", 16,
     {"hnsw": {"space": "cosine", "sync_threshold": 64, "batch_size": 32}}, "default"),
    ("ip_in_log", "default_tenant", "second_db", 5,
     {"hnsw": {"space": "ip"}}, "registered"),
    ("cosine_in_log", "team_tenant", "team_db", 12,
     {"hnsw": {"space": "cosine", "resize_factor": 1.5}}, "none"),
    ("l2_default", "team_tenant", "team_db", 3, None, "default"),
]  # fmt: skip
EMPTY_COLLECTION = ("empty_one", "team_tenant", "team_db")
EMPTY_DATABASE = ("team_tenant", "no_collections_db")
API_KEY_VARIABLE = "CHROMA_HUGGINGFACE_API_KEY"


def registered_function() -> HuggingFaceEmbeddingFunction:
    """A function of chromadb's registry that is configured without being run: its API
    key is read from an environment variable, which the tests set to a dummy."""
    os.environ.setdefault(API_KEY_VARIABLE, "not-a-key")
    return HuggingFaceEmbeddingFunction(
        api_key_env_var=API_KEY_VARIABLE, model_name="sentence-transformers/all-MiniLM-L6-v2"
    )


def metadata_of(i: int) -> dict[str, object]:
    """Every metadata type and some edge values, varying by record."""
    metadata: dict[str, object] = {
        "int": i,
        "big": 2**62 + i,
        "negative": -i - 1,
        "float": i + 0.25,
        "integral_float": float(i),
        "bool": i % 2 == 0,
        "text": f"text é 漢字 {i}",
        "empty": "",
        "ints": [i, i + 1, -3],
        "floats": [0.5, float(i)],
        "strings": ["a", f"b{i}", ""],
        "bools": [True, i % 3 == 0],
    }
    if i % 5 == 0:
        del metadata["float"]
    return metadata


def fill(collection: chromadb.Collection, dimension: int, records: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    ids = [f"id-{i}" for i in range(records)]
    vectors = rng.standard_normal((records, dimension)).astype(np.float32)
    for start in range(0, records, 97):
        end = min(start + 97, records)
        collection.add(
            ids=ids[start:end],
            embeddings=vectors[start:end],
            documents=[None if i % 7 == 0 else f"document {i} ✓" for i in range(start, end)],
            metadatas=[None if i % 11 == 0 else metadata_of(i) for i in range(start, end)],
            uris=[None if i % 4 == 0 else f"s3://bucket/{i}" for i in range(start, end)],
        )
    collection.update(
        ids=ids[1:30:3],
        embeddings=rng.standard_normal((10, dimension)).astype(np.float32),
        metadatas=[{"int": None, "updated": True, "ints": [7, 8]} for _ in range(10)],
        documents=[f"updated {i}" for i in range(10)],
    )
    collection.update(ids=ids[2:20:5], metadatas=[{"text": "metadata only"}] * 4)
    collection.upsert(
        ids=[ids[5], "upserted-new"],
        embeddings=rng.standard_normal((2, dimension)).astype(np.float32),
        metadatas=[{"upserted": 1.5}, {"upserted": 2}],
        documents=["upserted doc", "new doc"],
        uris=["uri-up", None],
    )
    collection.delete(ids=ids[3:40:6])
    collection.delete(where={"int": {"$gt": records - 4}})
    # Deleted, then added again: chromadb lists it after the others.
    collection.add(ids=[ids[9]], embeddings=rng.standard_normal((1, dimension)).astype(np.float32))
    # The newest writes, likely only in the log.
    collection.add(
        ids=[f"late-{i}" for i in range(5)],
        embeddings=rng.standard_normal((5, dimension)).astype(np.float32),
        metadatas=[{"late": i} for i in range(5)],
    )


def main(path: str, records: int) -> None:
    client = chromadb.PersistentClient(path=path)
    admin = chromadb.AdminClient(chromadb.Settings(is_persistent=True, persist_directory=path))
    tenants = {t for _, t, _, _, _, _ in COLLECTIONS} | {EMPTY_DATABASE[0]}
    for tenant in sorted(tenants - {"default_tenant"}):
        admin.create_tenant(tenant)
    databases = {(t, d) for _, t, d, _, _, _ in COLLECTIONS} | {EMPTY_DATABASE}
    for tenant, database in sorted(databases - {("default_tenant", "default_database")}):
        admin.create_database(database, tenant)
    functions = {
        "none": None,
        "default": chromadb.utils.embedding_functions.DefaultEmbeddingFunction(),
        "registered": registered_function(),
    }
    for seed, (name, tenant, database, dimension, configuration, function) in enumerate(
        COLLECTIONS
    ):
        client.set_tenant(tenant, database)
        collection = client.create_collection(
            name,
            configuration=configuration,
            metadata={"owner": name, "version": seed, "ratio": 0.5, "public": seed % 2 == 0},
            embedding_function=functions[function],
        )
        fill(collection, dimension, records, seed)
    client.set_tenant(EMPTY_COLLECTION[1], EMPTY_COLLECTION[2])
    client.create_collection(EMPTY_COLLECTION[0], embedding_function=None)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 300)
