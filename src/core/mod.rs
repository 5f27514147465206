//! Pure consent logic: no browser APIs, so all of it is tested with plain `cargo test`.

pub mod codec;
pub mod config;
pub mod event;
pub mod fields;
pub mod gate;
pub mod gcm;
pub mod i18n;
pub mod ids;
pub mod json;
pub mod machine;
#[cfg(test)]
pub(crate) mod mutate;
pub mod outbox;
pub mod policy;
pub mod record;
pub mod sha256;
pub mod text;
