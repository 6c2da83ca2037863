"""``chromadb.utils.data_loaders`` under Azurite."""

from azurite.data_loaders import ImageLoader

__all__ = ["ImageLoader"]
