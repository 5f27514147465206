//! The browser edge: the only code that touches web-sys/js-sys. It carries out what `core`
//! decides and makes no decisions itself.

pub mod app;
pub mod dom;
pub mod render;
pub mod report;
pub mod scripts;
pub mod storage;

/// The granted categories of `grants`, in order. One body for the gate, the events and the API,
/// rather than the same filter inlined into each.
#[inline(never)]
pub fn granted(grants: &[(&'static str, bool)]) -> Vec<&'static str> {
    grants.iter().filter(|(_, g)| *g).map(|(c, _)| *c).collect()
}
