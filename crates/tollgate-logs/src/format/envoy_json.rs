//! Envoy JSON access logs: Envoy Gateway's default (header-style keys such as `:authority`,
//! `x-envoy-origin-path`, `user-agent`), Istio's `accessLogEncoding: JSON` (snake_case keys such
//! as `authority`, `path`, `user_agent`) and Contour's `accesslog-format: json` (`@timestamp`
//! and snake_case keys).
//!
//! Values are typed (numbers as numbers) in Envoy Gateway and Istio, but templates written by
//! hand quote them, so numbers are read from either; unset values are `null` (Envoy's JSON
//! formatter) or `-` (string templates).

use std::borrow::Cow;

use crate::format::Malformed;
use crate::format::field_values::{
    envoy_upstream, first_forwarded, host_without_port, ip_maybe_port, path_and_query, project,
    seconds_text,
};
use crate::format::json_fields::{JsonValue, for_each_field};
use crate::record::Record;
use crate::time::{TimeCache, rfc3339};

/// The fields this format reads, by meaning; each keeps the first set value of its keys.
#[derive(Default)]
struct Fields<'a> {
    start_time: Option<JsonValue<'a>>,
    method: Option<JsonValue<'a>>,
    path: Option<JsonValue<'a>>,
    protocol: Option<JsonValue<'a>>,
    response_code: Option<JsonValue<'a>>,
    response_flags: Option<JsonValue<'a>>,
    bytes_sent: Option<JsonValue<'a>>,
    duration: Option<JsonValue<'a>>,
    upstream_service_time: Option<JsonValue<'a>>,
    forwarded_for: Option<JsonValue<'a>>,
    user_agent: Option<JsonValue<'a>>,
    referer: Option<JsonValue<'a>>,
    request_id: Option<JsonValue<'a>>,
    authority: Option<JsonValue<'a>>,
    upstream_host: Option<JsonValue<'a>>,
    upstream_cluster: Option<JsonValue<'a>>,
    downstream_remote_address: Option<JsonValue<'a>>,
    route_name: Option<JsonValue<'a>>,
}

impl<'a> Fields<'a> {
    /// The key table: Envoy Gateway spellings first, then Istio's and Contour's.
    fn slot(&mut self, key: &str) -> Option<&mut Option<JsonValue<'a>>> {
        Some(match key {
            "start_time" | "@timestamp" => &mut self.start_time,
            "method" => &mut self.method,
            "x-envoy-origin-path" | "path" => &mut self.path,
            "protocol" => &mut self.protocol,
            "response_code" => &mut self.response_code,
            "response_flags" => &mut self.response_flags,
            "bytes_sent" => &mut self.bytes_sent,
            "duration" => &mut self.duration,
            "x-envoy-upstream-service-time" | "upstream_service_time" => {
                &mut self.upstream_service_time
            }
            "x-forwarded-for" | "x_forwarded_for" => &mut self.forwarded_for,
            "user-agent" | "user_agent" => &mut self.user_agent,
            "referer" => &mut self.referer,
            "x-request-id" | "request_id" => &mut self.request_id,
            ":authority" | "authority" => &mut self.authority,
            "upstream_host" => &mut self.upstream_host,
            "upstream_cluster" => &mut self.upstream_cluster,
            "downstream_remote_address" => &mut self.downstream_remote_address,
            "route_name" => &mut self.route_name,
            _ => return None,
        })
    }

    fn set(&mut self, key: &str, value: JsonValue<'a>) {
        if let Some(slot) = self.slot(key) {
            // The required keys count as present even when unset; for the rest a set value of
            // a later alias may fill an unset earlier one.
            if slot.is_none_or(|held| held.is_unset()) {
                *slot = Some(value);
            }
        }
    }
}

/// Parses one line.
pub(crate) fn parse<'a>(line: &'a str, _clock: &mut TimeCache) -> Result<Record<'a>, Malformed> {
    let mut fields = Fields::default();
    for_each_field(line, |key, value| fields.set(key, value))?;
    let status = fields
        .response_code
        .ok_or(Malformed::new("no response_code key"))?
        .status()
        .ok_or(Malformed::new("response_code is not a status"))?;
    let start_time = fields
        .start_time
        .ok_or(Malformed::new("no start_time or @timestamp key"))?;
    let text = |value: Option<JsonValue<'a>>| value.and_then(JsonValue::text);
    let [path, query] =
        text(fields.path).map_or([None, None], |path| project(path, path_and_query));
    let [host] = text(fields.authority).map_or([None], |host| project(host, host_without_port));
    let (upstream_name, upstream_kind) =
        envoy_upstream(text(fields.route_name), text(fields.upstream_cluster));
    let client_ip = text(fields.downstream_remote_address)
        .and_then(|address| ip_maybe_port(&address))
        .or_else(|| text(fields.forwarded_for).and_then(|list| first_forwarded(&list)));
    Ok(Record {
        time_us: text(Some(start_time)).and_then(|time| rfc3339(&time)),
        client_ip,
        remote_user: None,
        method: text(fields.method),
        path,
        query,
        protocol: text(fields.protocol),
        status: Some(status),
        bytes_sent: fields.bytes_sent.and_then(JsonValue::u64),
        referer: text(fields.referer),
        user_agent: text(fields.user_agent),
        host,
        upstream_name,
        upstream_kind,
        upstream_addr: text(fields.upstream_host),
        upstream_status: None,
        request_time: fields
            .duration
            .and_then(JsonValue::u64)
            .map(|ms| ms as f64 / 1000.0),
        upstream_response_time: fields
            .upstream_service_time
            .and_then(JsonValue::u64)
            .map(|ms| Cow::Owned(seconds_text(ms, 3))),
        request_id: text(fields.request_id),
        proxy_flags: text(fields.response_flags),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::field_values::tests::assert_no_panic;
    use crate::record::UpstreamKind;
    use crate::wrap::{Unwrapped, Unwrapper};

    /// crowdsecurity/hub `.tests/envoy-logs/envoy.log` lines 1-3: Envoy Gateway's default JSON
    /// under the CRI wrapper, as on a node.
    const GATEWAY_CRI: &str = r#"2025-12-31T17:37:40.493035218+01:00 stdout F {":authority":"www.example.com","bytes_received":0,"bytes_sent":121258,"connection_termination_details":null,"downstream_local_address":"10.42.0.77:10443","downstream_remote_address":"10.0.0.12:59292","duration":11,"method":"GET","protocol":"HTTP/2","requested_server_name":null,"response_code":200,"response_code_details":"via_upstream","response_flags":"-","route_name":"httproute/app/app-www-example-com/rule/0/match/0/www_example_com","start_time":"2025-12-31T16:37:40.479Z","upstream_cluster":"httproute/app/app-www-example-com/rule/0","upstream_host":"10.42.0.82:8080","upstream_local_address":"10.42.0.77:51216","upstream_transport_failure_reason":null,"user-agent":"Mozilla/4.0 (Windows NT 9.0; Win64; x64; rv:136.0) Gecko/20101 Firefox/136.0","x-envoy-origin-path":"/assets/image.webp","x-envoy-upstream-service-time":null,"x-forwarded-for":"10.0.0.12","x-request-id":"3bbc0252-2d5c-49fe-bd89-104e9b61770b"}"#;
    const GATEWAY_REDIRECT_CRI: &str = r#"2025-12-31T18:22:06.456373561+01:00 stdout F {":authority":"10.0.0.13","bytes_received":0,"bytes_sent":0,"connection_termination_details":null,"downstream_local_address":"10.42.0.77:10080","downstream_remote_address":"192.168.1.45:33045","duration":0,"method":"GET","protocol":"HTTP/1.1","requested_server_name":null,"response_code":301,"response_code_details":"direct_response","response_flags":"-","route_name":"httproute/app/http-to-https-filter-redirect/rule/0/match/0/*","start_time":"2025-12-31T17:22:04.951Z","upstream_cluster":null,"upstream_host":null,"upstream_local_address":null,"upstream_transport_failure_reason":null,"user-agent":"Mozilla/5.0 (Windows NT 6.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/41.0.2228.0 Safari/537.36","x-envoy-origin-path":"/","x-envoy-upstream-service-time":null,"x-forwarded-for":"192.168.1.45","x-request-id":"a9864e02-c6f5-4375-a27d-3ffd7f312811"}"#;
    const GATEWAY_PROBE_CRI: &str = r#"2025-12-31T18:30:06.518608527+01:00 stdout F {":authority":"foo.example.com","bytes_received":0,"bytes_sent":0,"connection_termination_details":null,"downstream_local_address":"10.42.0.77:10443","downstream_remote_address":"172.16.2.33:49578","duration":5,"method":"HEAD","protocol":"HTTP/2","requested_server_name":null,"response_code":404,"response_code_details":"via_upstream","response_flags":"-","route_name":"httproute/app/app-foo-example-com/rule/0/match/0/foo_example_com","start_time":"2025-12-31T17:30:03.228Z","upstream_cluster":"httproute/app/app-foo-example-com/rule/0","upstream_host":"10.42.0.88:1337","upstream_local_address":"10.42.0.77:47106","upstream_transport_failure_reason":null,"user-agent":"curl/8.5.0","x-envoy-origin-path":"/.env","x-envoy-upstream-service-time":null,"x-forwarded-for":"172.16.2.33","x-request-id":"fff03852-5ae8-468b-a528-434d095ddc49"}"#;
    /// Istio's default JSON keys with numbers quoted, as a hand-written template produces
    /// (constructed from the keys in the research notes §1.7 and a published example).
    const ISTIO: &str = r#"{"authority":"httpbin.default:8000","bytes_received":"0","bytes_sent":"615","connection_termination_details":null,"downstream_local_address":"10.244.1.5:8000","downstream_remote_address":"10.244.1.3:45678","duration":"4","method":"GET","path":"/status/200?delay=1","protocol":"HTTP/1.1","request_id":"a1b2c3d4-e5f6-7890","requested_server_name":null,"response_code":"200","response_code_details":"via_upstream","response_flags":"-","route_name":"default","start_time":"2026-02-24T10:30:45.123Z","upstream_cluster":"inbound|8000||","upstream_host":"10.244.1.5:8000","upstream_local_address":"127.0.0.6:44444","upstream_service_time":"3","upstream_transport_failure_reason":null,"user_agent":"curl/7.88.1","x_forwarded_for":null}"#;
    /// Istio typed JSON for a request no route matched (constructed).
    const ISTIO_NO_ROUTE: &str = r#"{"authority":"unknown.example.com","bytes_received":0,"bytes_sent":0,"connection_termination_details":null,"downstream_local_address":"10.244.0.9:8080","downstream_remote_address":"[2001:db8::7]:51000","duration":0,"method":"GET","path":"/wp-login.php","protocol":"HTTP/1.1","request_id":"0b60ced5-f525-45e5-9233-171eb33b7c95","requested_server_name":null,"response_code":404,"response_code_details":"route_not_found","response_flags":"NR","route_name":null,"start_time":"2026-02-24T10:31:00.000Z","upstream_cluster":null,"upstream_host":null,"upstream_local_address":null,"upstream_service_time":null,"upstream_transport_failure_reason":null,"user_agent":"sqlmap/1.7","x_forwarded_for":"198.51.100.4, 10.0.0.1"}"#;
    /// Contour's `accesslog-format: json` default fields (constructed from
    /// `DefaultAccessLogJSONFields`; Contour names clusters `<ns>/<service>/<port>/<hash>`).
    const CONTOUR: &str = r#"{"@timestamp":"2021-04-14T16:36:00.361Z","authority":"echo.example.com","bytes_received":0,"bytes_sent":463,"downstream_local_address":"10.1.2.3:8080","downstream_remote_address":"172.18.0.1:53822","duration":6,"method":"POST","path":"/login?next=%2F","protocol":"HTTP/1.1","request_id":"837aa8dc-344f-4faa-b7d5-c9cce1028519","requested_server_name":"","response_code":401,"response_flags":"-","uber_trace_id":"","upstream_cluster":"default/echo/80/da39a3ee5e","upstream_host":"10.244.2.5:8080","upstream_local_address":"10.244.1.4:40522","upstream_service_time":"3","user_agent":"python-requests/2.31.0","x_forwarded_for":"-","grpc_status":"","grpc_status_number":null}"#;

    fn unwrapped(line: &str) -> String {
        match Unwrapper::new().feed(line) {
            Unwrapped::Line(payload) => payload.into_owned(),
            other => panic!("{other:?}"),
        }
    }

    fn parsed(line: &str) -> Record<'_> {
        parse(line, &mut TimeCache::new()).unwrap_or_else(|error| panic!("{error}: {line}"))
    }

    fn text(value: &str) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(value))
    }

    #[test]
    fn envoy_gateway_line_unwrapped_from_cri() {
        let line = unwrapped(GATEWAY_CRI);
        assert_eq!(
            parsed(&line),
            Record {
                time_us: rfc3339("2025-12-31T16:37:40.479Z"),
                client_ip: "10.0.0.12".parse().ok(),
                method: text("GET"),
                path: text("/assets/image.webp"),
                protocol: text("HTTP/2"),
                status: Some(200),
                bytes_sent: Some(121_258),
                user_agent: text(
                    "Mozilla/4.0 (Windows NT 9.0; Win64; x64; rv:136.0) Gecko/20101 Firefox/136.0"
                ),
                host: text("www.example.com"),
                upstream_name: text(
                    "httproute/app/app-www-example-com/rule/0/match/0/www_example_com"
                ),
                upstream_kind: UpstreamKind::EnvoyRoute,
                upstream_addr: text("10.42.0.82:8080"),
                request_time: Some(0.011),
                request_id: text("3bbc0252-2d5c-49fe-bd89-104e9b61770b"),
                ..Record::default()
            }
        );
    }

    #[test]
    fn unescaped_text_borrows_from_the_line() {
        let mut unwrapper = Unwrapper::new();
        let Unwrapped::Line(Cow::Borrowed(line)) = unwrapper.feed(GATEWAY_CRI) else {
            panic!("a full CRI line borrows its payload");
        };
        let record = parsed(line);
        for field in [
            &record.method,
            &record.path,
            &record.host,
            &record.user_agent,
            &record.upstream_name,
            &record.upstream_addr,
            &record.request_id,
        ] {
            assert!(matches!(field, Some(Cow::Borrowed(_))), "{field:?}");
        }
    }

    #[test]
    fn envoy_gateway_direct_response_has_no_upstream() {
        let line = unwrapped(GATEWAY_REDIRECT_CRI);
        let record = parsed(&line);
        assert_eq!(record.status, Some(301));
        assert_eq!(record.client_ip, "192.168.1.45".parse().ok());
        assert_eq!(record.host, text("10.0.0.13"));
        assert_eq!(record.path, text("/"));
        assert_eq!(record.upstream_addr, None);
        assert_eq!(
            record.upstream_name,
            text("httproute/app/http-to-https-filter-redirect/rule/0/match/0/*")
        );
        assert_eq!(record.upstream_kind, UpstreamKind::EnvoyRoute);
        assert_eq!(record.request_time, Some(0.0));
        assert_eq!(record.proxy_flags, None);
        let probe = unwrapped(GATEWAY_PROBE_CRI);
        let probe = parsed(&probe);
        assert_eq!(probe.method, text("HEAD"));
        assert_eq!(probe.path, text("/.env"));
        assert_eq!(probe.status, Some(404));
        assert_eq!(probe.user_agent, text("curl/8.5.0"));
        assert_eq!(probe.time_us, rfc3339("2025-12-31T17:30:03.228Z"));
    }

    #[test]
    fn istio_json_with_quoted_numbers() {
        assert_eq!(
            parsed(ISTIO),
            Record {
                time_us: rfc3339("2026-02-24T10:30:45.123Z"),
                client_ip: "10.244.1.3".parse().ok(),
                method: text("GET"),
                path: text("/status/200"),
                query: text("delay=1"),
                protocol: text("HTTP/1.1"),
                status: Some(200),
                bytes_sent: Some(615),
                user_agent: text("curl/7.88.1"),
                host: text("httpbin.default"),
                upstream_name: text("inbound|8000||"),
                upstream_kind: UpstreamKind::EnvoyCluster,
                upstream_addr: text("10.244.1.5:8000"),
                request_time: Some(0.004),
                upstream_response_time: Some(Cow::Owned("0.003".to_owned())),
                request_id: text("a1b2c3d4-e5f6-7890"),
                ..Record::default()
            }
        );
    }

    #[test]
    fn istio_json_no_route_with_nulls() {
        assert_eq!(
            parsed(ISTIO_NO_ROUTE),
            Record {
                time_us: rfc3339("2026-02-24T10:31:00.000Z"),
                client_ip: "2001:db8::7".parse().ok(),
                method: text("GET"),
                path: text("/wp-login.php"),
                protocol: text("HTTP/1.1"),
                status: Some(404),
                bytes_sent: Some(0),
                user_agent: text("sqlmap/1.7"),
                host: text("unknown.example.com"),
                request_time: Some(0.0),
                request_id: text("0b60ced5-f525-45e5-9233-171eb33b7c95"),
                proxy_flags: text("NR"),
                ..Record::default()
            }
        );
    }

    #[test]
    fn contour_json_names_its_cluster() {
        assert_eq!(
            parsed(CONTOUR),
            Record {
                time_us: rfc3339("2021-04-14T16:36:00.361Z"),
                client_ip: "172.18.0.1".parse().ok(),
                method: text("POST"),
                path: text("/login"),
                query: text("next=%2F"),
                protocol: text("HTTP/1.1"),
                status: Some(401),
                bytes_sent: Some(463),
                user_agent: text("python-requests/2.31.0"),
                host: text("echo.example.com"),
                upstream_name: text("default/echo/80/da39a3ee5e"),
                upstream_kind: UpstreamKind::EnvoyCluster,
                upstream_addr: text("10.244.2.5:8080"),
                request_time: Some(0.006),
                upstream_response_time: Some(Cow::Owned("0.003".to_owned())),
                request_id: text("837aa8dc-344f-4faa-b7d5-c9cce1028519"),
                ..Record::default()
            }
        );
    }

    #[test]
    fn forwarded_for_stands_in_for_a_missing_peer() {
        let line = r#"{"start_time":"2026-02-24T10:31:00Z","response_code":0,"x-forwarded-for":"203.0.113.9,10.0.0.1","downstream_remote_address":null,"path":"/a\u0026b","user-agent":"say \"hi\""}"#;
        let record = parsed(line);
        assert_eq!(record.client_ip, "203.0.113.9".parse().ok());
        assert_eq!(record.status, Some(0));
        assert_eq!(record.path.as_deref(), Some("/a&b"));
        assert_eq!(record.user_agent.as_deref(), Some("say \"hi\""));
    }

    #[test]
    fn other_formats_and_unrelated_json_are_rejected() {
        for line in [
            "{}",
            r#"{"level":"info","msg":"starting envoy"}"#,
            r#"{"response_code":200}"#,
            r#"{"start_time":"2025-12-31T16:37:40.479Z","method":"GET"}"#,
            r#"{"start_time":"2025-12-31T16:37:40.479Z","response_code":"OK"}"#,
            r#"{"start_time":"2025-12-31T16:37:40.479Z","response_code":null}"#,
            // Traefik JSON, ingress-nginx JSON, GCP, and a CRI-wrapped line not unwrapped.
            r#"{"ClientAddr":"10.10.10.20:23456","DownstreamContentSize":19,"DownstreamStatus":404,"Duration":486767,"RequestMethod":"GET","RequestPath":"/foo/bar/baz.php","RouterName":"service-foo@kubernetescrd","StartUTC":"2024-02-02T17:07:08.048870614Z","time":"2024-02-02T17:07:08Z"}"#,
            r#"{"time": "2020-02-07T11:48:51+00:00", "remote_addr": "192.168.64.1", "status": 200, "path": "/products", "method": "POST"}"#,
            r#"{"httpRequest":{"requestMethod":"GET","status":304},"timestamp":"2020-06-08T23:41:30.078651Z"}"#,
            GATEWAY_CRI,
            // Truncated and invalid JSON.
            &ISTIO[..ISTIO.len() - 1],
            &ISTIO[..ISTIO.len() / 2],
            r#"{"start_time":"2025-12-31T16:37:40.479Z","response_code":200,"path":"/\x2e"}"#,
            r#"[2019-04-11T00:31:55.439Z] "GET /elastic HTTP/1.1" 404 NR 0 0 0 - "172.17.0.3" "curl/7.59.0" "58436667" "192.168.99.107:30901" "-""#,
        ] {
            assert!(parse(line, &mut TimeCache::new()).is_err(), "{line}");
        }
    }

    #[test]
    fn no_input_makes_it_panic() {
        let gateway = unwrapped(GATEWAY_CRI);
        assert_no_panic(parse, &[&gateway, ISTIO, ISTIO_NO_ROUTE, CONTOUR]);
    }
}
