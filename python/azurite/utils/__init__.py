"""Chroma's ``chromadb.utils`` import paths, for code written against chromadb.

The submodules are imported here so that ``chromadb.utils.embedding_functions.X`` works
after ``import azurite as chromadb``, as it does after ``import chromadb``.
"""

from azurite.utils import batch_utils, data_loaders, embedding_functions

__all__ = ["batch_utils", "data_loaders", "embedding_functions"]
