"""Builds azurite-client, the thin HTTP-only client, from the full package's own source.

The wheel holds ``python/azurite`` of this repository less the compiled engine
(``_core``), the server and the command line (which exists to run the server), plus the
marker module ``azurite/is_thin_client.py``: with it, the package refuses local clients
as chromadb-client does. The sdist holds the same files under ``azurite/``, so that a
wheel can be built from it alone.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface
from hatchling.metadata.plugin.interface import MetadataHookInterface

#: Top-level entries of the package (by name without suffix) that are the compiled engine
#: or exist to run the server (the command line, with its backup commands).
LEFT_OUT = ("_core", "server", "cli", "backup_cli")
SHIPPED_SUFFIXES = (".py", ".typed", ".txt")
MARKER = "is_thin_client.py"


def package_source(root: str) -> Path:
    """The package's source: beside this file in an sdist, else the repository's."""
    unpacked = Path(root) / "azurite"
    if unpacked.is_dir():
        return unpacked
    return Path(root).parent.parent / "python" / "azurite"


def shipped(source: Path) -> list[Path]:
    """The files of the thin package, relative to the package directory."""
    files = []
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if not path.is_file() or path.suffix not in SHIPPED_SUFFIXES:
            continue
        if "__pycache__" in relative.parts or relative.parts[0].split(".")[0] in LEFT_OUT:
            continue
        files.append(relative)
    return files


class ThinClientFiles(BuildHookInterface):
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        source = package_source(self.root)
        if not (source / "__init__.py").is_file():
            raise FileNotFoundError(f"the azurite package source is not at {source}")
        for relative in shipped(source):
            build_data["force_include"][str(source / relative)] = f"azurite/{relative.as_posix()}"
        if self.target_name == "wheel":
            build_data["force_include"][str(Path(self.root) / MARKER)] = f"azurite/{MARKER}"


class ThinClientVersion(MetadataHookInterface):
    def update(self, metadata: dict[str, Any]) -> None:
        """Azurite's version, from the module both packages ship."""
        text = (package_source(self.root) / "_version.py").read_text(encoding="utf-8")
        found = re.search(r'^__version__ = "([^"]+)"$', text, re.MULTILINE)
        if found is None:
            raise ValueError("azurite/_version.py does not define __version__")
        metadata["version"] = found.group(1)
