"""Exceptions raised by Azurite.

The class names, wire names (``name()``), HTTP status codes (``code()``) and the
hierarchy are those of ``chromadb.errors`` in chromadb 1.5.9, so code written
against chromadb catches the same exceptions here.
"""


class ChromaError(Exception):
    """Base class of every Azurite error.

    It is also raised as-is for server errors that have no more specific class.
    """

    _name: str | None = None
    _code: int = 400

    #: Set from the ``chroma-trace-id`` response header for errors received over HTTP.
    trace_id: str | None = None

    def code(self) -> int:
        """HTTP status code that represents this error."""
        return self._code

    def message(self) -> str:
        return ", ".join(self.args)

    @classmethod
    def name(cls) -> str | None:
        """Error name used on the wire; the base class has none, as in chromadb."""
        return cls._name


class InvalidDimensionException(ChromaError):
    _name = "InvalidDimension"


class IDAlreadyExistsError(ChromaError):
    _name = "IDAlreadyExists"
    _code = 409


class ChromaAuthError(ChromaError):
    _name = "AuthError"
    _code = 403

    def message(self) -> str:
        # chromadb reports every authentication failure with this fixed text.
        return "Forbidden"


class DuplicateIDError(ChromaError):
    _name = "DuplicateID"


class InvalidArgumentError(ChromaError):
    _name = "InvalidArgument"


class InvalidUUIDError(ChromaError):
    _name = "InvalidUUID"


class InvalidHTTPVersion(ChromaError):
    _name = "InvalidHTTPVersion"


class AuthorizationError(ChromaError):
    _name = "AuthorizationError"
    _code = 401


class NotFoundError(ChromaError):
    _name = "NotFoundError"
    _code = 404


class UniqueConstraintError(ChromaError):
    _name = "UniqueConstraintError"
    _code = 409


class BatchSizeExceededError(ChromaError):
    _name = "BatchSizeExceededError"
    _code = 413


class VersionMismatchError(ChromaError):
    _name = "VersionMismatchError"
    _code = 500


class InternalError(ChromaError):
    _name = "InternalError"
    _code = 500


class RateLimitError(ChromaError):
    _name = "RateLimitError"
    _code = 429


class QuotaError(ChromaError):
    _name = "QuotaError"


class BackoffError(ChromaError):
    _name = "Backoff"
    _code = 429


class StaleReadError(ChromaError):
    _name = "StaleReadError"
    _code = 412


class ConditionalWriteConflictError(ChromaError):
    _name = "ConditionalWriteConflictError"
    _code = 409


class TransactionsNotSupportedError(ChromaError):
    _name = "TransactionsNotSupported"
    _code = 501


class DatabaseLockedError(InternalError):
    """Azurite: another process has the database directory open for writing. The message
    names the process holding it."""

    _name = "DatabaseLockedError"


class AlreadyExistsError(InternalError):
    """Azurite: a tenant, database or collection of that name exists already. chromadb's
    embedded client raises InternalError for this case, so it stays one; servers answer
    it with 409, and the HTTP clients raise it again from that status."""

    _name = "AlreadyExistsError"
    _code = 409


class CorruptionError(InternalError):
    """Azurite: a file of the database cannot be read back as written. The message names
    the file."""

    _name = "CorruptionError"


#: Error name found in an HTTP error body -> exception class to raise.
error_types: dict[str, type[ChromaError]] = {
    "InvalidDimension": InvalidDimensionException,
    "InvalidArgumentError": InvalidArgumentError,
    "IDAlreadyExists": IDAlreadyExistsError,
    "DuplicateID": DuplicateIDError,
    "InvalidUUID": InvalidUUIDError,
    "InvalidHTTPVersion": InvalidHTTPVersion,
    "AuthorizationError": AuthorizationError,
    "NotFoundError": NotFoundError,
    "BatchSizeExceededError": BatchSizeExceededError,
    "VersionMismatchError": VersionMismatchError,
    "RateLimitError": RateLimitError,
    "AuthError": ChromaAuthError,
    "UniqueConstraintError": UniqueConstraintError,
    "QuotaError": QuotaError,
    "InternalError": InternalError,
    "Backoff": BackoffError,
    "StaleReadError": StaleReadError,
    "ConditionalWriteConflictError": ConditionalWriteConflictError,
    "TransactionsNotSupported": TransactionsNotSupportedError,
    "DatabaseLockedError": DatabaseLockedError,
    "AlreadyExistsError": AlreadyExistsError,
    "CorruptionError": CorruptionError,
    # Any other error the server reports by the generic name.
    "ChromaError": ChromaError,
}
