//! Not yet written.

use crate::format::Malformed;
use crate::record::Record;
use crate::time::TimeCache;

/// Parses one line.
pub(crate) fn parse<'a>(line: &'a str, clock: &mut TimeCache) -> Result<Record<'a>, Malformed> {
    if line.starts_with('{') {
        return super::ingress_nginx_json::parse(line, clock);
    }
    Err(Malformed::new("format not implemented"))
}
