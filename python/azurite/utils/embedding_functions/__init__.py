"""``chromadb.utils.embedding_functions`` under Azurite: the names of
:mod:`azurite.embedding_functions`, and the sparse embedding function protocol."""

from azurite.api.types import SparseEmbeddingFunction
from azurite.embedding_functions import *  # noqa: F403
from azurite.embedding_functions import __all__ as _functions_all

__all__ = ["SparseEmbeddingFunction", *_functions_all]
