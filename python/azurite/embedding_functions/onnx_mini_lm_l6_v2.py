"""The default embedding function: all-MiniLM-L6-v2 on onnxruntime, as in Chroma.

Same vectors as chromadb's ``ONNXMiniLM_L6_V2`` (truncation at 256 tokens, mean pooling
over the attention mask, L2 normalisation), computed faster: each batch is padded to its
longest text instead of to 256 tokens (padding is masked out, so the vectors do not
change), and the onnxruntime session is loaded once per process and shared by every
instance and thread.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from azurite.embedding_functions import _minilm_files
from azurite.embedding_functions.base import (
    ALL_SPACES,
    Documents,
    EmbeddingFunction,
    Embeddings,
    Space,
    register_embedding_function,
)

MAX_TOKENS = 256
BATCH_SIZE = 32
DIMENSION = 384
#: Texts tokenised and sorted by token count together; bounds the memory held by token
#: lists when one call embeds very many texts.
SORT_WINDOW = 4096
_IGNORED_PROVIDERS = ("CoreMLExecutionProvider",)  # chromadb drops it as well


def _threads_allowed() -> int:
    """The threads a session may compute on: ``OMP_NUM_THREADS`` when set (Ray sets it to
    a worker's CPUs, so that the actors of a pool do not each start a thread per core of
    the machine and fight over them), else 0, onnxruntime's one per physical core."""
    try:
        return max(0, int(os.environ.get("OMP_NUM_THREADS", "0")))
    except ValueError:
        return 0


class MiniLMEncoder:
    """A loaded tokenizer and onnxruntime session; ``encode`` is thread-safe."""

    def __init__(self, model_dir: Path, providers: list[str] | None) -> None:
        ort = _import_runtime("onnxruntime")
        tokenizers = _import_runtime("tokenizers")
        self.model_dir = model_dir
        self._tokenizer = tokenizers.Tokenizer.from_file(
            str(model_dir / _minilm_files.TOKENIZER_FILE)
        )
        # The published tokenizer.json pads and truncates to 128; Chroma truncates at 256
        # and pads to 256. Here batches are padded by hand to their longest text.
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer.no_padding()
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = _threads_allowed()
        self._session = ort.InferenceSession(
            str(model_dir / _minilm_files.MODEL_FILE),
            sess_options=options,
            providers=providers or ort.get_available_providers(),
        )

    def encode(
        self, texts: list[str], batch_size: int = BATCH_SIZE, show_progress: bool = False
    ) -> np.ndarray:
        """Unit-norm float32 embeddings, one row per text, with a progress bar on stderr
        if asked."""
        result = np.empty((len(texts), DIMENSION), dtype=np.float32)
        with _progress(len(texts), show_progress) as progress:
            for start in range(0, len(texts), SORT_WINDOW):
                window = texts[start : start + SORT_WINDOW]
                result[start : start + len(window)] = self._encode_window(
                    window, batch_size, progress
                )
        return result

    def _encode_window(self, texts: list[str], batch_size: int, progress: Any) -> np.ndarray:
        """Tokenises `texts` once, then runs them in batches of similar token counts, so
        almost no time goes into padding; the vectors do not depend on the batch (padding
        is masked out), and rows come back in the order of `texts`."""
        token_ids = [encoding.ids for encoding in self._tokenizer.encode_batch(texts)]
        lengths = np.fromiter(map(len, token_ids), dtype=np.int64, count=len(token_ids))
        order = np.argsort(lengths, kind="stable")
        result = np.empty((len(texts), DIMENSION), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            rows = order[start : start + batch_size]
            result[rows] = self._encode_batch([token_ids[i] for i in rows], lengths[rows])
            progress.update(len(rows))
        return result

    def _encode_batch(self, token_ids: list[list[int]], lengths: np.ndarray) -> np.ndarray:
        # Padded to the longest text of the batch with the pad id 0, as tokenizers would.
        input_ids = np.zeros((len(token_ids), int(lengths.max())), dtype=np.int64)
        for row, ids in enumerate(token_ids):
            input_ids[row, : len(ids)] = ids
        attention_mask = (np.arange(input_ids.shape[1]) < lengths[:, np.newaxis]).astype(np.int64)
        (hidden, *_) = self._session.run(
            None,
            {
                "input_ids": input_ids,
                "attention_mask": attention_mask,
                "token_type_ids": np.zeros_like(input_ids),
            },
        )
        mask = attention_mask[..., np.newaxis].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        embeddings: np.ndarray = (pooled / np.where(norms == 0, 1e-12, norms)).astype(np.float32)
        return embeddings


def _progress(total: int, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, unit="doc", desc="Embedding", disable=not enabled)


def _import_runtime(module: str) -> Any:
    try:
        return __import__(module)
    except ImportError:
        raise ValueError(
            f"The {module} python package is not installed. Please install it with "
            f"`pip install {module}`"
        ) from None


_encoders: dict[tuple[str | None, tuple[str, ...]], MiniLMEncoder] = {}
_encoders_lock = threading.Lock()


def shared_encoder(
    model_dir: str | os.PathLike[str] | None, providers: list[str] | None
) -> MiniLMEncoder:
    """The process-wide encoder for this model location and providers, loaded (and the
    model obtained) on first use; later calls only look it up."""
    key = (None if model_dir is None else os.fspath(model_dir), tuple(providers or ()))
    encoder = _encoders.get(key)
    if encoder is not None:
        return encoder
    with _encoders_lock:
        encoder = _encoders.get(key)
        if encoder is None:
            # Without onnxruntime (the thin client), chromadb's error before any attempt
            # to obtain the model.
            _import_runtime("onnxruntime")
            _import_runtime("tokenizers")
            directory = _minilm_files.resolve_model_dir(model_dir)
            encoder = _encoders[key] = MiniLMEncoder(directory, providers)
        return encoder


def _checked_providers(preferred: list[str] | None) -> list[str] | None:
    if preferred is None:
        return None
    if not all(isinstance(p, str) for p in preferred):
        raise ValueError("Preferred providers must be a list of strings")
    if len(set(preferred)) != len(preferred):
        raise ValueError("Preferred providers must be unique")
    available = _import_runtime("onnxruntime").get_available_providers()
    if not set(preferred) <= set(available):
        raise ValueError(f"Preferred providers must be subset of available providers: {available}")
    return [p for p in preferred if p not in _IGNORED_PROVIDERS]


@register_embedding_function
class ONNXMiniLM_L6_V2(EmbeddingFunction[Documents]):
    """all-MiniLM-L6-v2 (384 dimensions) on onnxruntime.

    Args:
        preferred_providers: onnxruntime execution providers, in order of preference
            (default: all available).
        model_dir: a directory holding ``model.onnx`` and ``tokenizer.json``; by default
            the model is found or obtained as described in ``_minilm_files``.
        show_progress: show a progress bar on stderr while embedding (not stored with
            collections: it changes no vector).
    """

    def __init__(
        self,
        preferred_providers: list[str] | None = None,
        model_dir: str | os.PathLike[str] | None = None,
        show_progress: bool = False,
    ) -> None:
        self._preferred_providers = preferred_providers
        self._providers = _checked_providers(preferred_providers)
        self._model_dir = model_dir
        self._show_progress = show_progress

    def __call__(self, input: Documents) -> Embeddings:
        encoder = shared_encoder(self._model_dir, self._providers)
        return list(encoder.encode(list(input), show_progress=self._show_progress))

    @staticmethod
    def name() -> str:
        return "onnx_mini_lm_l6_v2"

    def get_config(self) -> dict[str, Any]:
        return {"preferred_providers": self._preferred_providers}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ONNXMiniLM_L6_V2:
        return ONNXMiniLM_L6_V2(preferred_providers=config.get("preferred_providers"))

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return list(ALL_SPACES)

    def max_tokens(self) -> int:
        return MAX_TOKENS

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ONNXMiniLM_L6_V2)
            and self._preferred_providers == other._preferred_providers
            and self._model_dir == other._model_dir
        )

    def __hash__(self) -> int:
        return hash((ONNXMiniLM_L6_V2, self._model_dir))


@register_embedding_function
class DefaultEmbeddingFunction(EmbeddingFunction[Documents]):
    """The function a collection gets when none is given: all-MiniLM-L6-v2, recorded as
    ``default`` (and therefore in the ``l2`` space, as in Chroma).

    Args:
        show_progress: show a progress bar on stderr while embedding, e.g. for a large
            documents-only ``add``.
    """

    def __init__(self, show_progress: bool = False) -> None:
        self._onnx = ONNXMiniLM_L6_V2(show_progress=show_progress)

    def __call__(self, input: Documents) -> Embeddings:
        return self._onnx(input)

    @staticmethod
    def name() -> str:
        return "default"

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> DefaultEmbeddingFunction:
        return DefaultEmbeddingFunction()

    def max_tokens(self) -> int:
        return MAX_TOKENS

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DefaultEmbeddingFunction)

    def __hash__(self) -> int:
        return hash(DefaultEmbeddingFunction)
