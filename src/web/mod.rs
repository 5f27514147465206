//! The browser edge: the only code that touches web-sys/js-sys. It carries out what `core`
//! decides and makes no decisions itself.

pub mod app;
pub mod dom;
pub mod render;
pub mod report;
pub mod scripts;
pub mod storage;

