"""Migration from Chroma: read a chromadb 1.5 persistent directory without chromadb, and
import every collection of it into Azurite (``azurite import-chroma``)."""

from azurite.io.chroma.directory import SUPPORTED_VERSIONS, ChromaCollection, ChromaDirectory
from azurite.io.chroma.importer import CollectionReport, ImportReport, import_chroma, verify_import
from azurite.io.chroma.records import RecordBatch

__all__ = [
    "SUPPORTED_VERSIONS",
    "ChromaCollection",
    "ChromaDirectory",
    "CollectionReport",
    "ImportReport",
    "RecordBatch",
    "import_chroma",
    "verify_import",
]
