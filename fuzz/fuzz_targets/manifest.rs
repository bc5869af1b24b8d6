//! Any bytes as a manifest file: loading, the inventory, every rule and every renderer must not
//! panic, and positions must stay inside the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate_core::config::Config;
use tollgate_core::engine::{self, RunOptions};
use tollgate_core::inventory::Inventory;
use tollgate_core::manifest::Manifests;
use tollgate_core::report::Report;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let lines = text.lines().count().max(1);
    let mut m = Manifests::default();
    m.add_text("fuzz.yaml", text.to_owned());
    for e in &m.errors {
        assert!(e.line.unwrap_or(1) <= lines + 1, "error line past the end: {e:?}");
    }
    let documents = m.documents;
    let inv = Inventory::build(m.objects, m.sources, None);
    let config = Config::default();
    let outcome = engine::run(
        &inv,
        &RunOptions { config: &config, select: &[], ignore: &[], now: jiff::Timestamp::UNIX_EPOCH },
    );
    let report = Report::new(&outcome, &inv, documents, m.errors, Vec::new());
    let _ = tollgate_core::render::json::render(&report);
    let _ = tollgate_core::render::text::render(&report, &inv.sources, Default::default());
    let _ = tollgate_core::render::map::json(&inv);
});
