//! Report renderers, one file per output format.

pub mod certs;
pub mod github;
pub mod json;
pub mod junit;
pub mod map;
pub mod markdown;
pub mod sarif;
pub mod text;
