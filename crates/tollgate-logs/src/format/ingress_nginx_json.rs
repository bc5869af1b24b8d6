//! The JSON lines ingress-nginx users configure with `log-format-upstream` and
//! `log-format-escape-json: "true"`: the keys of the documented example (`time`, `remote_addr`,
//! `x_forwarded_for`, `request_id`, `remote_user`, `bytes_sent`, `request_time`, `status`,
//! `vhost`, `request_proto`, `path`, `request_query`, `request_length`, `method`,
//! `http_referrer`, `http_user_agent`) and the names common variants give the same variables.
//!
//! Three habits of these templates shape the reader. With `escape=json` nginx writes unset
//! variables as `""`, so empty strings are unset. Templates leave some variables unquoted
//! (`"status": $status`) and quote others, so numbers are read from numbers and strings alike;
//! the upstream variables are lists after retries (`"0.001, 0.002"`). And a template without
//! `escape=json` writes `\xNN` escapes, which are not JSON: those lines are malformed.
//!
//! Arbitrary JSON must not pass for this format (it is tried before the other JSON formats), so a
//! line needs a `status` and a time or request key.

use crate::format::Malformed;
use crate::format::field_values::{
    host_without_port, ip_maybe_port, last_forwarded, path_and_query, project,
};
use crate::format::json_fields::{JsonValue, for_each_field, number_or_list_sum};
use crate::format::tokens::split_request;
use crate::record::{Record, UpstreamKind};
use crate::time::{TimeCache, rfc3339};

/// The fields this format reads, by meaning; each keeps the first set value of its keys.
#[derive(Default)]
struct Fields<'a> {
    time: Option<JsonValue<'a>>,
    time_local: Option<JsonValue<'a>>,
    msec: Option<JsonValue<'a>>,
    client: Option<JsonValue<'a>>,
    forwarded_for: Option<JsonValue<'a>>,
    remote_user: Option<JsonValue<'a>>,
    request: Option<JsonValue<'a>>,
    method: Option<JsonValue<'a>>,
    request_uri: Option<JsonValue<'a>>,
    path: Option<JsonValue<'a>>,
    query: Option<JsonValue<'a>>,
    protocol: Option<JsonValue<'a>>,
    status: Option<JsonValue<'a>>,
    bytes_sent: Option<JsonValue<'a>>,
    referer: Option<JsonValue<'a>>,
    user_agent: Option<JsonValue<'a>>,
    host: Option<JsonValue<'a>>,
    upstream_name: Option<JsonValue<'a>>,
    upstream_addr: Option<JsonValue<'a>>,
    upstream_status: Option<JsonValue<'a>>,
    request_time: Option<JsonValue<'a>>,
    upstream_response_time: Option<JsonValue<'a>>,
    request_id: Option<JsonValue<'a>>,
}

impl<'a> Fields<'a> {
    /// The key table: the documented example's names first, then the variants' names for the
    /// same variable. `request_uri` (the target as sent, with its query) is kept apart from
    /// `path` (`$uri`, normalized, no query) because templates often log both.
    fn slot(&mut self, key: &str) -> Option<&mut Option<JsonValue<'a>>> {
        Some(match key {
            "time" | "time_iso8601" | "timestamp" | "@timestamp" => &mut self.time,
            "time_local" => &mut self.time_local,
            "msec" => &mut self.msec,
            "remote_addr" | "client_ip" | "clientip" | "remote_ip" | "real_ip" => &mut self.client,
            "x_forwarded_for" | "http_x_forwarded_for" | "proxy_add_x_forwarded_for" => {
                &mut self.forwarded_for
            }
            "remote_user" => &mut self.remote_user,
            "request" => &mut self.request,
            "method" | "request_method" => &mut self.method,
            "request_uri" | "url" => &mut self.request_uri,
            "path" | "uri" => &mut self.path,
            "request_query" | "query_string" | "args" | "query" => &mut self.query,
            "request_proto" | "server_protocol" | "protocol" => &mut self.protocol,
            "status" | "status_code" => &mut self.status,
            "bytes_sent" | "body_bytes_sent" => &mut self.bytes_sent,
            "http_referrer" | "http_referer" | "referer" | "referrer" => &mut self.referer,
            "http_user_agent" | "user_agent" | "agent" => &mut self.user_agent,
            "vhost" | "host" | "http_host" => &mut self.host,
            "proxy_upstream_name" | "upstream_name" => &mut self.upstream_name,
            "upstream_addr" | "upstream" => &mut self.upstream_addr,
            "upstream_status" => &mut self.upstream_status,
            "request_time" | "duration" => &mut self.request_time,
            "upstream_response_time" => &mut self.upstream_response_time,
            "request_id" | "req_id" | "x_request_id" => &mut self.request_id,
            _ => return None,
        })
    }

    /// Whether the line names when or what was requested: with `status`, what tells an
    /// access log from other JSON.
    fn has_time_or_request(&self) -> bool {
        [
            self.time,
            self.time_local,
            self.msec,
            self.request,
            self.request_uri,
            self.path,
        ]
        .iter()
        .any(Option::is_some)
    }
}

/// Parses one line.
pub(crate) fn parse<'a>(line: &'a str, clock: &mut TimeCache) -> Result<Record<'a>, Malformed> {
    let mut fields = Fields::default();
    for_each_field(line, |key, value| {
        if let Some(slot) = fields.slot(key)
            && slot.is_none_or(|held| held.is_unset())
        {
            *slot = Some(value);
        }
    })?;
    let status = fields
        .status
        .ok_or(Malformed::new("no status key"))?
        .status()
        .ok_or(Malformed::new("status is not a number"))?;
    if !fields.has_time_or_request() {
        return Err(Malformed::new("no time or request key"));
    }
    let text = |value: Option<JsonValue<'a>>| value.and_then(JsonValue::text);

    let time_us = text(fields.time)
        .and_then(|time| rfc3339(&time))
        .or_else(|| text(fields.time_local).and_then(|time| clock.clf(&time)))
        .or_else(|| {
            let seconds = fields.msec.and_then(JsonValue::f64)?;
            Some((seconds * 1e6) as i64)
        });

    // The example logs `$proxy_add_x_forwarded_for` as `x_forwarded_for`: the incoming header
    // with `$remote_addr` appended, so its last item is the peer nginx saw.
    let client_ip = text(fields.client)
        .and_then(|client| ip_maybe_port(&client))
        .or_else(|| text(fields.forwarded_for).and_then(|list| last_forwarded(&list)));

    // `$request` ("GET /x?y HTTP/1.1") fills in what the separate keys left out.
    let [line_method, line_path, line_query, line_protocol] = text(fields.request)
        .map_or([None, None, None, None], |request| {
            project(request, request_parts)
        });
    let [path, query] = match text(fields.request_uri).or_else(|| text(fields.path)) {
        Some(target) => {
            let [path, split_query] = project(target, path_and_query);
            [path, split_query.or_else(|| text(fields.query))]
        }
        None => [line_path, line_query.or_else(|| text(fields.query))],
    };
    let [host] = text(fields.host).map_or([None], |host| project(host, host_without_port));
    let upstream_name = text(fields.upstream_name);

    Ok(Record {
        time_us,
        client_ip,
        remote_user: text(fields.remote_user),
        method: text(fields.method).or(line_method),
        path,
        query,
        protocol: text(fields.protocol).or(line_protocol),
        status: Some(status),
        bytes_sent: fields.bytes_sent.and_then(JsonValue::u64),
        referer: text(fields.referer),
        user_agent: text(fields.user_agent),
        host,
        upstream_kind: if upstream_name.is_some() {
            UpstreamKind::IngressNginx
        } else {
            UpstreamKind::None
        },
        upstream_name,
        upstream_addr: text(fields.upstream_addr),
        upstream_status: text(fields.upstream_status),
        request_time: text(fields.request_time).and_then(|time| number_or_list_sum(&time)),
        upstream_response_time: text(fields.upstream_response_time),
        request_id: text(fields.request_id),
        proxy_flags: None,
    })
}

/// `$request` into method, path, query and protocol.
fn request_parts(request: &str) -> [Option<&str>; 4] {
    let parts = split_request(request);
    [parts.method, parts.path, parts.query, parts.protocol]
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::format::field_values::tests::assert_no_panic;

    /// The research notes' line for the documented example (constructed from the format).
    const EXAMPLE: &str = r#"{"time": "2020-02-07T11:48:51+00:00", "remote_addr": "192.168.64.1", "x_forwarded_for": "192.168.64.1", "request_id": "529a007902362a5f51385a5fa7049884", "remote_user": "", "bytes_sent": 312, "request_time": 0.001, "status": 200, "vhost": "hello-world.info", "request_proto": "HTTP/1.1", "path": "/products", "request_query": "", "request_length": 89, "method": "POST", "http_referrer": "", "http_user_agent": "curl/7.54.0"}"#;
    /// The documented example without PROXY protocol (`$proxy_protocol_addr` empty), a query,
    /// and every number quoted (constructed).
    const QUOTED_NUMBERS: &str = r#"{"time": "2024-05-01T08:00:00+02:00", "remote_addr": "", "x_forwarded_for": "203.0.113.50, 10.0.0.3", "request_id": "3db73c6c673c4256ade033a6ce08c2ab", "remote_user": "bob", "bytes_sent": "552", "request_time": "0.250", "status": "404", "vhost": "shop.example.com:8443", "request_proto": "HTTP/2.0", "path": "/.git/config", "request_query": "ref=main", "request_length": "27", "method": "GET", "http_referrer": "https://localhost:8080/", "http_user_agent": "Mozilla/5.0 \"quoted\""}"#;
    /// A variant with the upstream variables, retried upstreams as lists, `request_uri` with a
    /// query beside `$uri`, and a `host` key (constructed, after the Alibaba SLS field set).
    const UPSTREAMS: &str = r#"{"@timestamp":"2022-08-24T18:05:41+00:00","client_ip":"2a02:cf40::4e36","host":"localhost","request_uri":"/favicon.ico?v=2","uri":"/favicon.ico","method":"GET","status":502,"body_bytes_sent":552,"request_time":"0.000, 1.000","upstream_addr":"[2a02:cf40::7]:5000, [2a02:cf40::4e36]:5000","upstream_status":"502, 403","upstream_response_time":"0.000, 1.000","proxy_upstream_name":"localhost-8080","request_id":"3db73c6c673c4256ade033a6ce08c2ab","http_user_agent":"curl/8.4.0"}"#;
    /// `$request` instead of separate keys, the local time, upstream numbers unquoted
    /// (constructed).
    const REQUEST_LINE: &str = r#"{"time_local":"07/Feb/2020:11:48:51 +0000","remote_addr":"192.168.64.1","request":"GET /search?q=1%27 HTTP/1.1","status":200,"bytes_sent":59,"upstream_status":200,"upstream_response_time":0.004,"proxy_upstream_name":"default-web-8080","upstream_addr":"172.17.0.5:8080"}"#;

    fn parsed(line: &str) -> Record<'_> {
        parse(line, &mut TimeCache::new()).unwrap_or_else(|error| panic!("{error}: {line}"))
    }

    fn text(value: &str) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(value))
    }

    #[test]
    fn documented_example() {
        assert_eq!(
            parsed(EXAMPLE),
            Record {
                time_us: rfc3339("2020-02-07T11:48:51+00:00"),
                client_ip: "192.168.64.1".parse().ok(),
                method: text("POST"),
                path: text("/products"),
                protocol: text("HTTP/1.1"),
                status: Some(200),
                bytes_sent: Some(312),
                user_agent: text("curl/7.54.0"),
                host: text("hello-world.info"),
                request_time: Some(0.001),
                request_id: text("529a007902362a5f51385a5fa7049884"),
                ..Record::default()
            }
        );
    }

    #[test]
    fn quoted_numbers_and_an_empty_remote_addr() {
        assert_eq!(
            parsed(QUOTED_NUMBERS),
            Record {
                time_us: rfc3339("2024-05-01T06:00:00Z"),
                client_ip: "10.0.0.3".parse().ok(),
                remote_user: text("bob"),
                method: text("GET"),
                path: text("/.git/config"),
                query: text("ref=main"),
                protocol: text("HTTP/2.0"),
                status: Some(404),
                bytes_sent: Some(552),
                referer: text("https://localhost:8080/"),
                user_agent: Some(Cow::Owned("Mozilla/5.0 \"quoted\"".to_owned())),
                host: text("shop.example.com"),
                request_time: Some(0.25),
                request_id: text("3db73c6c673c4256ade033a6ce08c2ab"),
                ..Record::default()
            }
        );
    }

    #[test]
    fn upstream_lists_and_request_uri() {
        assert_eq!(
            parsed(UPSTREAMS),
            Record {
                time_us: rfc3339("2022-08-24T18:05:41+00:00"),
                client_ip: "2a02:cf40::4e36".parse().ok(),
                method: text("GET"),
                path: text("/favicon.ico"),
                query: text("v=2"),
                status: Some(502),
                bytes_sent: Some(552),
                user_agent: text("curl/8.4.0"),
                host: text("localhost"),
                upstream_name: text("localhost-8080"),
                upstream_kind: UpstreamKind::IngressNginx,
                upstream_addr: text("[2a02:cf40::7]:5000, [2a02:cf40::4e36]:5000"),
                upstream_status: text("502, 403"),
                request_time: Some(1.0),
                upstream_response_time: text("0.000, 1.000"),
                request_id: text("3db73c6c673c4256ade033a6ce08c2ab"),
                ..Record::default()
            }
        );
    }

    #[test]
    fn request_line_and_local_time() {
        assert_eq!(
            parsed(REQUEST_LINE),
            Record {
                time_us: rfc3339("2020-02-07T11:48:51Z"),
                client_ip: "192.168.64.1".parse().ok(),
                method: text("GET"),
                path: text("/search"),
                query: text("q=1%27"),
                protocol: text("HTTP/1.1"),
                status: Some(200),
                bytes_sent: Some(59),
                upstream_name: text("default-web-8080"),
                upstream_kind: UpstreamKind::IngressNginx,
                upstream_addr: text("172.17.0.5:8080"),
                upstream_status: text("200"),
                upstream_response_time: text("0.004"),
                ..Record::default()
            }
        );
    }

    #[test]
    fn empty_strings_and_nulls_are_unset() {
        let record = parsed(
            r#"{"time":"","path":"/","status":200,"remote_addr":"","remote_user":"","vhost":"","proxy_upstream_name":"","upstream_addr":null,"request_time":"","http_user_agent":"-"}"#,
        );
        assert_eq!(
            record,
            Record {
                path: text("/"),
                status: Some(200),
                ..Record::default()
            }
        );
    }

    #[test]
    fn a_later_alias_fills_an_empty_earlier_one() {
        let record = parsed(
            r#"{"time":"2020-02-07T11:48:51Z","status":200,"remote_addr":"","client_ip":"198.51.100.7","vhost":"","host":"a.example"}"#,
        );
        assert_eq!(record.client_ip, "198.51.100.7".parse().ok());
        assert_eq!(record.host, text("a.example"));
    }

    #[test]
    fn lines_without_escape_json_are_malformed() {
        let line = r#"{"time": "2020-02-07T11:48:51+00:00", "status": 200, "path": "/a", "http_user_agent": "Mozilla \x22quoted\x22"}"#;
        assert_eq!(
            parse(line, &mut TimeCache::new()),
            Err(Malformed::new("not a valid JSON object"))
        );
        let unquoted_dash = r#"{"time": "2020-02-07T11:48:51+00:00", "status": 200, "path": "/a", "upstream_response_time": -}"#;
        assert!(parse(unquoted_dash, &mut TimeCache::new()).is_err());
    }

    #[test]
    fn other_formats_and_unrelated_json_are_rejected() {
        for line in [
            "{}",
            r#"{"status":200}"#,
            r#"{"time":"2020-02-07T11:48:51+00:00","path":"/"}"#,
            r#"{"time":"2020-02-07T11:48:51+00:00","path":"/","status":"ok"}"#,
            r#"{"level":"info","msg":"status ok","time":"2020-02-07T11:48:51+00:00"}"#,
            r#"{"status":"healthy","checks":{"db":"up"}}"#,
            r#"[{"status":200,"path":"/"}]"#,
            // Traefik JSON, Envoy JSON (Gateway, Istio, Contour), GCP.
            r#"{"ClientAddr":"10.10.10.20:23456","DownstreamContentSize":19,"DownstreamStatus":404,"RequestMethod":"GET","RequestPath":"/foo/bar/baz.php","RouterName":"service-foo@kubernetescrd","time":"2024-02-02T17:07:08Z"}"#,
            r#"{":authority":"www.example.com","method":"GET","response_code":200,"start_time":"2025-12-31T16:37:40.479Z","x-envoy-origin-path":"/assets/image.webp"}"#,
            r#"{"authority":"httpbin.default:8000","method":"GET","path":"/status/200","response_code":"200","start_time":"2026-02-24T10:30:45.123Z"}"#,
            r#"{"@timestamp":"2021-04-14T16:36:00.361Z","authority":"echo.example.com","path":"/login","response_code":401}"#,
            r#"{"httpRequest":{"requestMethod":"GET","requestUrl":"http://81.2.69.193/static/us/three-cats.jpg","status":304},"timestamp":"2020-06-08T23:41:30.078651Z"}"#,
            // Truncated.
            &EXAMPLE[..EXAMPLE.len() - 1],
            &EXAMPLE[..EXAMPLE.len() / 2],
        ] {
            assert!(parse(line, &mut TimeCache::new()).is_err(), "{line}");
        }
    }

    #[test]
    fn no_input_makes_it_panic() {
        assert_no_panic(parse, &[EXAMPLE, QUOTED_NUMBERS, UPSTREAMS, REQUEST_LINE]);
    }
}
