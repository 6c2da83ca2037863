//! `azurite._core`: the Python bindings of the Azurite engine. Thin by design: argument
//! conversion, GIL release and error mapping; all behaviour lives in `azurite-core`.

mod convert;
mod database;
mod errors;

use std::path::PathBuf;

use pyo3::prelude::*;

/// The engine allocates and frees many small blocks per record (metadata maps, strings,
/// result columns); the C library's allocator spent most of a `get` of 5,000 records in
/// its slow paths (`malloc_consolidate`, `unlink_chunk`). With mimalloc that `get` takes
/// 6 ms instead of 25.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Repairs the database directory `path` (see `azurite repair`): returns what was done
/// and what was lost, one sentence each.
#[pyfunction]
fn repair(py: Python<'_>, path: PathBuf) -> PyResult<(Vec<String>, Vec<String>)> {
    let report = errors::run(py, || azurite_core::repair(&path))?;
    Ok((report.actions, report.losses))
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // Engine warnings (a torn log tail cut off, writes replayed at open) reach Python's
    // `logging` under the logger names of their Rust modules (`azurite_core.wal`, ...).
    pyo3_log::init();
    m.add_class::<database::Database>()?;
    m.add_function(wrap_pyfunction!(repair, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
