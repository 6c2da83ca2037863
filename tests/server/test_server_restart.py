"""What clients write through ``azurite run`` is still there after the server is stopped
(SIGTERM, a graceful shutdown) and started again on the same directory."""

from __future__ import annotations

from pathlib import Path

import azurite

from .servers import azurite_server


def test_records_survive_a_restart(tmp_path: Path) -> None:
    with (
        azurite_server(tmp_path) as server,
        azurite.HttpClient(host=server.host, port=server.port) as client,
    ):
        collection = client.create_collection("kept", metadata={"v": 1}, embedding_function=None)
        collection.add(ids=["a", "b"], embeddings=[[1.0, 2.0], [3.0, 4.0]], documents=["x", "y"])
    with (
        azurite_server(tmp_path) as server,
        azurite.HttpClient(host=server.host, port=server.port) as client,
    ):
        collection = client.get_collection("kept", embedding_function=None)
        assert collection.metadata == {"v": 1}
        assert collection.get(include=["embeddings", "documents"])["documents"] == ["x", "y"]
        assert collection.query(query_embeddings=[[3.0, 4.0]], n_results=1)["ids"] == [["b"]]
