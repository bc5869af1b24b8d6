//! The fixture harness: a rule's fixture marks every line it must report with
//! `# expect: <rule-name>`; every other line must stay clean. The rule's findings are also
//! snapshotted as the text renderer prints them, which is what a user sees.

use std::path::PathBuf;

use crate::config::Config;
use crate::engine::{self, RunOptions};
use crate::inventory::Inventory;
use crate::manifest::Manifests;
use crate::render::text::{self, TextOptions};
use crate::report::Report;

/// Checks `rule` against `tests/fixtures/rules/<rule>.yaml` and returns its text output.
pub(crate) fn check_fixture(rule: &str) -> String {
    let rel = format!("tests/fixtures/rules/{rule}.yaml");
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(&rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let mut m = Manifests::default();
    m.add_text(&rel, text.clone());
    assert!(
        m.errors.is_empty(),
        "fixture {rel} must load cleanly: {:?}",
        m.errors
    );
    let inv = Inventory::build(m.objects, m.sources, None);
    // A fixture may carry its own config on a first line `# config: {...}`.
    let config = match text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("# config:"))
    {
        Some(yaml) => {
            Config::parse(&rel, yaml).unwrap_or_else(|e| panic!("{rel}: bad config: {e:?}"))
        }
        None => Config::default(),
    };
    let select = vec![rule.to_owned()];
    let outcome = engine::run(
        &inv,
        &RunOptions {
            config: &config,
            select: &select,
            ignore: &[],
            now: "2026-11-22T00:00:00Z".parse().expect("a timestamp"),
        },
    );
    assert!(
        outcome.skipped.is_empty(),
        "{rule} was skipped: {:?}",
        outcome.skipped
    );
    let mut expected: Vec<usize> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if let Some((_, tail)) = line.split_once("# expect:") {
            for name in tail.split(',').map(str::trim) {
                assert!(
                    crate::rules::registry::find(name).is_some(),
                    "{rel}:{}: unknown rule `{name}`",
                    i + 1
                );
                if name == rule {
                    expected.push(i + 1);
                }
            }
        }
    }
    let mut got: Vec<usize> = outcome
        .findings
        .iter()
        .map(|f| {
            f.location
                .as_ref()
                .expect("fixture findings have locations")
                .line
        })
        .collect();
    got.sort_unstable();
    expected.sort_unstable();
    assert!(
        !expected.is_empty(),
        "{rel} has no failing case (`# expect: {rule}`)"
    );
    assert!(
        text.contains("# ok"),
        "{rel} has no passing case (a clean object marked `# ok`)"
    );
    assert_eq!(
        got, expected,
        "{rule}: lines reported vs lines marked `# expect: {rule}` in {rel}"
    );
    let report = Report::new(&outcome, &inv, m.documents, Vec::new(), Vec::new());
    text::render(&report, &inv.sources, TextOptions::default())
}

/// One test per rule: fixture lines and a snapshot of the text output.
macro_rules! fixture_tests {
    ($($test:ident => $rule:literal),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                let output = $crate::rules::test_support::check_fixture($rule);
                insta::assert_snapshot!($rule, output);
            }
        )*
    };
}
pub(crate) use fixture_tests;
