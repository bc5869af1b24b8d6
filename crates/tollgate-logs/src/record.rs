//! One request as every format normalizes it.

use std::borrow::Cow;
use std::net::IpAddr;

/// Text borrowed from the line, or owned where the format had to unescape it (JSON).
pub type Text<'a> = Cow<'a, str>;

/// One request, normalized across formats. Fields the format does not carry, or that the line
/// logged as unset (`-`, empty, `null`), are `None`: absent fields are never invented.
///
/// List fields (`upstream_addr`, `upstream_status`, `upstream_response_time`) keep the text as
/// logged; [`split_list`] yields their items (nginx writes `", "` between retried servers and
/// `" : "` between upstream groups after an internal redirect).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record<'a> {
    /// When the request was logged, in microseconds since the Unix epoch (UTC).
    pub time_us: Option<i64>,
    /// The client address as the proxy saw it (the TCP peer, or the realip-rewritten address).
    pub client_ip: Option<IpAddr>,
    /// The Basic-auth (or otherwise authenticated) user name.
    pub remote_user: Option<Text<'a>>,
    /// Request method (`GET`), as logged; may be junk on malformed requests.
    pub method: Option<Text<'a>>,
    /// Request path without the query string, as logged (nginx `\xNN` escapes kept).
    pub path: Option<Text<'a>>,
    /// Query string without the leading `?`.
    pub query: Option<Text<'a>>,
    /// Protocol (`HTTP/1.1`).
    pub protocol: Option<Text<'a>>,
    /// Status sent to the client (Envoy's 0 = no response sent is kept as 0).
    pub status: Option<u16>,
    /// Response bytes sent to the client (body bytes where the format logs only those).
    pub bytes_sent: Option<u64>,
    /// The Referer header.
    pub referer: Option<Text<'a>>,
    /// The User-Agent header.
    pub user_agent: Option<Text<'a>>,
    /// The Host / `:authority` the client asked for, without a port.
    pub host: Option<Text<'a>>,
    /// The proxy's name for where it sent the request; what it names depends on `upstream_kind`.
    pub upstream_name: Option<Text<'a>>,
    /// How to read `upstream_name`.
    pub upstream_kind: UpstreamKind,
    /// Upstream addresses tried, as logged (a list).
    pub upstream_addr: Option<Text<'a>>,
    /// Upstream statuses, as logged (a list).
    pub upstream_status: Option<Text<'a>>,
    /// Total request time in seconds.
    pub request_time: Option<f64>,
    /// Upstream response times in seconds, as logged (a list).
    pub upstream_response_time: Option<Text<'a>>,
    /// Request id (`X-Request-ID`, ALB trace id, ...).
    pub request_id: Option<Text<'a>>,
    /// The proxy's own verdict, where it logs one: Envoy response flags (`NR`, `UH`, ...),
    /// HAProxy termination state (`SC--`), GCP `statusDetails`, ALB `error_reason`.
    pub proxy_flags: Option<Text<'a>>,
}

/// What a format's upstream name refers to, so attribution knows how to resolve it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum UpstreamKind {
    /// No upstream name.
    #[default]
    None,
    /// ingress-nginx `$proxy_upstream_name`: `<ns>-<svc>-<port>`, `upstream-default-backend`,
    /// `internal`, or empty. Ambiguous when split on `-`: resolve against known Services.
    IngressNginx,
    /// HAProxy backend name; the HAProxy Ingress controller writes `<ns>-<svc>-<port>`.
    HaproxyBackend,
    /// Traefik router name (`<name>@<provider>`).
    TraefikRouter,
    /// Envoy route name (Envoy Gateway: `httproute/<ns>/<name>/rule/<i>/match/<j>/<host>`).
    EnvoyRoute,
    /// Envoy cluster name (Istio `outbound|9080||svc.ns.svc.cluster.local`, Contour `ns/svc/port/hash`).
    EnvoyCluster,
    /// AWS ALB target group ARN.
    AlbTargetGroup,
    /// GCP backend service name (`k8s1-<hash>-<ns>-<svc>-<port>-<hash>`).
    GcpBackendService,
}

/// The items of a list field as nginx writes it: `", "` between servers tried and `" : "`
/// between upstream groups. Items are trimmed; `-` items are kept (they mean "no value for this
/// try") so positions still line up across the address, status and time lists.
pub fn split_list(text: &str) -> impl Iterator<Item = &str> {
    // Only `", "` and `" : "` separate items: a bare `:` is part of `ip:port` and IPv6.
    text.split(", ")
        .flat_map(|group| group.split(" : "))
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

#[cfg(test)]
mod tests {
    use super::split_list;

    #[test]
    fn split_list_keeps_ports_and_ipv6_whole() {
        let items: Vec<_> =
            split_list("[2a02:cf40::7]:5000, 10.0.0.1:80 : unix:/run/php.sock").collect();
        assert_eq!(
            items,
            ["[2a02:cf40::7]:5000", "10.0.0.1:80", "unix:/run/php.sock"]
        );
    }

    #[test]
    fn split_list_keeps_dash_items_in_place() {
        let items: Vec<_> = split_list("502, -").collect();
        assert_eq!(items, ["502", "-"]);
    }
}
