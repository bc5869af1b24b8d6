//! The access-log formats: one module per format, a static list of them, and detection.
//!
//! Every parser has the same shape, `parse(line, clock) -> Result<Record, Malformed>`, works on one
//! line without its newline, borrows from it, and never panics on any input (fuzzed).

use std::fmt;

use crate::record::Record;
use crate::time::TimeCache;

mod aws_alb;
mod envoy;
mod envoy_json;
pub(crate) mod escape;
mod field_values;
mod gcp_lb;
mod haproxy;
mod ingress_nginx;
mod ingress_nginx_json;
pub(crate) mod json_fields;
mod nginx;
pub(crate) mod tokens;
mod traefik;
mod traefik_json;

/// An access-log format, by its public name (`--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// ingress-nginx: the default `upstreaminfo` line, or the JSON lines of its documented
    /// `log-format-upstream` example with `log-format-escape-json`.
    IngressNginx,
    /// NGINX `combined` (also `main` with `"$http_x_forwarded_for"`, and Kong's proxy log).
    Nginx,
    /// Traefik common log format (CLF plus request count, router, server URL, duration).
    Traefik,
    /// Traefik JSON access log.
    TraefikJson,
    /// HAProxy `option httplog`, also the HAProxy Kubernetes Ingress controller default.
    Haproxy,
    /// AWS Application Load Balancer access log.
    AwsAlb,
    /// Envoy's default text format (Contour, Emissary with `ACCESS `, Istio's longer TEXT).
    Envoy,
    /// Envoy JSON access logs (Envoy Gateway, Istio, Contour).
    EnvoyJson,
    /// Google Cloud HTTP(S) load balancer request logs (Cloud Logging JSON).
    GcpLb,
}

impl Format {
    /// Every format, in the order detection tries them: stricter formats before the formats
    /// whose lines are a prefix of theirs (upstreaminfo and Traefik CLF extend `combined`).
    pub const ALL: &'static [Format] = &[
        Format::IngressNginx,
        Format::Traefik,
        Format::Nginx,
        Format::Haproxy,
        Format::AwsAlb,
        Format::Envoy,
        Format::EnvoyJson,
        Format::TraefikJson,
        Format::GcpLb,
    ];

    /// The public name.
    pub fn name(self) -> &'static str {
        match self {
            Format::IngressNginx => "ingress-nginx",
            Format::Nginx => "nginx",
            Format::Traefik => "traefik",
            Format::TraefikJson => "traefik-json",
            Format::Haproxy => "haproxy",
            Format::AwsAlb => "aws-alb",
            Format::Envoy => "envoy",
            Format::EnvoyJson => "envoy-json",
            Format::GcpLb => "gcp-lb",
        }
    }

    /// The format with this public name.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL
            .iter()
            .copied()
            .find(|format| format.name() == name)
    }

    /// Parses one line (no newline, no CRI/Docker wrapper) in this format.
    pub fn parse<'a>(self, line: &'a str, clock: &mut TimeCache) -> Result<Record<'a>, Malformed> {
        match self {
            Format::IngressNginx => ingress_nginx::parse(line, clock),
            Format::Nginx => nginx::parse(line, clock),
            Format::Traefik => traefik::parse(line, clock),
            Format::TraefikJson => traefik_json::parse(line, clock),
            Format::Haproxy => haproxy::parse(line, clock),
            Format::AwsAlb => aws_alb::parse(line, clock),
            Format::Envoy => envoy::parse(line, clock),
            Format::EnvoyJson => envoy_json::parse(line, clock),
            Format::GcpLb => gcp_lb::parse(line, clock),
        }
    }

    /// The first format, in [`Format::ALL`] order, that parses this line.
    pub fn sniff<'a>(line: &'a str, clock: &mut TimeCache) -> Option<(Format, Record<'a>)> {
        Format::ALL.iter().find_map(|format| {
            format
                .parse(line, clock)
                .ok()
                .map(|record| (*format, record))
        })
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a line could not be read. Static text: building it allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed {
    /// What was wrong, e.g. "unterminated quoted field".
    pub reason: &'static str,
}

impl Malformed {
    /// A malformation with this reason.
    pub const fn new(reason: &'static str) -> Self {
        Self { reason }
    }
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason)
    }
}

impl std::error::Error for Malformed {}
