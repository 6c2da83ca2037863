"""chromadb's ``chromadb.execution`` import paths for the Search API expressions."""
