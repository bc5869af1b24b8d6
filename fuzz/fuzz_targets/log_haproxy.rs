//! Any bytes as one haproxy access-log line: a record or a malformation, never a panic.
//! Seed the corpus with the sample lines in the parser's tests.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate_logs::Format;
use tollgate_logs::time::TimeCache;

fuzz_target!(|data: &[u8]| {
    if let Ok(line) = std::str::from_utf8(data) {
        let _ = Format::Haproxy.parse(line, &mut TimeCache::new());
    }
});
