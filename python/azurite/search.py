"""The Search API's expressions (``Search``, ``Key``/``K``, the conditions, the rank
expressions, ``Limit``, ``Select``, ``GroupBy``) under one short import path. They are
defined in :mod:`azurite.execution.expression`, where chromadb keeps them."""

from azurite.execution.expression import *  # noqa: F403
from azurite.execution.expression import __all__  # noqa: F401
