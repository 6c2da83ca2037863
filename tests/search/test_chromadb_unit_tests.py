"""chromadb 1.5.9's own unit tests of the Search expressions, run on Azurite's classes.

They live in chromadb's ``test/test_api.py`` beside tests that need a server; the ones that
take no fixture and use the expression modules are read from the installed chromadb, with
those modules renamed to Azurite's, and each is run as it is written.
"""

from __future__ import annotations

import ast
import typing
from pathlib import Path
from typing import Any, Callable

import chromadb.test
import numpy as np
import pytest

SOURCE = Path(chromadb.test.__file__).parent / "test_api.py"


def _takes_no_fixture(function: ast.FunctionDef) -> bool:
    return [a.arg for a in function.args.args] in ([], ["self"])


def _expression_tests() -> dict[str, Callable[[], None]]:
    text = SOURCE.read_text()
    selected = []
    for node in ast.parse(text).body:
        segment = ast.get_source_segment(text, node) or ""
        if "chromadb.execution.expression" not in segment:
            continue
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            selected.append((node, [node.name] if _takes_no_fixture(node) else []))
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            methods = [
                f.name
                for f in node.body
                if isinstance(f, ast.FunctionDef)
                and f.name.startswith("test_")
                and _takes_no_fixture(f)
            ]
            selected.append((node, methods))
    source = "\n\n".join(ast.get_source_segment(text, node) or "" for node, _ in selected)
    source = source.replace("chromadb.execution.expression", "azurite.execution.expression")
    namespace: dict[str, Any] = {"pytest": pytest, "np": np, **vars(typing)}
    exec(compile(source, f"{SOURCE} (on Azurite)", "exec"), namespace)
    tests: dict[str, Callable[[], None]] = {}
    for node, names in selected:
        if isinstance(node, ast.ClassDef):
            for name in names:
                tests[f"{node.name}::{name}"] = getattr(namespace[node.name](), name)
        elif names:
            tests[node.name] = namespace[node.name]
    return tests


TESTS = _expression_tests()


def test_the_selection_holds_chromadbs_expression_tests() -> None:
    assert {"test_rrf_to_dict", "test_group_by_serialization"} <= set(TESTS)
    assert sum(name.startswith("TestRankFromDict::") for name in TESTS) >= 5
    assert len(TESTS) >= 40


@pytest.mark.parametrize("name", sorted(TESTS))
def test_chromadb_expression_test_passes_on_azurite(name: str) -> None:
    TESTS[name]()
