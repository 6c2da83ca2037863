"""Chroma's ``chromadb.utils`` import paths, for code written against chromadb."""
