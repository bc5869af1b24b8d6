//! Not yet written: the JSON lines of ingress-nginx's `log-format-upstream` example.

use crate::format::Malformed;
use crate::record::Record;
use crate::time::TimeCache;

/// Parses one line.
pub(crate) fn parse<'a>(_line: &'a str, _clock: &mut TimeCache) -> Result<Record<'a>, Malformed> {
    Err(Malformed::new("format not implemented"))
}
