"""Argument normalisation and validation for the Client and Collection API.

These checks reproduce the Python layer of chromadb 1.5.9: they run before anything
reaches the core and raise the same exception types with the same messages, so the
order of checks and the exact wording matter. Rules that chromadb enforces in its
engine (empty ids, dimensions, metadata key prefixes, ``where`` parsing) belong to
the core and are not repeated here, with two exceptions noted where they occur.
"""

# chromadb raises ValueError (not TypeError) for most wrong types; compatibility wins.

import functools
import itertools
from collections.abc import Callable, Sized
from typing import Any, TypeVar

import numpy as np

from azurite.base_types import SparseVector
from azurite.errors import DuplicateIDError

INCLUDE_ITEMS = ("documents", "embeddings", "metadatas", "distances", "uris", "data")
RESERVED_METADATA_KEY = "chroma:document"

_EMBEDDING_DTYPES = (np.float16, np.float32, np.float64, np.int32, np.int64)
_LOGICAL_OPERATORS = ("$and", "$or")
_COMPARISON_OPERATORS = ("$gt", "$gte", "$lt", "$lte")
_MEMBERSHIP_OPERATORS = ("$in", "$nin")
_CONTAINS_OPERATORS = ("$contains", "$not_contains")
_WHERE_OPERATORS = (
    *_COMPARISON_OPERATORS,
    "$ne",
    "$eq",
    *_MEMBERSHIP_OPERATORS,
    *_CONTAINS_OPERATORS,
)
_WHERE_DOCUMENT_OPERATORS = (
    *_CONTAINS_OPERATORS,
    "$regex",
    "$not_regex",
    *_LOGICAL_OPERATORS,
)
_SCALAR_TYPES = (str, int, float)  # bool is an int, so it is included

_Function = TypeVar("_Function", bound=Callable[..., Any])


def maybe_cast_one_to_many(target: Any) -> list[Any] | None:
    """Wrap a single value in a list; a list is returned unchanged.

    Only a real ``list`` counts as "many": like chromadb, a tuple or an array is
    treated as one value (and is then rejected by the field's validator).
    """
    if target is None:
        return None
    return target if isinstance(target, list) else [target]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def normalize_embeddings(embeddings: Any) -> list[np.ndarray] | None:
    """Turn one embedding or many, given as lists or arrays, into a list of arrays.

    Python numbers become float32 arrays; numpy arrays keep their dtype so that
    ``validate_embeddings`` can judge it.
    """
    if embeddings is None:
        return None
    if len(embeddings) == 0:
        raise ValueError(
            f"Expected Embeddings to be non-empty list or numpy array, got {embeddings}"
        )
    if isinstance(embeddings, np.ndarray):
        if embeddings.ndim == 1:
            return [embeddings]
        if embeddings.ndim == 2:
            return list(embeddings)
    elif isinstance(embeddings, list):
        first = embeddings[0]
        if _is_number(first):
            return [np.array(embeddings, dtype=np.float32)]
        if isinstance(first, np.ndarray):
            return embeddings
        # Looking at first[0] makes [[]] fail with IndexError, exactly as chromadb does.
        if isinstance(first, list) and _is_number(first[0]):
            return [np.array(row, dtype=np.float32) for row in embeddings]
    raise ValueError(
        "Expected embeddings to be a list of floats or ints, a list of lists, a numpy "
        f"array, or a list of numpy arrays, got {embeddings}"
    )


def validate_embeddings(embeddings: list[np.ndarray]) -> list[np.ndarray]:
    """Check normalised embeddings: non-empty 1-D arrays of a supported dtype."""
    if not isinstance(embeddings, (list, np.ndarray)):
        raise ValueError(f"Expected embeddings to be a list, got {type(embeddings).__name__}")
    if len(embeddings) == 0:
        raise ValueError(
            "Expected embeddings to be a list with at least one item, got 0 embeddings"
        )
    if not all(isinstance(embedding, np.ndarray) for embedding in embeddings):
        # Set order, as chromadb prints it.
        type_names = list({type(embedding).__name__ for embedding in embeddings})
        raise ValueError(
            f"Expected each embedding in the embeddings to be a numpy array, got {type_names}"
        )
    for position, embedding in enumerate(embeddings):
        if embedding.ndim == 0:
            raise ValueError(
                f"Expected a 1-dimensional array, got a 0-dimensional array {embedding}"
            )
        if embedding.size == 0:
            raise ValueError(
                "Expected each embedding in the embeddings to be a 1-dimensional numpy "
                "array with at least 1 int/float value. Got a 1-dimensional numpy array "
                f"with no values at pos {position}"
            )
        if embedding.dtype not in _EMBEDDING_DTYPES:
            raise ValueError(
                "Expected each value in the embedding to be a int or float, got an "
                f"embedding with {embedding.dtype} - {embedding}"
            )
    return embeddings


def validate_ids(ids: list[Any]) -> list[str]:
    """Check that ids are a non-empty list of unique strings."""
    if not isinstance(ids, list):
        raise ValueError(f"Expected IDs to be a list, got {type(ids).__name__} as IDs")
    if not ids:
        raise ValueError("Expected IDs to be a non-empty list, got 0 IDs")
    seen: set[str] = set()
    duplicates: set[str] = set()
    for id_ in ids:
        if not isinstance(id_, str):
            raise ValueError(f"Expected ID to be a str, got {id_}")
        (duplicates if id_ in seen else seen).add(id_)
    if duplicates:
        raise DuplicateIDError(_duplicate_ids_message(duplicates))
    return ids


def _duplicate_ids_message(duplicates: set[str]) -> str:
    # Examples are listed in set iteration order, which is what chromadb shows.
    if len(duplicates) < 10:
        return f"Expected IDs to be unique, found duplicates of: {', '.join(duplicates)}"
    sample = list(itertools.islice(duplicates, 11))
    return (
        f"Expected IDs to be unique, found {len(duplicates)} duplicated IDs: "
        f"{', '.join(sample[:5])}, ..., {', '.join(sample[-5:])}"
    )


def _is_sparse_vector(value: Any) -> bool:
    return isinstance(value, dict) and value.get("#type") == "sparse_vector"


def check_sparse_vectors(metadatas: list[Any] | None) -> None:
    """Check the sparse vectors (``{"#type": "sparse_vector", ...}`` values) of record
    metadata. chromadb turns each into a ``SparseVector`` while unpacking the arguments,
    right after the embeddings, and that object checks itself with these messages."""
    for metadata in metadatas or ():
        if isinstance(metadata, dict):
            for value in metadata.values():
                if _is_sparse_vector(value):
                    _check_sparse_vector(value.get("indices"), value.get("values"), value)


def _check_sparse_vector(indices: Any, values: Any, vector: dict[str, Any]) -> None:
    if not isinstance(indices, list):
        raise ValueError(
            f"Expected SparseVector indices to be a list, got {type(indices).__name__}"
        )
    if not isinstance(values, list):
        raise ValueError(f"Expected SparseVector values to be a list, got {type(values).__name__}")
    if len(indices) != len(values):
        raise ValueError(
            "SparseVector indices and values must have the same length, "
            f"got {len(indices)} indices and {len(values)} values"
        )
    labels = vector.get("tokens")
    if labels is not None:
        if not isinstance(labels, list):
            raise ValueError(
                f"Expected SparseVector labels to be a list, got {type(labels).__name__}"
            )
        if len(labels) != len(indices):
            raise ValueError(
                "SparseVector labels must have the same length as indices and values, "
                f"got {len(labels)} labels, {len(indices)} indices"
            )
    for position, index in enumerate(indices):
        if not isinstance(index, int):
            raise ValueError(
                f"SparseVector indices must be integers, got {type(index).__name__} at "
                f"position {position}"
            )
        if index < 0:
            raise ValueError(
                f"SparseVector indices must be non-negative, got {index} at position {position}"
            )
    for position, value in enumerate(values):
        if not isinstance(value, (int, float)):
            raise ValueError(
                f"SparseVector values must be numbers, got {type(value).__name__} at "
                f"position {position}"
            )
    for i in range(1, len(indices)):
        if indices[i] <= indices[i - 1]:
            raise ValueError(
                "SparseVector indices must be sorted in strictly ascending order, "
                f"found indices[{i}]={indices[i]} <= indices[{i - 1}]={indices[i - 1]}"
            )


def _check_metadata(metadata: Any, *, allow_sparse_vectors: bool) -> None:
    if metadata is None:
        return
    if not isinstance(metadata, dict):
        raise ValueError(
            f"Expected metadata to be a dict or None, got {type(metadata).__name__} as metadata"
        )
    if not metadata:
        raise ValueError("Expected metadata to be a non-empty dict, got 0 metadata attributes")
    for key, value in metadata.items():
        # The reserved key is looked for before the key type, as in chromadb.
        if key == RESERVED_METADATA_KEY:
            raise ValueError(
                f"Expected metadata to not contain the reserved key {RESERVED_METADATA_KEY}"
            )
        if not isinstance(key, str):
            raise TypeError(
                f"Expected metadata key to be a str, got {key} which is a {type(key).__name__}"
            )
        if isinstance(value, list):
            _check_metadata_list(key, value)
        elif not (
            value is None
            or isinstance(value, (*_SCALAR_TYPES, SparseVector))
            or (allow_sparse_vectors and _is_sparse_vector(value))
        ):
            raise ValueError(
                "Expected metadata value to be a str, int, float, bool, SparseVector, list, "
                f"or None, got {value} which is a {type(value).__name__}"
            )


def _check_metadata_list(key: str, values: list[Any]) -> None:
    if not values:
        raise ValueError(f"Expected metadata list value for key '{key}' to be non-empty")
    # Exact types: bool must not mix with int, nor int with float.
    element_type = type(values[0])
    if element_type not in (str, int, float, bool) or any(
        type(value) is not element_type for value in values
    ):
        raise ValueError(
            f"Expected metadata list value for key '{key}' to contain only str, int, "
            f"float, or bool and all elements must be the same type, got {values}"
        )


def validate_metadatas(metadatas: list[Any]) -> list[Any]:
    """Check the metadata of every record of a write. The Python rules are the same for
    add, update and upsert; what differs (None deleting a key) is the engine's to judge."""
    if not isinstance(metadatas, list):
        raise ValueError(f"Expected metadatas to be a list, got {metadatas}")
    # None values (add) are refused by the engine when it converts the batch, after every
    # Python rule, exactly where chromadb refuses them.
    for metadata in metadatas:
        _check_metadata(metadata, allow_sparse_vectors=True)
    return metadatas


def validate_collection_metadata_for_modify(metadata: Any) -> None:
    """Check the metadata given to ``Collection.modify``; ``None`` means "unchanged"."""
    if metadata is None:
        return
    # modify does not convert sparse-vector dicts, so they are plain nested dicts here.
    _check_metadata(metadata, allow_sparse_vectors=False)
    if "hnsw:space" in metadata:
        raise ValueError(
            "Changing the distance function of a collection once it is created is not "
            "supported currently."
        )


def validate_documents(documents: list[Any], *, nullable: bool) -> list[Any]:
    """Check documents; ``nullable`` allows ``None`` entries when embeddings are given."""
    if not isinstance(documents, list):
        raise ValueError(f"Expected documents to be a list, got {type(documents).__name__}")
    if not documents:
        raise ValueError("Expected documents to be a non-empty list, got 0 documents")
    for document in documents:
        if document is None and nullable:
            continue
        if not isinstance(document, str):
            raise ValueError(f"Expected document to be a str, got {document}")
    return documents


def validate_images(images: list[Any]) -> list[Any]:
    """Check that images are numpy arrays with at least two dimensions."""
    if not isinstance(images, list):
        raise ValueError(f"Expected images to be a list, got {type(images).__name__}")
    if not images:
        raise ValueError("Expected images to be a non-empty list, got 0 images")
    for image in images:
        if not (isinstance(image, np.ndarray) and image.ndim >= 2):
            raise ValueError(f"Expected image to be a numpy array, got {image}")
    return images


def validate_record_set_lengths(**fields: Sized | None) -> None:
    """Check that the provided fields (``None`` = not provided) are non-empty and aligned.

    Messages name the fields in the order they are passed. chromadb's order is
    ``ids, metadatas, embeddings, documents, images, uris`` for add/update/upsert
    and ``embeddings, documents, images, uris`` for query.
    """
    provided = {name: value for name, value in fields.items() if value is not None}
    if not provided:
        # "one of one of" is chromadb's wording.
        raise ValueError(f"At least one of one of {', '.join(fields)} must be provided")
    empty = [name for name, value in provided.items() if len(value) == 0]
    if empty:
        raise ValueError(f"Non-empty lists are required for {empty}")
    if len({len(value) for value in provided.values()}) > 1:
        lengths = ", ".join(f"{name}: {len(value)}" for name, value in provided.items())
        raise ValueError(f"Unequal lengths for fields: {lengths}")


def validate_where(where: Any) -> None:
    """Check the shape of a metadata filter (the core parses and type-checks it fully)."""
    if not isinstance(where, dict):
        raise ValueError(f"Expected where to be a dict, got {where}")
    if len(where) != 1:
        raise ValueError(f"Expected where to have exactly one operator, got {where}")
    ((key, value),) = where.items()
    if not isinstance(key, str):
        raise ValueError(f"Expected where key to be a str, got {key}")
    if key in _CONTAINS_OPERATORS:
        raise ValueError(
            "Expected where key to be a metadata field name or a logical operator "
            f"($and, $or), got {key}"
        )
    # chromadb does not type-check the value of a top-level $in/$nin key; the core
    # rejects such a filter later.
    skip_value_check = key in _LOGICAL_OPERATORS or key in _MEMBERSHIP_OPERATORS
    if not skip_value_check and not isinstance(value, (*_SCALAR_TYPES, dict)):
        raise ValueError(
            f"Expected where value to be a str, int, float, or operator expression, got {value}"
        )
    if key in _LOGICAL_OPERATORS:
        if not isinstance(value, list):
            raise ValueError(
                f"Expected where value for $and or $or to be a list of where expressions, got {value}"
            )
        if len(value) < 2:
            raise ValueError(
                "Expected where value for $and or $or to be a list with at least two where "
                f"expressions, got {value}"
            )
        for clause in value:
            validate_where(clause)
    elif isinstance(value, dict):
        _validate_operator_expression(key, value)


def _validate_operator_expression(field: str, expression: dict[str, Any]) -> None:
    if len(expression) != 1:
        raise ValueError(
            f"Expected operator expression to have exactly one operator, got {expression}"
        )
    ((operator, operand),) = expression.items()
    if operator in _COMPARISON_OPERATORS and not isinstance(operand, (int, float)):
        raise ValueError(
            f"Expected operand value to be an int or a float for operator {operator}, got {operand}"
        )
    if operator in _MEMBERSHIP_OPERATORS and not isinstance(operand, list):
        raise ValueError(
            f"Expected operand value to be an list for operator {operator}, got {operand}"
        )
    if operator in _CONTAINS_OPERATORS:
        if field == "#document" and not isinstance(operand, str):
            raise ValueError(
                f"Expected operand value to be a str for operator {operator} on #document, "
                f"got {operand}"
            )
        if not isinstance(operand, _SCALAR_TYPES):
            raise ValueError(
                "Expected operand value to be a str, int, float, or bool for operator "
                f"{operator}, got {operand}"
            )
    if operator not in _WHERE_OPERATORS:
        raise ValueError(
            f"Expected where operator to be one of {', '.join(_WHERE_OPERATORS)}, got {operator}"
        )
    if not isinstance(operand, (*_SCALAR_TYPES, list)):
        raise ValueError(
            "Expected where operand value to be a str, int, float, bool, or list of those "
            f"type, got {operand}"
        )
    # isinstance against the first item's type: [1, True] passes, [True, 1] does not.
    if isinstance(operand, list) and (
        not operand or not all(isinstance(item, type(operand[0])) for item in operand)
    ):
        raise ValueError(
            "Expected where operand value to be a non-empty list, and all values to be of "
            f"the same type got {operand}"
        )


def validate_where_document(where_document: Any) -> None:
    """Check a document filter."""
    if not isinstance(where_document, dict):
        raise ValueError(f"Expected where document to be a dictionary, got {where_document}")
    if len(where_document) != 1:
        raise ValueError(
            f"Expected where document to have exactly one operator, got {where_document}"
        )
    ((operator, operand),) = where_document.items()
    if operator not in _WHERE_DOCUMENT_OPERATORS:
        raise ValueError(
            "Expected where document operator to be one of "
            f"{', '.join(_WHERE_DOCUMENT_OPERATORS)}, got {operator}"
        )
    if operator in _LOGICAL_OPERATORS:
        if not isinstance(operand, list):
            raise ValueError(
                "Expected document value for $and or $or to be a list of where document "
                f"expressions, got {operand}"
            )
        if len(operand) < 2:
            raise ValueError(
                "Expected document value for $and or $or to be a list with at least two "
                f"where document expressions, got {operand}"
            )
        for clause in operand:
            validate_where_document(clause)
    elif not isinstance(operand, str):
        raise ValueError(
            f"Expected where document operand value for operator {operator} to be a str, "
            f"got {operand}"
        )
    elif not operand:
        raise ValueError(
            f"Expected where document operand value for operator {operator} to be a non-empty str"
        )


def validate_include(include: Any, *, allow_distances: bool) -> list[str]:
    """Check an ``include`` list; ``get`` and ``peek`` pass ``allow_distances=False``."""
    if not isinstance(include, list):
        raise ValueError(f"Expected include to be a list, got {include}")
    for item in include:
        if not isinstance(item, str):
            raise ValueError(f"Expected include item to be a str, got {item}")
        if item not in INCLUDE_ITEMS:
            raise ValueError(
                f"Expected include item to be one of {', '.join(INCLUDE_ITEMS)}, got {item}"
            )
        if item == "distances" and not allow_distances:
            raise ValueError("Include item cannot be one of distances, got distances")
    return include


def validate_n_results(n_results: Any) -> int:
    """Check ``n_results`` of a query; ``True`` is accepted as 1, as in chromadb."""
    if not isinstance(n_results, int):
        raise ValueError(f"Expected requested number of results to be a int, got {n_results}")
    if n_results <= 0:
        # TypeError (not ValueError) is what chromadb raises and its tests expect.
        raise TypeError(f"Number of requested results {n_results}, cannot be negative, or zero.")
    return int(n_results)


def validate_delete_limit(limit: Any, *, has_filter: bool) -> int | None:
    """Check ``delete(limit=...)``, which needs a ``where`` or ``where_document`` filter."""
    if limit is None:
        return None
    if not isinstance(limit, int) or isinstance(limit, bool):
        raise TypeError("limit must be a non-negative integer")
    if limit < 0:
        raise ValueError("limit must be a non-negative integer")
    if not has_filter:
        raise ValueError(
            "limit can only be specified when a where or where_document clause is provided"
        )
    return limit


def engine_offset(offset: Any) -> Any:
    """``None`` is no offset; any other value goes to the engine as given, which refuses a
    float (even ``0.0``) with TypeError, as chromadb's does."""
    return 0 if offset is None else offset


def suffix_method(method: str) -> Callable[[_Function], _Function]:
    """Decorate a function so that its errors end with `` in <method>.``.

    The exception object itself is re-raised, so its class and traceback are kept.
    As in chromadb, the new first argument is built from ``str(error)``.
    """

    def decorate(function: _Function) -> _Function:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except Exception as error:
                if error.args:
                    error.args = (f"{error} in {method}.", *error.args[1:])
                raise

        return wrapper  # type: ignore[return-value]

    return decorate
