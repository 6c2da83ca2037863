"""Embedding functions: the default all-MiniLM-L6-v2 model, the sparse functions (BM25,
SPLADE) and the registries of known functions (``azurite.utils.embedding_functions`` is the same module under Chroma's
import path).

Every function here imports its optional packages (onnxruntime, httpx, Pillow, ...) only
when it is used, so importing this package stays cheap.
"""

from azurite.embedding_functions._http import (
    EmbeddingProviderError,
    EmbeddingProviderHTTPError,
    EmbeddingProviderResponseError,
)
from azurite.embedding_functions.base import (
    DataLoader,
    Documents,
    Embeddable,
    EmbeddingFunction,
    Embeddings,
    Images,
    config_to_embedding_function,
    known_embedding_functions,
    register_embedding_function,
)
from azurite.embedding_functions.hosted import (
    BasetenEmbeddingFunction,
    ChromaCloudQwenEmbeddingFunction,
    ChromaCloudQwenEmbeddingModel,
    ChromaCloudQwenEmbeddingTarget,
    CloudflareWorkersAIEmbeddingFunction,
    MorphEmbeddingFunction,
    PerplexityEmbeddingFunction,
    RoboflowEmbeddingFunction,
    TogetherAIEmbeddingFunction,
)
from azurite.embedding_functions.onnx_mini_lm_l6_v2 import (
    DefaultEmbeddingFunction,
    ONNXMiniLM_L6_V2,
)
from azurite.embedding_functions.open_clip import OpenCLIPEmbeddingFunction
from azurite.embedding_functions.openai_like import (
    JinaEmbeddingFunction,
    JinaQueryConfig,
    MistralEmbeddingFunction,
    OpenAIEmbeddingFunction,
    VoyageAIEmbeddingFunction,
)
from azurite.embedding_functions.providers import (
    CohereEmbeddingFunction,
    GoogleGeminiEmbeddingFunction,
    GoogleGenaiEmbeddingFunction,
    HuggingFaceEmbeddingFunction,
    HuggingFaceEmbeddingServer,
    OllamaEmbeddingFunction,
)
from azurite.embedding_functions.sdk_backed import (
    AmazonBedrockEmbeddingFunction,
    ChromaLangchainEmbeddingFunction,
    GoogleGenerativeAiEmbeddingFunction,
    GooglePalmEmbeddingFunction,
    GoogleVertexEmbeddingFunction,
    InstructorEmbeddingFunction,
    NomicEmbeddingFunction,
    NomicQueryConfig,
    Text2VecEmbeddingFunction,
    create_langchain_embedding,
)
from azurite.embedding_functions.sentence_transformer import (
    SentenceTransformerEmbeddingFunction,
)

# The sparse functions come last: they read azurite.api.types, which imports this package
# for the dense default.
from azurite.embedding_functions.sparse_base import (  # noqa: I001
    register_sparse_embedding_function,
    sparse_known_embedding_functions,
)
from azurite.embedding_functions.bm25 import ChromaBm25EmbeddingFunction
from azurite.embedding_functions.sparse_hosted import (
    ChromaCloudSpladeEmbeddingFunction,
    ChromaCloudSpladeEmbeddingModel,
)
from azurite.embedding_functions.sparse_models import (
    Bm25EmbeddingFunction,
    FastembedSparseEmbeddingFunction,
    HuggingFaceSparseEmbeddingFunction,
)

# Functions registered later (by users) are not built-ins.
_BUILTINS = frozenset(
    cls.__name__
    for cls in [*known_embedding_functions.values(), *sparse_known_embedding_functions.values()]
)


def get_builtins() -> set[str]:
    """Class names of the embedding functions that ship with Azurite."""
    return set(_BUILTINS)


__all__ = [
    "AmazonBedrockEmbeddingFunction",
    "BasetenEmbeddingFunction",
    "Bm25EmbeddingFunction",
    "ChromaBm25EmbeddingFunction",
    "ChromaCloudQwenEmbeddingFunction",
    "ChromaCloudQwenEmbeddingModel",
    "ChromaCloudQwenEmbeddingTarget",
    "ChromaCloudSpladeEmbeddingFunction",
    "ChromaCloudSpladeEmbeddingModel",
    "ChromaLangchainEmbeddingFunction",
    "CloudflareWorkersAIEmbeddingFunction",
    "CohereEmbeddingFunction",
    "DataLoader",
    "DefaultEmbeddingFunction",
    "Documents",
    "Embeddable",
    "EmbeddingFunction",
    "EmbeddingProviderError",
    "EmbeddingProviderHTTPError",
    "EmbeddingProviderResponseError",
    "Embeddings",
    "FastembedSparseEmbeddingFunction",
    "GoogleGeminiEmbeddingFunction",
    "GoogleGenaiEmbeddingFunction",
    "GoogleGenerativeAiEmbeddingFunction",
    "GooglePalmEmbeddingFunction",
    "GoogleVertexEmbeddingFunction",
    "HuggingFaceEmbeddingFunction",
    "HuggingFaceEmbeddingServer",
    "HuggingFaceSparseEmbeddingFunction",
    "Images",
    "InstructorEmbeddingFunction",
    "JinaEmbeddingFunction",
    "JinaQueryConfig",
    "MistralEmbeddingFunction",
    "MorphEmbeddingFunction",
    "NomicEmbeddingFunction",
    "NomicQueryConfig",
    "ONNXMiniLM_L6_V2",
    "OllamaEmbeddingFunction",
    "OpenAIEmbeddingFunction",
    "OpenCLIPEmbeddingFunction",
    "PerplexityEmbeddingFunction",
    "RoboflowEmbeddingFunction",
    "SentenceTransformerEmbeddingFunction",
    "Text2VecEmbeddingFunction",
    "TogetherAIEmbeddingFunction",
    "VoyageAIEmbeddingFunction",
    "config_to_embedding_function",
    "create_langchain_embedding",
    "get_builtins",
    "known_embedding_functions",
    "register_embedding_function",
    "register_sparse_embedding_function",
    "sparse_known_embedding_functions",
]
