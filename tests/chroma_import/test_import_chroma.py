"""``import_chroma`` / ``azurite import-chroma`` of a directory chromadb 1.5.9 wrote: every
collection then answers ``get`` and ``query`` through Azurite's client as it does through
chromadb's, with the same configuration, metadata and schema; the source is not touched."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import chromadb
import numpy as np
from server.servers import azurite_server

import azurite
from azurite.io.chroma import import_chroma, verify_import

from .conftest import INCLUDE, tree_digest, typed, visible_collections
from .write_chroma_directory import COLLECTIONS, EMPTY_COLLECTION

ALL_COLLECTIONS = [(t, d, n) for n, t, d, *_ in COLLECTIONS] + [
    (EMPTY_COLLECTION[1], EMPTY_COLLECTION[2], EMPTY_COLLECTION[0])
]


def run_cli(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "azurite.cli", *arguments],
        capture_output=True,
        text=True,
    )


def assert_same_collections(reference: Path, ours: azurite.ClientAPI) -> None:
    theirs = chromadb.PersistentClient(path=str(reference))
    rng = np.random.default_rng(7)
    for tenant, database, name in ALL_COLLECTIONS:
        theirs.set_tenant(tenant, database)
        ours.set_tenant(tenant, database)
        expected, got = theirs.get_collection(name), ours.get_collection(name)
        assert got.configuration_json == expected.configuration_json, name
        assert typed(got.metadata) == typed(expected.metadata)
        assert got.schema.serialize_to_json() == expected.schema.serialize_to_json()
        assert got.count() == expected.count()
        a, b = expected.get(include=INCLUDE), got.get(include=INCLUDE)
        assert b["ids"] == a["ids"]
        assert b["documents"] == a["documents"]
        assert b["uris"] == a["uris"]
        assert typed(b["metadatas"]) == typed(a["metadatas"])
        if not a["ids"]:
            continue
        vectors = np.asarray(a["embeddings"], dtype=np.float32)
        assert np.asarray(b["embeddings"], dtype=np.float32).tobytes() == vectors.tobytes()
        queries = rng.standard_normal((3, vectors.shape[1])).astype(np.float32)
        q_a = expected.query(query_embeddings=queries, n_results=10, include=["distances"])
        q_b = got.query(query_embeddings=queries, n_results=10, include=["distances"])
        assert q_b["ids"] == q_a["ids"], name
        np.testing.assert_allclose(q_b["distances"], q_a["distances"], rtol=1e-5, atol=1e-6)


def test_import_gives_what_chromadb_gives(
    chroma_dir: Path, chroma_reference: Path, tmp_path: Path
) -> None:
    before = tree_digest(chroma_dir)
    target = tmp_path / "azurite"
    report = import_chroma(chroma_dir, target, batch_size=64, sample_size=25)
    assert report.ok
    assert [(c.tenant, c.database, c.name) for c in report.collections] == sorted(ALL_COLLECTIONS)
    assert all(c.sampled == min(c.source_count, 25) or c.sampled > 25 for c in report.collections)
    assert tree_digest(chroma_dir) == before
    assert_same_collections(chroma_reference, azurite.PersistentClient(str(target)))
    # Tenants and databases come along, an empty database too.
    admin = azurite.AdminClient(azurite.Settings(is_persistent=True, persist_directory=str(target)))
    assert [d["name"] for d in admin.list_databases(tenant="team_tenant")] == sorted(
        ["team_db", "no_collections_db"]
    )


def test_command_prints_a_table_and_refuses_a_second_import(
    chroma_dir: Path, tmp_path: Path
) -> None:
    target = tmp_path / "azurite"
    first = run_cli("import-chroma", "--from", str(chroma_dir), "--path", str(target))
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0].split() == ["collection", "source", "imported", "sampled", "check"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:]}
    assert rows["default_tenant/second_db/ip_in_log"][0:2] == ["298", "298"]
    assert rows["team_tenant/team_db/empty_one"] == ["0", "0", "0", "ok"]
    assert all(row[-1] == "ok" for row in rows.values())
    assert "records" in first.stderr  # the progress bars

    before = visible_collections(target)
    second = run_cli("import-chroma", "--from", str(chroma_dir), "--path", str(target))
    assert second.returncode == 1
    assert "already exists" in second.stderr
    assert "nothing was imported" in second.stderr
    assert visible_collections(target) == before


def test_configuration_of_each_embedding_function(chroma_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "azurite"
    import_chroma(chroma_dir, target)
    client = azurite.PersistentClient(str(target))
    functions = {}
    for tenant, database, name in ALL_COLLECTIONS[:-1]:
        client.set_tenant(tenant, database)
        functions[name] = client.get_collection(name).configuration_json["embedding_function"]
    assert functions["l2_flushed"] == {"type": "legacy"}
    assert functions["cosine_flushed"] == {"type": "known", "name": "default", "config": {}}
    assert functions["ip_in_log"] == {
        "type": "known",
        "name": "huggingface",
        "config": {
            "api_key_env_var": "CHROMA_HUGGINGFACE_API_KEY",
            "model_name": "sentence-transformers/all-MiniLM-L6-v2",
        },
    }


def test_import_through_a_server(chroma_dir: Path, chroma_reference: Path, tmp_path: Path) -> None:
    """An HTTP client of ``azurite run`` is a target too: the server stages, publishes and
    abandons imports through its routes."""
    with azurite_server(tmp_path) as server:
        client = azurite.HttpClient(host=server.host, port=server.port)
        try:
            report = import_chroma(chroma_dir, client, batch_size=100, sample_size=10)
            assert report.ok
            assert_same_collections(chroma_reference, client)
        finally:
            client.close()


def test_verification_finds_each_kind_of_difference(chroma_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "azurite"
    assert import_chroma(chroma_dir, target).ok
    client = azurite.PersistentClient(str(target))
    collection = client.get_collection("l2_flushed", embedding_function=None)
    vector, kept = collection.get(ids=["id-2", "id-10"], include=["embeddings"])["embeddings"]
    changed = np.array(vector, dtype=np.float32)
    changed[0] = np.nextafter(changed[0], np.float32(np.inf))
    collection.update(ids=["id-2"], embeddings=[changed])
    # 2 where the source has 2.0: equal as numbers, not as stored types.
    collection.update(ids=["id-8"], metadatas=[{"integral_float": 8}])
    collection.update(ids=["id-10"], documents=["not the source's"], embeddings=[kept])
    collection.delete(ids=["id-13"])
    client.set_tenant("team_tenant", "team_db")
    client.delete_collection("l2_default")
    azurite.api.client.SharedSystemClient.clear_system_cache()

    report = verify_import(chroma_dir, target, sample_size=1_000)
    problems = {(c.name, m) for c in report.collections for m in c.mismatches}
    assert not report.ok
    assert problems == {
        ("l2_flushed", "297 records imported, the source has 298"),
        ("l2_flushed", "record 'id-2': its embedding differs"),
        ("l2_flushed", "record 'id-8': its metadata differs"),
        ("l2_flushed", "record 'id-10': its document differs"),
        ("l2_flushed", "record 'id-13' is missing"),
        ("l2_default", "the collection is not in the target"),
    }


def test_command_refuses_a_directory_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "not_chroma").mkdir()
    target = tmp_path / "azurite"
    result = run_cli("import-chroma", "--from", str(tmp_path / "not_chroma"), "--path", str(target))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"Cannot import {tmp_path / 'not_chroma'}: {tmp_path / 'not_chroma'} is not a chromadb "
        "persistent directory: it has no chroma.sqlite3"
    ]
    assert not target.exists()
