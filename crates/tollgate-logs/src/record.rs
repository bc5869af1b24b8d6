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

/// Appends `record` as one JSON line in the `--records` shape (DESIGN §3): absent fields are
/// omitted, list fields become arrays (a `-` item is `null`, keeping positions aligned).
pub fn write_json(record: &Record<'_>, route: Option<&crate::routes::Target>, out: &mut Vec<u8>) {
    #[derive(serde::Serialize)]
    struct Json<'r> {
        #[serde(skip_serializing_if = "Option::is_none")]
        time: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        client_ip: Option<IpAddr>,
        #[serde(skip_serializing_if = "Option::is_none")]
        remote_user: Option<&'r str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        method: Option<&'r str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        path: Option<&'r str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        query: Option<&'r str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        protocol: Option<&'r str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        #[serde(skip_serializing_if = "Option::is_none")]
        bytes_sent: Option<u64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        referer: Option<&'r str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        user_agent: Option<&'r str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        host: Option<&'r str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        upstream_name: Option<&'r str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        upstream_addr: Option<Vec<Option<&'r str>>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        upstream_status: Option<Vec<Option<u16>>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        request_time: Option<f64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        upstream_response_time: Option<Vec<Option<f64>>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        request_id: Option<&'r str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        proxy_flags: Option<&'r str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        route: Option<&'r crate::routes::Target>,
    }
    fn items<'t, T>(
        text: &'t Option<Text<'_>>,
        parse: impl Fn(&'t str) -> Option<T>,
    ) -> Option<Vec<Option<T>>> {
        let text = text.as_deref()?;
        Some(
            split_list(text)
                .map(|item| if item == "-" { None } else { parse(item) })
                .collect(),
        )
    }
    let json = Json {
        time: record.time_us.map(crate::time::format_rfc3339),
        client_ip: record.client_ip,
        remote_user: record.remote_user.as_deref(),
        method: record.method.as_deref(),
        path: record.path.as_deref(),
        query: record.query.as_deref(),
        protocol: record.protocol.as_deref(),
        status: record.status,
        bytes_sent: record.bytes_sent,
        referer: record.referer.as_deref(),
        user_agent: record.user_agent.as_deref(),
        host: record.host.as_deref(),
        upstream_name: record.upstream_name.as_deref(),
        upstream_addr: items(&record.upstream_addr, Some),
        upstream_status: items(&record.upstream_status, |s| s.parse().ok()),
        request_time: record.request_time,
        upstream_response_time: items(&record.upstream_response_time, |s| s.parse().ok()),
        request_id: record.request_id.as_deref(),
        proxy_flags: record.proxy_flags.as_deref(),
        route,
    };
    // Serializing plain data into a Vec cannot fail.
    if serde_json::to_writer(&mut *out, &json).is_ok() {
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::split_list;

    #[test]
    fn json_lines_omit_absent_fields_and_keep_list_positions() {
        let record = super::Record {
            time_us: Some(1_581_076_131_000_000),
            status: Some(502),
            upstream_addr: Some("10.0.0.1:80, 10.0.0.2:80".into()),
            upstream_status: Some("502, -".into()),
            upstream_response_time: Some("0.001, -".into()),
            ..super::Record::default()
        };
        let mut out = Vec::new();
        super::write_json(&record, None, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"time":"2020-02-07T11:48:51Z","status":502,"upstream_addr":["10.0.0.1:80","10.0.0.2:80"],"upstream_status":[502,null],"upstream_response_time":[0.001,null]}"#.to_string() + "\n"
        );
    }

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
