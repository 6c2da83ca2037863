"""A pytest plugin that makes every `import chromadb...` in the run import Azurite.

Loaded with `-p chromadb_is_azurite`, so the finder is in place before any conftest or test
module of the package under test is imported: `chromadb` is `azurite`, `chromadb.api.types`
is `azurite.api.types`, and so on for every submodule. A submodule Azurite lacks is an
ImportError naming it; the real chromadb is never reached.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Sequence

ALIAS = "chromadb"
TARGET = "azurite"

# chromadb.api.rust holds the class of chromadb's Rust-backed server, which Azurite has no
# counterpart of. langchain-chroma's integration module imports it at the top only to assert
# `isinstance(client._server, RustBindingsAPI)` in two tests (listed as expected failures);
# without the module the other tests of that file could not be collected. The stand-in class
# has no instances, so those assertions still fail.
_STAND_INS: dict[str, dict[str, type]] = {
    "chromadb.api.rust": {"RustBindingsAPI": type("RustBindingsAPI", (), {})},
}


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self._target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return importlib.import_module(self._target)

    def exec_module(self, module: types.ModuleType) -> None:
        """The target module was executed when it was imported."""


class _StandInLoader(importlib.abc.Loader):
    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = types.ModuleType(spec.name)
        for name, value in _STAND_INS[spec.name].items():
            setattr(module, name, value)
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        """The stand-in's names were set when it was created."""


class _ChromadbIsAzurite(importlib.abc.MetaPathFinder):
    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname in _STAND_INS:
            return importlib.machinery.ModuleSpec(fullname, _StandInLoader())
        if fullname != ALIAS and not fullname.startswith(ALIAS + "."):
            return None
        target_name = TARGET + fullname[len(ALIAS) :]
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(target_name))


def _install() -> None:
    if any(name == ALIAS or name.startswith(ALIAS + ".") for name in sys.modules):
        raise RuntimeError("chromadb was imported before the plugin that replaces it")
    sys.meta_path.insert(0, _ChromadbIsAzurite())
    importlib.import_module(ALIAS)


_install()
