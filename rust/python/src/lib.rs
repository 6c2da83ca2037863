//! `azurite._core`: the Python bindings of the Azurite engine. Thin by design: argument
//! conversion, GIL release and error mapping; all behaviour lives in `azurite-core`.

mod convert;
mod database;
mod errors;

use pyo3::prelude::*;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<database::Database>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
