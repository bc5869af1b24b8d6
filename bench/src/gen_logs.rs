//! `gen-logs`: writes a synthetic ingress-nginx access log with planted attacks for the access-log
//! benchmark, the manifests its upstream names resolve against, and the truth file.
//!
//! ```text
//! gen-logs --lines N --clients C --out FILE [--inventory FILE] [--truth FILE]
//! ```

use std::io::BufWriter;
use std::path::PathBuf;
use std::process::ExitCode;

use tollgate_bench::access_logs::{Spec, inventory_yaml, write_log};

const USAGE: &str =
    "usage: gen-logs --lines N --clients C --out FILE [--inventory FILE] [--truth FILE]

Writes about N ingress-nginx upstreaminfo lines from C distinct benign clients, with planted
attacks, to FILE; the manifests of its routes to --inventory and the planted sources per detector
(JSON) to --truth. Deterministic.";

fn main() -> ExitCode {
    let mut spec = Spec::default();
    let (mut out, mut inventory, mut truth_path) = (None, None, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next();
        let ok = match (arg.as_str(), value) {
            ("--lines", Some(v)) => v.parse().map(|n| spec.lines = n).is_ok(),
            ("--clients", Some(v)) => v.parse().map(|n| spec.clients = n).is_ok(),
            ("--out", Some(v)) => {
                out = Some(PathBuf::from(v));
                true
            }
            ("--inventory", Some(v)) => {
                inventory = Some(PathBuf::from(v));
                true
            }
            ("--truth", Some(v)) => {
                truth_path = Some(PathBuf::from(v));
                true
            }
            _ => false,
        };
        if !ok {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    }
    let Some(out) = out else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let result = (|| -> std::io::Result<()> {
        let mut file = BufWriter::with_capacity(1 << 20, std::fs::File::create(&out)?);
        let truth = write_log(&spec, &mut file)?;
        if let Some(path) = inventory {
            std::fs::write(path, inventory_yaml())?;
        }
        if let Some(path) = truth_path {
            let mut json = String::from("{\n");
            let entries: Vec<String> = truth
                .iter()
                .map(|(detector, sources)| {
                    let quoted: Vec<String> = sources.iter().map(|s| format!("\"{s}\"")).collect();
                    format!("  \"{detector}\": [{}]", quoted.join(", "))
                })
                .collect();
            json.push_str(&entries.join(",\n"));
            json.push_str("\n}\n");
            std::fs::write(path, json)?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("gen-logs: {error}");
            ExitCode::FAILURE
        }
    }
}
