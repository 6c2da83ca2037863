"""``chromadb.execution.expression.operator``: the Search API's conditions, rankings,
``Key``, ``Limit``, ``Select`` and ``GroupBy`` (see :mod:`azurite.search`)."""

from azurite.search import *  # noqa: F403
from azurite.search import __all__  # noqa: F401
