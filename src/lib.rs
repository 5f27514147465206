//! A cookie consent banner in Rust/WebAssembly.
//!
//! [`core`] holds every decision and is plain Rust, tested on the host; `web` (the browser edge)
//! and `api` (the JS exports) exist only on `wasm32`.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

pub mod core;

#[cfg(target_arch = "wasm32")]
mod alloc;

/// The browser edge. Public only so the browser test tier can drive it; not a stable API.
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod web;

#[cfg(target_arch = "wasm32")]
pub mod api;
