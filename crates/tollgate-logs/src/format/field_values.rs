//! Field values that several formats log the same way: addresses with ports, `X-Forwarded-For`
//! lists, absolute URLs, durations turned into seconds, and Envoy's route or cluster names.
//!
//! Everything here slices its input; the `project` helpers carry a slice of a JSON-decoded
//! `Cow` over to the record, borrowed when the decoded text was borrowed.

use std::borrow::Cow;
use std::net::IpAddr;

use crate::format::tokens::{strip_port, unset_to_none};
use crate::record::{Text, UpstreamKind};

/// An address as logged with or without a port: `1.2.3.4`, `1.2.3.4:80`, `2001:db8::1`,
/// `[2001:db8::1]:443`. A bare IPv6 address is read whole, so this is not for formats that write
/// IPv6 with a port and no brackets (ALB: use [`ip_with_port`]).
pub(crate) fn ip_maybe_port(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    text.parse().ok().or_else(|| strip_port(text).parse().ok())
}

/// An address that always carries a port: `1.2.3.4:80`, `[2001:db8::1]:443`, and the unbracketed
/// `2001:db8::1:443` that AWS load balancers write, where only the last `:` starts the port.
pub(crate) fn ip_with_port(text: &str) -> Option<IpAddr> {
    if text.starts_with('[') {
        return strip_port(text).parse().ok();
    }
    let (address, port) = text.rsplit_once(':')?;
    if port.is_empty() || !port.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    address.parse().ok()
}

/// The first address of an `X-Forwarded-For` list: the client as the first proxy was told.
pub(crate) fn first_forwarded(list: &str) -> Option<IpAddr> {
    list.split(',').next().and_then(ip_maybe_port)
}

/// The last address of an `X-Forwarded-For` list: the peer the nearest proxy saw.
pub(crate) fn last_forwarded(list: &str) -> Option<IpAddr> {
    list.rsplit(',').next().and_then(ip_maybe_port)
}

/// A duration counted in `10^-digits` seconds (3 for milliseconds, 9 for nanoseconds) as
/// seconds text the way nginx writes times: at least three decimals, exact, no float rounding
/// (`4` ms → `0.004`, `467360` ns → `0.00046736`).
pub(crate) fn seconds_text(value: u64, digits: u32) -> String {
    let scale = 10u64.pow(digits);
    let mut text = format!(
        "{}.{:0width$}",
        value / scale,
        value % scale,
        width = digits as usize
    );
    let keep = text.len() - (digits as usize).saturating_sub(3);
    while text.len() > keep && text.ends_with('0') {
        text.pop();
    }
    text
}

/// A count written in digits only (Envoy's byte counts, `%DURATION%` and
/// `x-envoy-upstream-service-time` milliseconds); `-` and signs are not numbers.
pub(crate) fn whole_number(text: &str) -> Option<u64> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A target split at its first `?` into path and query (each `None` when empty or `-`).
pub(crate) fn path_and_query(target: &str) -> [Option<&str>; 2] {
    match target.split_once('?') {
        Some((path, query)) => [unset_to_none(path), Some(query).filter(|q| !q.is_empty())],
        None => [unset_to_none(target), None],
    }
}

/// A request URL into host, path and query. Absolute URLs (`http://host:80/p?q`, the ALB and
/// GCP way) give the host without port or user info; others are a path and query only.
pub(crate) fn host_path_and_query(url: &str) -> [Option<&str>; 3] {
    let rest = [
        "http://", "https://", "HTTP://", "HTTPS://", "ws://", "wss://",
    ]
    .iter()
    .find_map(|scheme| url.strip_prefix(scheme));
    let Some(rest) = rest else {
        let [path, query] = path_and_query(url);
        return [None, path, query];
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, target) = rest.split_at(authority_end);
    let [path, query] = path_and_query(target);
    // `http://host` and `http://host?x` have no path; HTTP requests it as `/`.
    [
        unset_to_none(url_host(authority)),
        path.or(Some("/")),
        query,
    ]
}

/// The host of a URL authority: `user@host:port` → `host`, `[v6]:port` → `v6`. Everything from
/// the first `:` is the port (even a malformed one like ALB's `:80-`), since a host name or an
/// IPv4 address cannot contain `:` and IPv6 hosts are bracketed in URLs.
pub(crate) fn url_host(authority: &str) -> &str {
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    if let Some(bracketed) = host.strip_prefix('[') {
        return bracketed.split_once(']').map_or(bracketed, |(v6, _)| v6);
    }
    host.split_once(':').map_or(host, |(name, _)| name)
}

/// A host header value without its port, as a one-part projection.
pub(crate) fn host_without_port(authority: &str) -> [Option<&str>; 1] {
    [unset_to_none(strip_port(authority.trim()))]
}

/// Applies a slicing function to decoded text and keeps the slices borrowed from the line when
/// the text was (no JSON escapes), copying them only when the text had to be unescaped.
pub(crate) fn project<'a, const N: usize>(
    text: Cow<'a, str>,
    slice: for<'s> fn(&'s str) -> [Option<&'s str>; N],
) -> [Option<Text<'a>>; N] {
    match text {
        Cow::Borrowed(text) => slice(text).map(|part| part.map(Cow::Borrowed)),
        Cow::Owned(text) => slice(&text).map(|part| part.map(|part| Cow::Owned(part.to_owned()))),
    }
}

/// What an Envoy line names as its destination. A Gateway API route name
/// (`httproute/<ns>/<name>/rule/<i>/match/<j>/<host>`, Envoy Gateway) says exactly which
/// object routed the request, so it wins; otherwise the cluster (Istio
/// `outbound|9080||details.default.svc.cluster.local`, Contour `<ns>/<svc>/<port>/<hash>`) names
/// the Service better than a route name like Istio's `default`; a route name is the last resort
/// (a direct response, such as a redirect, has no cluster).
pub(crate) fn envoy_upstream<'a>(
    route: Option<Text<'a>>,
    cluster: Option<Text<'a>>,
) -> (Option<Text<'a>>, UpstreamKind) {
    const GATEWAY_API_ROUTES: [&str; 5] = [
        "httproute/",
        "grpcroute/",
        "tlsroute/",
        "tcproute/",
        "udproute/",
    ];
    match (route, cluster) {
        (Some(route), _)
            if GATEWAY_API_ROUTES
                .iter()
                .any(|kind| route.starts_with(kind)) =>
        {
            (Some(route), UpstreamKind::EnvoyRoute)
        }
        (_, Some(cluster)) => (Some(cluster), UpstreamKind::EnvoyCluster),
        (Some(route), None) => (Some(route), UpstreamKind::EnvoyRoute),
        (None, None) => (None, UpstreamKind::None),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::format::Malformed;
    use crate::record::Record;
    use crate::time::TimeCache;

    /// Parses every prefix (cut on a char boundary) of every line, and every line with each
    /// byte replaced by bytes that matter to the tokenizers, and checks only that nothing panics.
    pub(crate) fn assert_no_panic(
        parse: for<'a> fn(&'a str, &mut TimeCache) -> Result<Record<'a>, Malformed>,
        lines: &[&str],
    ) {
        let mut clock = TimeCache::new();
        for line in lines {
            for (end, _) in line.char_indices() {
                let _ = parse(&line[..end], &mut clock);
            }
            let bytes = line.as_bytes();
            for index in 0..bytes.len() {
                for replacement in [b' ', b'"', b'\\', b'{', b'[', b']', b':', b'-', b'?', 0xff] {
                    let mut mutated = bytes.to_vec();
                    mutated[index] = replacement;
                    let mutated = String::from_utf8_lossy(&mutated);
                    let _ = parse(&mutated, &mut clock);
                }
            }
        }
    }

    #[test]
    fn addresses_with_and_without_ports() {
        let v4: IpAddr = "10.0.0.12".parse().unwrap();
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(ip_maybe_port("10.0.0.12:59292"), Some(v4));
        assert_eq!(ip_maybe_port("10.0.0.12"), Some(v4));
        assert_eq!(ip_maybe_port("2001:db8::1"), Some(v6));
        assert_eq!(ip_maybe_port("[2001:db8::1]:443"), Some(v6));
        assert_eq!(ip_maybe_port("example.com:80"), None);
        assert_eq!(ip_with_port("10.0.0.12:59292"), Some(v4));
        assert_eq!(ip_with_port("[2001:db8::1]:443"), Some(v6));
        // AWS writes IPv6 clients unbracketed; a direct parse would read the port as a group.
        assert_eq!(ip_with_port("2001:db8::1:443"), Some(v6));
        assert_eq!(ip_with_port("10.0.0.12"), None);
        assert_eq!(ip_with_port("-"), None);
    }

    #[test]
    fn forwarded_lists_give_their_ends() {
        let list = "203.0.113.7, 10.0.0.1:1234,10.0.0.2";
        assert_eq!(first_forwarded(list), "203.0.113.7".parse().ok());
        assert_eq!(last_forwarded(list), "10.0.0.2".parse().ok());
        assert_eq!(first_forwarded("-"), None);
    }

    #[test]
    fn durations_become_exact_seconds_text() {
        assert_eq!(seconds_text(4, 3), "0.004");
        assert_eq!(seconds_text(0, 3), "0.000");
        assert_eq!(seconds_text(1250, 3), "1.250");
        assert_eq!(seconds_text(467_360, 9), "0.00046736");
        assert_eq!(seconds_text(2_000_000_000, 9), "2.000");
        assert_eq!(whole_number("17"), Some(17));
        assert_eq!(whole_number("-"), None);
        assert_eq!(whole_number("+1"), None);
    }

    #[test]
    fn urls_split_into_host_path_and_query() {
        assert_eq!(
            host_path_and_query("http://www.example.com:80/a/b?x=1&y=/z"),
            [Some("www.example.com"), Some("/a/b"), Some("x=1&y=/z")]
        );
        assert_eq!(
            host_path_and_query("https://[2001:db8::1]:443/"),
            [Some("2001:db8::1"), Some("/"), None]
        );
        assert_eq!(
            host_path_and_query("http://host?q"),
            [Some("host"), Some("/"), Some("q")]
        );
        assert_eq!(
            host_path_and_query("http://internal-alb.example.com:80-/ "),
            [Some("internal-alb.example.com"), Some("/ "), None]
        );
        assert_eq!(
            host_path_and_query("http://user@evil.example"),
            [Some("evil.example"), Some("/"), None]
        );
        assert_eq!(
            host_path_and_query("/only/path?x"),
            [None, Some("/only/path"), Some("x")]
        );
    }

    #[test]
    fn projections_borrow_only_what_was_borrowed() {
        let [host] = project(Cow::Borrowed("example.com:8080"), host_without_port);
        assert!(matches!(host, Some(Cow::Borrowed("example.com"))));
        let [path, query] = project(Cow::Owned("/a?b".to_owned()), path_and_query);
        assert!(matches!(path, Some(Cow::Owned(ref path)) if path == "/a"));
        assert!(matches!(query, Some(Cow::Owned(ref query)) if query == "b"));
    }

    #[test]
    fn gateway_api_routes_win_then_clusters_then_other_routes() {
        let text = |value: &'static str| Some(Cow::Borrowed(value));
        assert_eq!(
            envoy_upstream(text("httproute/app/web/rule/0/match/0/*"), text("c")),
            (
                text("httproute/app/web/rule/0/match/0/*"),
                UpstreamKind::EnvoyRoute
            )
        );
        assert_eq!(
            envoy_upstream(
                text("default"),
                text("outbound|80||web.app.svc.cluster.local")
            ),
            (
                text("outbound|80||web.app.svc.cluster.local"),
                UpstreamKind::EnvoyCluster
            )
        );
        assert_eq!(
            envoy_upstream(text("redirect"), None),
            (text("redirect"), UpstreamKind::EnvoyRoute)
        );
        assert_eq!(envoy_upstream(None, None), (None, UpstreamKind::None));
    }
}
