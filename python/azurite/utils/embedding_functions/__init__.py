"""``chromadb.utils.embedding_functions`` under Azurite: the same names as
:mod:`azurite.embedding_functions`."""

from azurite.embedding_functions import *  # noqa: F403
from azurite.embedding_functions import __all__  # noqa: F401
