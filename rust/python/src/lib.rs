//! `azurite._core`: the Python bindings of the Azurite engine. Thin by design: argument
//! conversion, GIL release and error mapping; all behaviour lives in `azurite-core`.

mod convert;
mod database;
mod errors;

use pyo3::prelude::*;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // Engine warnings (a torn log tail cut off, writes replayed at open) reach Python's
    // `logging` under the logger names of their Rust modules (`azurite_core.wal`, ...).
    pyo3_log::init();
    m.add_class::<database::Database>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
