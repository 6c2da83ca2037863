//! The one error type of the core. Each variant is a *kind* that the bindings map to exactly
//! one Chroma-compatible exception class, so callers can tell "not found" from "invalid" from
//! "corrupt" without parsing messages.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The caller passed something the database refuses (Chroma: InvalidArgumentError).
    #[error("{0}")]
    InvalidArgument(String),
    /// A tenant, database or collection does not exist (Chroma: NotFoundError).
    #[error("{0}")]
    NotFound(String),
    /// A tenant, database or collection of that name exists already. Chroma reports these as
    /// InternalError locally; the bindings raise a subclass of it of their own, so that no
    /// client has to recognise the case by its message.
    #[error("{0}")]
    AlreadyExists(String),
    /// The operation is disabled by configuration, e.g. `reset` without `allow_reset`.
    #[error("{0}")]
    PermissionDenied(String),
    /// Another process holds the write lock of a database directory.
    #[error("{0}")]
    Locked(String),
    /// A file the database wrote cannot be read back as written.
    #[error("{message} (file: {path})")]
    Corrupt { path: PathBuf, message: String },
    /// Opening a directory found damage it cannot repair by itself.
    #[error(
        "{message} (file: {file}). Run `azurite repair --path {dir}` to repair the \
         database (see docs/reliability.md)"
    )]
    NeedsRepair {
        file: PathBuf,
        message: String,
        dir: PathBuf,
    },
    /// A condition the engine cannot recover from inside this call.
    #[error("{0}")]
    Internal(String),
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("Database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidArgument(message.into())
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
