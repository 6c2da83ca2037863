"""The Python examples of Chroma's documentation pages that the spec covers
(``shared/seed/chroma-docs.md`` beside the repository): each ```` ```python ```` block, by
page, in page order, with the section (level-2 heading) it belongs to."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: The pages as the spec keeps them, beside the repository (CI lays shared/ beside it).
DOCS = Path(__file__).resolve().parents[3] / "shared" / "seed" / "chroma-docs.md"
PAGE_HEADER = "File: "
FENCE = "```"


@dataclass(frozen=True)
class Block:
    page: str
    number: int  # 1-based, within its page
    line: int  # 1-based, in the docs file
    section: str  # the level-2 heading above it, "" before the page's first one
    code: str

    @property
    def name(self) -> str:
        return f"{self.page}#{self.number}"


def pages(docs: Path = DOCS) -> dict[str, list[Block]]:
    """Page (its path in Chroma's docs, without ``.md``) → its Python blocks, verbatim."""
    found: dict[str, list[Block]] = {}
    page = section = ""
    lines = docs.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith(PAGE_HEADER):
            page = line[len(PAGE_HEADER) :].split("/content/docs/")[-1].removesuffix(".md")
            section = ""
        elif line.startswith("## "):
            section = line[3:].strip()
        elif line.strip().startswith(FENCE):
            end = index + 1
            while lines[end].strip() != FENCE:
                end += 1
            if line.strip() == FENCE + "python":
                blocks = found.setdefault(page, [])
                code = "\n".join(lines[index + 1 : end]) + "\n"
                blocks.append(Block(page, len(blocks) + 1, index + 1, section, code))
            index = end
        index += 1
    return found
