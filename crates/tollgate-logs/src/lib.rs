//! Access-log formats, route attribution, aggregation and detectors.
//!
//! Sync and zero-copy over bytes: a line is parsed into a [`Record`] that borrows from it, so the
//! hot path allocates nothing. This crate knows no Kubernetes types; the binary fills its
//! [`routes::RouteTable`] from the core inventory.

pub mod aggregate;
pub mod analyze;
pub mod detectors;
pub mod format;
pub mod geoip;
pub mod record;
pub mod report;
pub mod routes;
pub mod sketch;
pub mod time;
pub mod wrap;

pub use format::escape::unescape_nginx;
pub use format::{Format, Malformed};
pub use record::Record;
