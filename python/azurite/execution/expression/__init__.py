"""``chromadb.execution.expression``: the Search API expressions (see
:mod:`azurite.search`; searching is not yet available in Azurite)."""

from azurite.search import *  # noqa: F403
from azurite.search import __all__  # noqa: F401
