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
/// 9 ms instead of 23.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_arena_eager_commit` of the bundled mimalloc 2 (`mi_option_t` in its
/// `mimalloc.h`).
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;

/// By default mimalloc commits whole arenas up front, which doubled `azurite run`'s memory
/// under 16 clients (69 -> 124 MiB: each of its worker threads draws on the arenas).
/// Committing on demand keeps it at the C allocator's level (60 -> 67 MiB) and keeps the
/// faster `get` (9 ms).
fn commit_memory_on_demand() {
    // SAFETY: setting an allocator option has no memory-safety preconditions.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0) };
}

/// Repairs the database directory `path` (see `azurite repair`): returns what was done
/// and what was lost, one sentence each.
#[pyfunction]
fn repair(py: Python<'_>, path: PathBuf) -> PyResult<(Vec<String>, Vec<String>)> {
    let report = errors::run(py, || azurite_core::repair(&path))?;
    Ok((report.actions, report.losses))
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    commit_memory_on_demand();
    // Engine warnings (a torn log tail cut off, writes replayed at open) reach Python's
    // `logging` under the logger names of their Rust modules (`azurite_core.wal`, ...).
    pyo3_log::init();
    m.add_class::<database::Database>()?;
    m.add_function(wrap_pyfunction!(repair, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
