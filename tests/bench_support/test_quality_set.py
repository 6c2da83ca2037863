"""The stdlib-docstrings retrieval set (benches/quality/stdlib_set.py): each step of its rule
on a small hand-written library, and the set this Python's standard library gives, which
docs/benchmarks.md reports."""

from __future__ import annotations

import importlib.util
import platform
import sys
from pathlib import Path
from types import ModuleType

QUALITY = Path(__file__).resolve().parents[2] / "benches" / "quality"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"quality_{name}", QUALITY / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look the module up by name while the class body runs.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


stdlib_set = load("stdlib_set")

LONG = "this paragraph has more than eight words in it, {}"

ALPHA = f'''"""Module alpha.

{LONG.format("alpha module second")}
"""


class Shelf:
    """Hold books on a wooden shelf.

    {LONG.format("shelf body")}

    short one
    """

    def lend(self):
        """Lend a book to a reader.

        {LONG.format("lend body")}
          with   its     white space
        collapsed.
        """

    def _private(self):
        """No body here, so no query from it."""


def helper():
    """Help the shelf a little.

    {LONG.format("shared paragraph")}
    """


def overriding():
    """Help the shelf a little.

    {LONG.format("overriding body")}
    """


def terse():
    """Terse.

    {LONG.format("terse body")}
    """


def copy():
    """Copy the shared paragraph from helper.

    {LONG.format("shared paragraph")}
    """
'''


def defined(name: str) -> str:
    """The object name the rule gives alpha's `name`: its file stem, line and name."""
    line = next(
        number
        for number, text in enumerate(ALPHA.splitlines(), start=1)
        if text.strip().startswith((f"def {name}(", f"class {name}:"))
    )
    return f"alpha:{line}:{name}"


def write_library(root: Path) -> None:
    (root / "alpha.py").write_text(ALPHA, encoding="utf-8")
    (root / "broken.py").write_text('"""A module that never parses."""\ndef (:\n', "utf-8")
    (root / "latin.py").write_bytes(
        '"""Caf\xe9 module in latin-1, not UTF-8."""\n'.encode("latin-1")
    )
    package = root / "package"
    package.mkdir()
    (package / "__init__.py").write_text(f'"""{LONG.format("nested")}"""\n', "utf-8")


def test_paragraphs_are_cleaned_split_and_collapsed() -> None:
    raw = "Summary line.\n\n    Body  first\n    line.\n   \n    Second\tparagraph.\n\n\n"
    assert stdlib_set.paragraphs(raw) == ["Summary line.", "Body first line.", "Second paragraph."]


def test_the_rule_on_a_small_library(tmp_path: Path) -> None:
    write_library(tmp_path)
    built = stdlib_set.build(tmp_path)
    shelf, lend, copy = defined("Shelf"), defined("lend"), defined("copy")
    shared = f"{defined('helper')}#1"

    # Only alpha parses as UTF-8 Python; sub-folders are not read.
    assert built.files == 1
    assert built.documents == {
        "alpha#1": LONG.format("alpha module second"),
        f"{shelf}#1": LONG.format("shelf body"),
        f"{lend}#1": LONG.format("lend body") + " with its white space collapsed.",
        shared: LONG.format("shared paragraph"),
        f"{defined('overriding')}#1": LONG.format("overriding body"),
        f"{defined('terse')}#1": LONG.format("terse body"),
    }
    # helper and overriding share a summary: neither is a query. terse's summary is too
    # short, _private has no document. copy's paragraph is helper's: one document.
    assert built.queries == {
        shelf: "Hold books on a wooden shelf.",
        lend: "Lend a book to a reader.",
        copy: "Copy the shared paragraph from helper.",
    }
    assert built.qrels == {
        shelf: {f"{shelf}#1": 2},
        lend: {f"{lend}#1": 2, f"{shelf}#1": 1},
        copy: {shared: 2},
    }
    assert built.counts() == {
        "files": 1,
        "documents": 6,
        "queries": 3,
        "grade_2_judgments": 3,
        "grade_1_judgments": 1,
    }
    assert built.python_version == sys.version
    assert built.digest() == stdlib_set.build(tmp_path).digest()
    (tmp_path / "alpha.py").write_text(ALPHA.replace("wooden", "oak"), encoding="utf-8")
    assert built.digest() != stdlib_set.build(tmp_path).digest()


def test_this_pythons_standard_library_gives_the_reported_set() -> None:
    built = stdlib_set.build()
    # docs/benchmarks.md reports the set of the project's Python; another version gives
    # another set, whose counts belong there beside its figures.
    assert platform.python_version() == "3.11.7"
    assert built.counts() == {
        "files": 168,
        "documents": 3173,
        "queries": 1190,
        "grade_2_judgments": 2285,
        "grade_1_judgments": 1099,
    }
    assert list(built.queries)[:2] == [
        "__future__:88:getOptionalRelease",
        "__future__:95:getMandatoryRelease",
    ]
    assert built.queries["socket:780:getfqdn"] == "Get fully qualified domain name from name."
    assert built.qrels["threading:971:run"] == {
        "threading:971:run#1": 2,
        "threading:845:Thread#1": 1,
    }
    # The whole set, byte for byte: what the digest in docs/benchmarks.md names.
    assert built.digest() == "ee19630de5b37f95551a410370c61f3b5f2770c2bea504c13f7ecb2f02132079"
