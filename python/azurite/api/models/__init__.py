"""chromadb's ``chromadb.api.models`` import paths: ``Collection`` and
``AsyncCollection`` modules."""
