"""``ChromaBm25EmbeddingFunction`` against chromadb 1.5.9's own, document by document: the
same indices, the same weights bit for bit and the same labels, on a few thousand real
texts (Chroma's documentation and the docstrings of Python's standard library) and on
inputs chosen to reach every rule of its tokenizer."""

from __future__ import annotations

import ast
import sysconfig
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mmh3
import pytest
from chromadb.utils.embedding_functions import ChromaBm25EmbeddingFunction as ChromaBm25
from chromadb.utils.embedding_functions.chroma_bm25_embedding_function import (
    DEFAULT_CHROMA_BM25_STOPWORDS as CHROMA_STOPWORDS,
)

from azurite import SparseVector
from azurite.embedding_functions import ChromaBm25EmbeddingFunction
from azurite.embedding_functions.bm25 import DEFAULT_CHROMA_BM25_STOPWORDS

#: The pages of Chroma's documentation the spec keeps, beside the repository (CI lays
#: shared/ beside it).
CHROMA_DOCS = Path(__file__).resolve().parents[3] / "shared" / "seed" / "chroma-docs.md"
STDLIB = Path(sysconfig.get_paths()["stdlib"])
#: How many documents of each source the comparison reads.
DOCS_PARAGRAPHS = 800
STDLIB_DOCSTRINGS = 2700

#: Two numbers (which the stemmer leaves as they are) whose MurmurHash3 values are
#: opposite: their absolute values, the indices, are equal.
COLLIDING = ("757", "4904")

EDGE_CASES = [
    "",
    "   \t\n  ",
    "...!!! ??? --- ***",
    "the and of a an to is was",
    "Usain Bolt's top speed reached ~27.8 mph (44.72 km/h)",
    "The   space-time   continuum   WARPS   near   massive   objects...",
    "3.14159 2,718 1e10 0x1F 007 42nd 1st 10,000,000",
    "x" * 40,
    "y" * 41,
    "antidisestablishmentarianism " * 3,
    "pneumonoultramicroscopicsilicovolcanoconiosis is long",
    "word " * 1000,
    "running runs ran runner easily fairly generously",
    "snake_case_name __dunder__ _private",
    "naïve café résumé – «quotes» and emoji 🎉🚀",
    "İstanbul ÇAĞ ﬁne ß STRASSE straße Ǆemal",
    "数据库中的向量搜索 and ベクトル検索 and 벡터 검색",
    "مرحبا بالعالم שלום עולם",
    "zero\u200bwidth\u200djoiner non\xa0breaking line\u2028separator",
    "full-width ＡＢＣ１２３ digits",
    "e\u0301 combining acute versus é precomposed",
    "control\x00chars\x1fand\x7fdel",
    "don't won't shouldn't it's you're they'll",
    "HTML <b>tags</b> &amp; entities &#39; url https://docs.trychroma.com/a?b=c",
    "{} ".format(" ".join(COLLIDING + COLLIDING[:1])),
]


def documentation_paragraphs() -> Iterator[str]:
    """Chroma's documentation, paragraph by paragraph (blank lines between them)."""
    text = CHROMA_DOCS.read_text(encoding="utf-8")
    for paragraph in text.split("\n\n"):
        if paragraph.strip():
            yield paragraph


def stdlib_docstrings() -> Iterator[str]:
    """The docstrings of the standard library's modules, classes and functions, read from
    its source files in name order."""
    for path in sorted(STDLIB.glob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        for node in ast.walk(tree):
            if isinstance(
                node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
            ):
                docstring = ast.get_docstring(node, clean=False)
                if docstring:
                    yield docstring


def real_texts() -> list[str]:
    paragraphs = [p for _, p in zip(range(DOCS_PARAGRAPHS), documentation_paragraphs())]
    docstrings = [d for _, d in zip(range(STDLIB_DOCSTRINGS), stdlib_docstrings())]
    assert len(paragraphs) == DOCS_PARAGRAPHS
    assert len(docstrings) == STDLIB_DOCSTRINGS
    return paragraphs + docstrings


def as_tuple(vector: Any) -> tuple[list[int], list[str], list[str] | None]:
    """A vector as comparable columns, weights as their exact binary values."""
    return (list(vector.indices), [float(v).hex() for v in vector.values], vector.labels)


def assert_same_vectors(texts: list[str], **options: Any) -> None:
    ours = ChromaBm25EmbeddingFunction(**options)(texts)
    theirs = ChromaBm25(**options)(texts)
    assert len(ours) == len(theirs) == len(texts)
    for text, mine, chromas in zip(texts, ours, theirs):
        assert isinstance(mine, SparseVector)
        assert as_tuple(mine) == as_tuple(chromas), text[:200]


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    return real_texts()


def test_same_vectors_as_chromadb_on_real_text(corpus: list[str]) -> None:
    assert_same_vectors(corpus)


def test_same_labels_as_chromadb_on_real_text(corpus: list[str]) -> None:
    assert_same_vectors(corpus[::3], include_tokens=True)


@pytest.mark.parametrize("text", EDGE_CASES, ids=range(len(EDGE_CASES)))
@pytest.mark.parametrize("include_tokens", [False, True])
def test_same_vectors_as_chromadb_on_edge_cases(text: str, include_tokens: bool) -> None:
    assert_same_vectors([text], include_tokens=include_tokens)


@pytest.mark.parametrize(
    "options",
    [
        {"k": 0.9, "b": 0.4},
        {"k": 2.0, "b": 1.0, "avg_doc_length": 12.5},
        {"k": 1, "b": 0, "avg_doc_length": 1},
        {"token_max_length": 5},
        {"token_max_length": 0},
        {"stopwords": ["Chroma", "COLLECTION", "embedding", "the"]},
        {"stopwords": []},
        {"stopwords": ("query", "Query")},
    ],
    ids=str,
)
def test_same_vectors_as_chromadb_with_options(options: dict[str, Any], corpus: list[str]) -> None:
    assert_same_vectors(corpus[::25] + EDGE_CASES, include_tokens=True, **options)


def test_the_rules_it_follows() -> None:
    """The vector of a small text, worked out from the rules by hand: stop words dropped,
    punctuation splitting words, stems, term counts, hashed indices in ascending order, and
    the BM25 term weight with the document's length in terms."""
    function = ChromaBm25EmbeddingFunction(include_tokens=True)
    (vector,) = function(["The runners were running; a RUNNER runs-fast."])
    # Terms kept: runner, run, runner, run, fast (5 terms; "the", "were", "a" are stop words).
    counts = {"runner": 2, "run": 2, "fast": 1}
    expected = sorted((abs(mmh3.hash(term, seed=0)), term) for term in counts)
    assert vector.indices == [index for index, _ in expected]
    assert vector.labels == [term for _, term in expected]
    norm = 1.2 * (1 - 0.75 + 0.75 * 5 / 256.0)
    assert vector.values == [
        counts[term] * 2.2 / (counts[term] + norm) for _, term in expected
    ]


def test_terms_with_one_index_are_one_entry_labelled_with_the_first() -> None:
    first, second = COLLIDING
    assert mmh3.hash(first, seed=0) == -mmh3.hash(second, seed=0)
    (vector,) = ChromaBm25EmbeddingFunction(include_tokens=True)([f"{second} {first} {second}"])
    assert vector.indices == [abs(mmh3.hash(first, seed=0))]
    assert vector.labels == [second]
    assert vector.values == [3 * 2.2 / (3 + 1.2 * (1 - 0.75 + 0.75 * 3 / 256.0))]


def test_empty_inputs() -> None:
    function = ChromaBm25EmbeddingFunction(include_tokens=True)
    assert function([]) == []
    (vector,) = function(["the of and"])
    assert (vector.indices, vector.values, vector.labels) == ([], [], None)


def test_stopwords_are_chromadbs() -> None:
    assert DEFAULT_CHROMA_BM25_STOPWORDS == list(CHROMA_STOPWORDS)
    assert len(DEFAULT_CHROMA_BM25_STOPWORDS) == 179


def test_embed_query_is_the_document_vector() -> None:
    function = ChromaBm25EmbeddingFunction()
    assert function.embed_query(["hybrid search with BM25"]) == function(
        ["hybrid search with BM25"]
    )


def test_threads_share_a_function() -> None:
    """Stemmers keep state while they work on a word; many threads using one function
    must still get each text's own vector."""
    texts = [p for _, p in zip(range(200), documentation_paragraphs())]
    function = ChromaBm25EmbeddingFunction()
    expected = [as_tuple(v) for v in function(texts)]
    results: dict[int, Any] = {}

    def work(worker: int) -> None:
        order = texts[worker:] + texts[:worker]
        results[worker] = [as_tuple(v) for v in function(order)]

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for worker, vectors in results.items():
        assert vectors == expected[worker:] + expected[:worker]
    assert len(results) == 8


def test_config_is_chromadbs_and_round_trips() -> None:
    default = ChromaBm25EmbeddingFunction()
    assert default.get_config() == ChromaBm25().get_config()
    custom = {
        "k": 0.9,
        "b": 0.4,
        "avg_doc_length": 100.0,
        "token_max_length": 12,
        "include_tokens": True,
        "stopwords": ["alpha", "beta"],
    }
    ChromaBm25EmbeddingFunction.validate_config(custom)
    rebuilt = ChromaBm25EmbeddingFunction.build_from_config(custom)
    assert rebuilt.get_config() == custom == ChromaBm25.build_from_config(custom).get_config()
    assert ChromaBm25EmbeddingFunction.build_from_config({}).get_config() == default.get_config()
    assert ChromaBm25EmbeddingFunction.name() == ChromaBm25.name() == "chroma_bm25"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"k": "1.2"}, "'1.2' is not of type 'number' at path 'k'"),
        ({"include_tokens": 1}, "1 is not of type 'boolean' at path 'include_tokens'"),
        ({"stopwords": ["a", 3]}, "3 is not of type 'string' at path 'stopwords/1'"),
        ({"avg_len": 3}, "Additional properties are not allowed ('avg_len' was unexpected)"),
    ],
)
def test_invalid_configs_are_refused(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match="Config validation failed for schema 'chroma_bm25'") as e:
        ChromaBm25EmbeddingFunction.validate_config(config)
    assert message in str(e.value)


def test_config_updates() -> None:
    function = ChromaBm25EmbeddingFunction()
    function.validate_config_update(function.get_config(), {"k": 1.1, "stopwords": ["x"]})
    with pytest.raises(ValueError, match="Updating 'unknown' is not supported for chroma_bm25"):
        function.validate_config_update(function.get_config(), {"unknown": 1})
