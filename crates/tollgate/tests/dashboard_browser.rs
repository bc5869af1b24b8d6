//! The dashboard in a real browser: the service scenario (a risky change by alice to Ingress
//! `shop/storefront`, a brute-force alert on its route correlated with that change) is started,
//! then `tests/browser/dashboard.mjs` drives headless Chromium through every page and the
//! alert → route → change click path, checking content, console errors, CSP violations and
//! requests to other origins, and saving screenshots.
//!
//! The browser test needs Node, Chromium and `npm ci --prefix tests/browser`; `.ci/browser-test`
//! provides all three. Without them this test is skipped, unless `TOLLGATE_BROWSER_TEST=required`
//! (as CI sets it), when a missing prerequisite fails it.

#[path = "support/fake_apiserver.rs"]
mod fake_apiserver;
#[path = "support/serve.rs"]
mod serve;

use std::path::{Path, PathBuf};
use std::process::Command;

/// Chromium, unless `TOLLGATE_CHROMIUM` names another binary.
fn chromium() -> PathBuf {
    std::env::var_os("TOLLGATE_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/browser")
}

/// What is missing to run the browser, if anything.
fn missing_prerequisites() -> Vec<String> {
    let mut missing = Vec::new();
    if !chromium().exists() {
        missing.push(format!("Chromium at {}", chromium().display()));
    }
    if Command::new("node").arg("--version").output().is_err() {
        missing.push("node".to_owned());
    }
    if !browser_dir().join("node_modules/playwright-core").exists() {
        missing.push("tests/browser/node_modules (npm ci --prefix tests/browser)".to_owned());
    }
    missing
}

#[test]
fn the_dashboard_works_in_a_browser() {
    let required = std::env::var("TOLLGATE_BROWSER_TEST").is_ok_and(|v| v == "required");
    let missing = missing_prerequisites();
    if !missing.is_empty() {
        assert!(
            !required,
            "TOLLGATE_BROWSER_TEST=required, but missing: {}",
            missing.join(", ")
        );
        eprintln!(
            "skipping the browser test (run .ci/browser-test); missing: {}",
            missing.join(", ")
        );
        return;
    }

    let scenario = serve::scenario();
    let mut command = Command::new("node");
    command
        .arg(browser_dir().join("dashboard.mjs"))
        .env("TOLLGATE_BASE_URL", &scenario.base_url)
        .env(
            "TOLLGATE_ALERT_BRUTE_FORCE_ID",
            &scenario.alert_brute_force_id,
        )
        .env(
            "TOLLGATE_ALERT_RISKY_CHANGE_ID",
            &scenario.alert_risky_change_id,
        )
        .env("TOLLGATE_CHANGE_ID", scenario.change_id.to_string())
        .env("TOLLGATE_ROUTE_KEY", &scenario.route_key)
        .env("TOLLGATE_EXPECT_USER", "alice")
        .env("TOLLGATE_EXPECT_INGRESS", "shop/storefront")
        .env("TOLLGATE_CHROMIUM", chromium());
    // The service is its own process: it keeps answering while the browser runs.
    let output = command.output().expect("running node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        output.status.success(),
        "the browser test failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    assert!(
        stdout.contains("clicked through: alerts -> brute-force alert -> route -> back -> change"),
        "the click path did not run:\n{stdout}"
    );
}
