//! `azurite._core`: the Python bindings of the Azurite engine. Thin by design: argument
//! conversion, GIL release and error mapping; all behaviour lives in `azurite-core`.

mod convert;
mod database;
mod errors;

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::PyDict;

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
    let report = errors::guarded_without_gil(py, || azurite_core::repair(&path))?;
    Ok((report.actions, report.losses))
}

/// The HNSW parameters the core gives a collection created with no configuration: `space`
/// (`"l2"`), `ef_construction`, `ef_search`, `max_neighbors`, `num_threads` (the CPUs this
/// process may use), `batch_size`, `sync_threshold` (ints) and `resize_factor` (a float).
#[pyfunction]
fn hnsw_defaults(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let defaults = azurite_core::HnswConfiguration::for_unconfigured_collection();
    let dict = PyDict::new(py);
    dict.set_item("space", defaults.space.as_str())?;
    dict.set_item("ef_construction", defaults.ef_construction)?;
    dict.set_item("ef_search", defaults.ef_search)?;
    dict.set_item("max_neighbors", defaults.max_neighbors)?;
    dict.set_item("num_threads", defaults.num_threads)?;
    dict.set_item("batch_size", defaults.batch_size)?;
    dict.set_item("sync_threshold", defaults.sync_threshold)?;
    dict.set_item("resize_factor", defaults.resize_factor)?;
    Ok(dict)
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    commit_memory_on_demand();
    // Engine warnings (a torn log tail cut off, writes replayed at open) reach Python's
    // `logging` under the logger names of their Rust modules (`azurite_core.wal`, ...).
    pyo3_log::init();
    m.add_class::<database::Database>()?;
    m.add_function(wrap_pyfunction!(repair, m)?)?;
    m.add_function(wrap_pyfunction!(hnsw_defaults, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
