"""The "stdlib-docstrings" retrieval set: queries, documents and graded relevance judgments
built from the docstrings of the Python standard library that runs this module.

The rule (README.md in this folder says why each step is there):

1. Files: ``sysconfig.get_paths()["stdlib"]/*.py``, top level only, in name order; a file
   that is not UTF-8 or does not parse is skipped.
2. Objects: every class, function and async function in ``ast.walk`` order, named
   ``<file stem>:<line>:<name>``. A docstring is ``inspect.cleandoc`` of the raw docstring,
   split into paragraphs on blank lines, each with its white space collapsed.
3. Documents: every paragraph after the first of every object's docstring, and every
   paragraph of every module docstring, of ``MIN_DOCUMENT_WORDS`` words or more, id
   ``<object or stem>#<paragraph index>``. A text that occurs more than once is one
   document, with the id of its first occurrence, and belongs to every docstring that holds
   it.
4. Queries: the first paragraph of every object, of ``MIN_QUERY_WORDS`` to
   ``MAX_QUERY_WORDS`` words, whose docstring gives at least one document, and whose text
   no other object's summary repeats (a repeated summary, such as an overriding method's
   copy, asks for two different answers at once).
5. Judgments: grade 2 for the documents of the query's own docstring, grade 1 for those of
   the class that directly encloses it.

The result depends only on the standard library's text, so the same Python version gives
the same set on every machine; :func:`build` records ``sys.version`` beside the counts.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import json
import re
import sys
import sysconfig
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

MIN_DOCUMENT_WORDS = 8
MIN_QUERY_WORDS = 4
MAX_QUERY_WORDS = 30
OWN_GRADE = 2
ENCLOSING_CLASS_GRADE = 1

_DEFINITIONS = (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


@dataclass
class RetrievalSet:
    """Documents (id → text), queries (id → text) and judgments (query id → document id →
    grade), with the Python version and file count they were built from."""

    python_version: str
    files: int
    documents: dict[str, str] = field(default_factory=dict)
    queries: dict[str, str] = field(default_factory=dict)
    qrels: dict[str, dict[str, int]] = field(default_factory=dict)

    def digest(self) -> str:
        """SHA-256 of the documents, queries and judgments in a canonical JSON form: two
        builds that give the same digest give the same set."""
        content = {"documents": self.documents, "queries": self.queries, "qrels": self.qrels}
        canonical = json.dumps(content, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def counts(self) -> dict[str, int]:
        judged = [grade for judgments in self.qrels.values() for grade in judgments.values()]
        return {
            "files": self.files,
            "documents": len(self.documents),
            "queries": len(self.queries),
            "grade_2_judgments": judged.count(OWN_GRADE),
            "grade_1_judgments": judged.count(ENCLOSING_CLASS_GRADE),
        }


@dataclass
class _Docstring:
    owner: str
    paragraphs: list[str]
    is_module: bool
    enclosing_class: str | None = None


def paragraphs(docstring: str) -> list[str]:
    """The paragraphs of a raw docstring: cleaned as ``inspect.cleandoc`` does, split on
    blank lines, white space collapsed, empty ones dropped."""
    split = _BLANK_LINE.split(inspect.cleandoc(docstring))
    collapsed = (" ".join(paragraph.split()) for paragraph in split)
    return [paragraph for paragraph in collapsed if paragraph]


def stdlib_files(root: Path | None = None) -> list[Path]:
    """The top-level ``.py`` files of the standard library (or of `root`), in name order."""
    directory = Path(sysconfig.get_paths()["stdlib"]) if root is None else root
    return sorted(directory.glob("*.py"), key=lambda path: path.name)


def _parse(path: Path) -> ast.Module | None:
    try:
        return ast.parse(path.read_bytes().decode("utf-8"), filename=str(path))
    except (UnicodeDecodeError, SyntaxError, ValueError):
        return None


def _docstrings(stem: str, module: ast.Module) -> Iterator[_Docstring]:
    module_doc = ast.get_docstring(module, clean=False)
    if module_doc is not None:
        yield _Docstring(owner=stem, paragraphs=paragraphs(module_doc), is_module=True)
    class_names: dict[int, str] = {}
    enclosing: dict[int, str] = {}
    for node in ast.walk(module):
        if not isinstance(node, _DEFINITIONS):
            continue
        name = f"{stem}:{node.lineno}:{node.name}"
        if isinstance(node, ast.ClassDef):
            class_names[id(node)] = name
            for child in node.body:
                if isinstance(child, _DEFINITIONS):
                    enclosing[id(child)] = name
        raw = ast.get_docstring(node, clean=False)
        if raw is None:
            continue
        yield _Docstring(
            owner=name,
            paragraphs=paragraphs(raw),
            is_module=False,
            enclosing_class=enclosing.get(id(node)),
        )


def build(root: Path | None = None) -> RetrievalSet:
    """The retrieval set of the standard library that runs this module (or of the ``.py``
    files directly in `root`)."""
    modules = [(path.stem, module) for path in stdlib_files(root) if (module := _parse(path))]
    docstrings = [docstring for stem, module in modules for docstring in _docstrings(stem, module)]

    documents: dict[str, str] = {}
    id_of_text: dict[str, str] = {}
    documents_of: dict[str, list[str]] = {}
    for docstring in docstrings:
        first = 0 if docstring.is_module else 1
        own = documents_of.setdefault(docstring.owner, [])
        for index in range(first, len(docstring.paragraphs)):
            text = docstring.paragraphs[index]
            if len(text.split()) < MIN_DOCUMENT_WORDS:
                continue
            if text not in id_of_text:
                id_of_text[text] = f"{docstring.owner}#{index}"
                documents[id_of_text[text]] = text
            if id_of_text[text] not in own:
                own.append(id_of_text[text])

    summaries = Counter(
        docstring.paragraphs[0]
        for docstring in docstrings
        if not docstring.is_module and docstring.paragraphs
    )
    result = RetrievalSet(python_version=sys.version, files=len(modules), documents=documents)
    for docstring in docstrings:
        if docstring.is_module or not docstring.paragraphs:
            continue
        summary = docstring.paragraphs[0]
        own = documents_of[docstring.owner]
        words = len(summary.split())
        if not own or summaries[summary] > 1:
            continue
        if not MIN_QUERY_WORDS <= words <= MAX_QUERY_WORDS:
            continue
        judgments = dict.fromkeys(own, OWN_GRADE)
        if docstring.enclosing_class is not None:
            for document_id in documents_of.get(docstring.enclosing_class, ()):
                judgments[document_id] = ENCLOSING_CLASS_GRADE
        result.queries[docstring.owner] = summary
        result.qrels[docstring.owner] = judgments
    return result
