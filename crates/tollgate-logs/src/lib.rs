//! Access-log formats, route attribution, aggregation and detectors.
//!
//! Sync and zero-copy over bytes: a line is parsed into a [`Record`] that borrows from it, so the
//! hot path allocates nothing. This crate knows no Kubernetes types; the binary fills its
//! [`routes::RouteTable`] from the core inventory.

pub mod detectors;
pub mod format;
pub mod record;
pub mod time;

pub use format::{Format, Malformed};
pub use record::Record;
