//! `--format json`: the report as one JSON object (DESIGN §2).

use crate::report::Report;

/// Renders the report as pretty-printed JSON with a trailing newline.
#[must_use]
pub fn render(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("the report serializes");
    s.push('\n');
    s
}
