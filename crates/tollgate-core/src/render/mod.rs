//! Report renderers, one file per output format.

pub mod json;
pub mod text;
pub mod map;
