//! Data generators shared by the benchmark binaries and their tests.

pub mod access_logs;
pub mod flags;
pub mod intake_load;
pub mod manifests;
mod rng;
