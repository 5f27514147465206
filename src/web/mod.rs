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
    // A plain loop: less code than the Filter/Map/collect chain.
    let mut out = Vec::new();
    for (c, g) in grants {
        if *g {
            out.push(*c);
        }
    }
    out
}
