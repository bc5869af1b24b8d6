//! Bad input never panics: every rule fixture, corrupted thousands of ways (bytes flipped, lines
//! cut, YAML punctuation spliced in), goes through loading, the inventory, every rule, the
//! renderers and the Gateway API migration. A deterministic stand-in for the fuzz targets that
//! runs on every CI run.

use std::path::PathBuf;

use tollgate_core::config::Config;
use tollgate_core::engine::{self, RunOptions};
use tollgate_core::inventory::Inventory;
use tollgate_core::manifest::Manifests;
use tollgate_core::render;
use tollgate_core::report::Report;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).expect("fits")
    }
}

const SPLICES: &[&str] = &[
    "---\n",
    ": ",
    "- ",
    "[",
    "]",
    "{",
    "}",
    "&a ",
    "*a",
    "<<: *a\n",
    "!!str ",
    "|\n",
    ">-\n",
    "\"",
    "'",
    "#",
    "\t",
    "\n  ",
    "~",
    "null",
    "0x",
    "%YAML 1.2\n",
    "...\n",
    "\u{feff}",
    "é",
    "\r\n",
    "kind: List\nitems:\n",
    "apiVersion: networking.k8s.io/v1\nkind: Ingress\n",
];

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for _ in 0..=rng.below(4) {
        if bytes.is_empty() {
            break;
        }
        let at = rng.below(bytes.len());
        match rng.below(4) {
            0 => bytes[at] = b" :-[]{}#&*!|>'\"\n\tax0"[rng.below(20)],
            1 => bytes.truncate(at),
            2 => {
                let s = SPLICES[rng.below(SPLICES.len())].as_bytes();
                bytes.splice(at..at, s.iter().copied());
            }
            _ => {
                let end = (at + rng.below(40)).min(bytes.len());
                bytes.drain(at..end);
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn exercise(text: &str, all_formats: bool) {
    let lines = text.lines().count() + 1;
    let mut m = Manifests::default();
    m.add_text("mutant.yaml", text.to_owned());
    for e in &m.errors {
        if let Some(line) = e.line {
            assert!(
                line <= lines,
                "error at line {line} of a {lines}-line file: {e:?}\n{text}"
            );
        }
    }
    let documents = m.documents;
    let errors = std::mem::take(&mut m.errors);
    let inv = Inventory::build(m.objects, m.sources, None);
    let config = Config::default();
    let outcome = engine::run(
        &inv,
        &RunOptions {
            config: &config,
            select: &[],
            ignore: &[],
            now: jiff::Timestamp::UNIX_EPOCH,
        },
    );
    for f in &outcome.findings {
        let l = f
            .location
            .as_ref()
            .expect("findings from files have locations");
        assert!(l.line <= lines, "finding past the end of the file: {f:?}");
    }
    let report = Report::new(&outcome, &inv, documents, errors, Vec::new());
    let _ = render::json::render(&report);
    let _ = render::text::render(&report, &inv.sources, render::text::TextOptions::default());
    if all_formats {
        // These two carry the whole rule catalog; once in a while is enough to catch a panic.
        let _ = render::sarif::render(&report);
        let _ = render::junit::render(&report);
    }
    let _ = render::markdown::render(&report);
    let _ = render::github::render(&report);
    let _ = render::map::json(&inv);
    let _ = render::map::table(&inv, false);
    let _ = render::map::dot(&inv);
    let _ = render::map::mermaid(&inv);
    let plan =
        tollgate_core::migrate::plan(&inv, &tollgate_core::migrate::MigrateOptions::default());
    let _ = render::migrate::markdown(&plan);
    let _ = render::migrate::json(&plan);
    let _ = render::migrate::yaml(&plan);
}

#[test]
fn corrupted_fixtures_never_panic_and_positions_stay_in_the_file() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules");
    let mut fixtures: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
        .collect();
    fixtures.sort();
    assert!(fixtures.len() >= 10);
    // A fixed budget of mutants, spread over however many fixtures the catalog has, so the
    // test's time does not grow with every rule added.
    let per_fixture = (6000 / fixtures.len()).max(20);
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    for fixture in &fixtures {
        exercise(fixture, true);
        for i in 0..per_fixture {
            exercise(&mutate(&mut rng, fixture), i % 8 == 0);
        }
    }
}

#[test]
fn configs_of_any_shape_are_errors_not_panics() {
    let base = "select: [all]\nignore: [TG101]\nseverity: {tls-missing: critical}\nfailOn: medium\nsuppressions:\n  - rule: tls-missing\n    reason: r\n    expires: 2027-01-31\n";
    let mut rng = Rng(42);
    for _ in 0..2000 {
        let _ = Config::parse("tollgate.yaml", &mutate(&mut rng, base));
    }
}
