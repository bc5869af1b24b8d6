//! Any bytes as a whole access-log input (any format, wrapped or not, gzip or not, mixed): the
//! pipeline counts lines as parsed or malformed, never panics, and loses none.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate_logs::analyze::{Analyzer, Run, Settings};
use tollgate_logs::detectors::{Classifier, DetectorConfig, Detectors};
use tollgate_logs::routes::RouteTable;

fuzz_target!(|data: &[u8]| {
    let config = DetectorConfig::default();
    let mut table = RouteTable::default();
    table.prepare();
    let Ok(classifier) = Classifier::new(&config) else { return };
    let analyzer = Analyzer::new(&table, classifier, None, Settings { batch_bytes: 1 << 16, ..Settings::default() });
    let mut run = Run::new(&analyzer, Detectors::new(&config));
    analyzer.read("fuzz", data, &mut run, &mut |_| {}, &mut |_| {});
    let _ = run.flush_minutes(None);
    assert_eq!(run.aggregate.lines, run.aggregate.parsed + run.aggregate.malformed);
});
