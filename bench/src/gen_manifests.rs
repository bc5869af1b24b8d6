//! `gen-manifests`: writes a synthetic, deterministic Kubernetes estate for the scan benchmark.
//!
//! ```text
//! gen-manifests --ingresses N --out DIR [--files K] [--gateway-api]
//! ```
//!
//! N Ingresses (`networking.k8s.io/v1`, class `nginx`, 1–3 hosts of 1–4 paths, TLS on most) with
//! their Services (named and unnamed ports) and TLS Secrets (`kubernetes.io/tls`, a real
//! certificate chain), 50 Ingresses per namespace, one Namespace and one NetworkPolicy per
//! namespace, and one IngressClass, spread over K files (default 100) named `manifests-NNN.yaml`.
//! A few percent of the Ingresses carry a mistake the rules catch: a wildcard host, a TLS secret
//! that does not exist, a backend port that is the container port rather than the Service port,
//! a `configuration-snippet` annotation, or a host and path already routed by another namespace.
//!
//! With `--gateway-api`, the same estate declares its routes with the Gateway API instead: a
//! GatewayClass, a Gateway per namespace and an HTTPRoute per Ingress, with the analogous
//! mistakes (`tollgate_bench::manifests` describes them).
//!
//! The output depends only on N, K and the API: a xorshift PRNG with a constant seed, no clock,
//! no hash-map order.

use std::path::PathBuf;
use std::process::ExitCode;

use tollgate_bench::flags::Flags;
use tollgate_bench::manifests::{Api, Spec, write};

const USAGE: &str = "usage: gen-manifests --ingresses N --out DIR [--files K] [--gateway-api]

Writes N Ingresses with their Services, TLS Secrets, Namespaces, NetworkPolicies and one
IngressClass as K YAML files (default 100) named manifests-NNN.yaml in DIR. With --gateway-api,
the same estate with each Ingress written as a Gateway API HTTPRoute, on a Gateway per namespace
of GatewayClass `eg` (Envoy Gateway). Existing manifests-*.yaml files in DIR are removed first.
Deterministic.";

fn parse_args() -> Result<(Spec, PathBuf), String> {
    let mut ingresses = None;
    let mut out = None;
    let mut files = 100;
    let mut api = Api::Ingress;
    let mut flags = Flags::from_env();
    while let Some(flag) = flags.next_flag() {
        match flag.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            "--ingresses" | "-n" => {
                let v = flags.value("--ingresses")?;
                ingresses = Some(
                    v.parse()
                        .map_err(|_| format!("--ingresses: not a number: {v}"))?,
                );
            }
            "--out" | "-o" => out = Some(PathBuf::from(flags.value("--out")?)),
            "--files" => files = flags.number("--files")?,
            "--gateway-api" => api = Api::GatewayApi,
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    let ingresses = ingresses.ok_or("--ingresses is required")?;
    let out = out.ok_or("--out is required")?;
    Ok((
        Spec {
            ingresses,
            files,
            api,
        },
        out,
    ))
}

fn main() -> ExitCode {
    let (spec, out) = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("gen-manifests: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match write(&spec, &out) {
        Ok((counts, bytes)) => {
            println!("{}", counts.summary(&spec, bytes, &out));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen-manifests: {}: {e}", out.display());
            ExitCode::FAILURE
        }
    }
}
