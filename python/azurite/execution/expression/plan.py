"""``chromadb.execution.expression.plan``: the ``Search`` request (see
:mod:`azurite.search`)."""

from azurite.search import Search

__all__ = ["Search"]
