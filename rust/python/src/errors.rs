//! The one place where core errors become Python exceptions, and the one helper every
//! binding method runs core work through: it releases the GIL, turns a panic into an
//! exception instead of letting it reach Python as `PanicException` (a `BaseException`),
//! and maps the error kind to the Chroma-compatible class defined in `azurite.errors`.

use std::panic::{AssertUnwindSafe, catch_unwind};

use azurite_core::Error;
use pyo3::prelude::*;
use pyo3::types::PyType;

fn class_name(error: &Error) -> &'static str {
    match error {
        Error::InvalidArgument(_) => "InvalidArgumentError",
        Error::NotFound(_) => "NotFoundError",
        Error::PermissionDenied(_) => "AuthorizationError",
        Error::Locked(_) => "DatabaseLockedError",
        Error::Corrupt { .. } | Error::NeedsRepair { .. } => "CorruptionError",
        // A subclass of InternalError, which is what Chroma raises for this case.
        Error::AlreadyExists(_) => "AlreadyExistsError",
        Error::Internal(_) | Error::Io { .. } | Error::Sqlite(_) => "InternalError",
    }
}

fn exception(py: Python<'_>, name: &str, message: String) -> PyErr {
    let class = py
        .import("azurite.errors")
        .and_then(|module| module.getattr(name))
        .and_then(|class| class.cast_into::<PyType>().map_err(PyErr::from));
    match class {
        Ok(class) => PyErr::from_type(class, message),
        Err(import_error) => import_error,
    }
}

pub fn to_py_err(py: Python<'_>, error: Error) -> PyErr {
    exception(py, class_name(&error), error.to_string())
}

/// The policy of every binding call into the core: the work runs without the GIL, so other
/// Python threads run meanwhile; a panic in it becomes an `InternalError`, and a core error
/// the exception class of its kind.
pub fn guarded_without_gil<T, F>(py: Python<'_>, work: F) -> PyResult<T>
where
    F: FnOnce() -> azurite_core::Result<T> + Send,
    T: Send,
{
    let outcome = py.detach(|| catch_unwind(AssertUnwindSafe(work)));
    match outcome {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(to_py_err(py, error)),
        Err(panic) => {
            let detail = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown cause".to_string());
            Err(exception(
                py,
                "InternalError",
                format!("Azurite hit an internal error and refused the call: {detail}"),
            ))
        }
    }
}
