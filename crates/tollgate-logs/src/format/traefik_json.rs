//! Traefik's JSON access log (`accessLog.format: json`), field names from Traefik's
//! `pkg/middlewares/accesslog/logdata.go`.
//!
//! Durations are nanoseconds. Headers appear as `request_<Name>` only when the user keeps them
//! (Traefik drops headers by default), so User-Agent and Referer are often absent. Traefik v1
//! lines (`FrontendName`, `BackendAddr`) share the request and status keys and are read too.

use std::borrow::Cow;

use crate::format::Malformed;
use crate::format::field_values::{
    first_forwarded, host_without_port, ip_maybe_port, path_and_query, project, seconds_text,
};
use crate::format::json_fields::{JsonValue, for_each_field};
use crate::record::{Record, UpstreamKind};
use crate::time::{TimeCache, rfc3339};

/// The fields this format reads, by meaning; each keeps the first set value of its keys.
#[derive(Default)]
struct Fields<'a> {
    start: Option<JsonValue<'a>>,
    log_time: Option<JsonValue<'a>>,
    client_host: Option<JsonValue<'a>>,
    client_addr: Option<JsonValue<'a>>,
    client_username: Option<JsonValue<'a>>,
    method: Option<JsonValue<'a>>,
    path: Option<JsonValue<'a>>,
    protocol: Option<JsonValue<'a>>,
    status: Option<JsonValue<'a>>,
    content_size: Option<JsonValue<'a>>,
    referer: Option<JsonValue<'a>>,
    user_agent: Option<JsonValue<'a>>,
    host: Option<JsonValue<'a>>,
    router: Option<JsonValue<'a>>,
    service_addr: Option<JsonValue<'a>>,
    origin_status: Option<JsonValue<'a>>,
    duration: Option<JsonValue<'a>>,
    origin_duration: Option<JsonValue<'a>>,
    trace_id: Option<JsonValue<'a>>,
}

impl<'a> Fields<'a> {
    /// The key table. `StartUTC` and `StartLocal` are the same instant (one has an offset);
    /// `time` is when the line was written, to the second, so it only stands in for them.
    fn slot(&mut self, key: &str) -> Option<&mut Option<JsonValue<'a>>> {
        Some(match key {
            "StartUTC" | "StartLocal" => &mut self.start,
            "time" => &mut self.log_time,
            "ClientHost" => &mut self.client_host,
            "ClientAddr" => &mut self.client_addr,
            "ClientUsername" => &mut self.client_username,
            "RequestMethod" => &mut self.method,
            "RequestPath" => &mut self.path,
            "RequestProtocol" => &mut self.protocol,
            "DownstreamStatus" => &mut self.status,
            "DownstreamContentSize" => &mut self.content_size,
            "request_Referer" => &mut self.referer,
            "request_User-Agent" => &mut self.user_agent,
            "RequestHost" | "RequestAddr" => &mut self.host,
            "RouterName" => &mut self.router,
            "ServiceAddr" | "BackendAddr" => &mut self.service_addr,
            "OriginStatus" => &mut self.origin_status,
            "Duration" => &mut self.duration,
            "OriginDuration" => &mut self.origin_duration,
            "TraceId" | "request_X-Request-Id" => &mut self.trace_id,
            _ => return None,
        })
    }
}

/// Parses one line.
pub(crate) fn parse<'a>(line: &'a str, _clock: &mut TimeCache) -> Result<Record<'a>, Malformed> {
    let mut fields = Fields::default();
    let mut traefik_key = false;
    for_each_field(line, |key, value| {
        traefik_key |= matches!(key, "RouterName" | "DownstreamStatus");
        if let Some(slot) = fields.slot(key)
            && slot.is_none_or(|held| held.is_unset())
        {
            *slot = Some(value);
        }
    })?;
    if !traefik_key {
        return Err(Malformed::new("no RouterName or DownstreamStatus key"));
    }
    let text = |value: Option<JsonValue<'a>>| value.and_then(JsonValue::text);
    let time_us = text(fields.start)
        .and_then(|time| rfc3339(&time))
        .or_else(|| text(fields.log_time).and_then(|time| rfc3339(&time)));
    // `ClientHost` is the `X-Forwarded-For` value when Traefik trusted one, else the peer.
    let client_ip = text(fields.client_host)
        .and_then(|host| first_forwarded(&host))
        .or_else(|| text(fields.client_addr).and_then(|addr| ip_maybe_port(&addr)));
    let [path, query] =
        text(fields.path).map_or([None, None], |path| project(path, path_and_query));
    let [host] = text(fields.host).map_or([None], |host| project(host, host_without_port));
    let upstream_name = text(fields.router);
    Ok(Record {
        time_us,
        client_ip,
        remote_user: text(fields.client_username),
        method: text(fields.method),
        path,
        query,
        protocol: text(fields.protocol),
        status: fields.status.and_then(JsonValue::status),
        bytes_sent: fields.content_size.and_then(JsonValue::u64),
        referer: text(fields.referer),
        user_agent: text(fields.user_agent),
        host,
        upstream_kind: if upstream_name.is_some() {
            UpstreamKind::TraefikRouter
        } else {
            UpstreamKind::None
        },
        upstream_name,
        upstream_addr: text(fields.service_addr),
        upstream_status: text(fields.origin_status),
        request_time: fields
            .duration
            .and_then(JsonValue::u64)
            .map(|ns| ns as f64 / 1e9),
        upstream_response_time: fields
            .origin_duration
            .and_then(JsonValue::u64)
            .map(|ns| Cow::Owned(seconds_text(ns, 9))),
        request_id: text(fields.trace_id),
        proxy_flags: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::field_values::tests::assert_no_panic;

    // elastic/integrations `packages/traefik/data_stream/access/_dev/test/pipeline/test-format-json.log`.
    /// Line 4: a Kubernetes CRD router with the User-Agent kept (the research notes' sample).
    const CRD: &str = r#"{"ClientAddr":"10.10.10.20:23456","DownstreamContentSize":19,"DownstreamStatus":404,"Duration":486767,"OriginContentSize":19,"OriginDuration":467360,"OriginStatus":404,"Overhead":19407,"RequestAddr":"10.10.10.11:12345","RequestContentSize":814,"RequestCount":583793,"RequestHost":"10.10.10.11","RequestMethod":"GET","RequestPath":"/foo/bar/baz.php","RequestPort":"-","RequestProtocol":"HTTP/1.1","RetryAttempts":0,"RouterName":"service-foo-0101010101010101@kubernetescrd","ServiceAddr":"10.10.10.40:1234","ServiceName":"service-foo-0120101010101@kubernetescrd","ServiceURL":{"Scheme":"http","Opaque":"","User":null,"Host":"10.10.10.60:5678","Path":"","RawPath":"","OmitHost":false,"ForceQuery":false,"RawQuery":"","Fragment":"","RawFragment":""},"StartLocal":"2024-02-02T17:07:08.048870614Z","downstream_Content-Type":"text/plain; charset=utf-8","entryPointName":"web","level":"info","msg":"","origin_Content-Type":"text/plain; charset=utf-8","request_User-Agent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10_1) AppleWebKit/123.36 (KHTML, like Gecko) Chrome/39.0.2171.95 Safari/537.36","time":"2024-02-02T17:07:08Z"}"#;
    /// Line 3: Traefik's own ping router.
    const PING: &str = r#"{"ClientAddr":"10.10.10.10:12345","ClientHost":"10.10.10.10","ClientPort":"12345","ClientUsername":"-","DownstreamContentSize":2,"DownstreamStatus":200,"Duration":24814,"OriginContentSize":2,"OriginDuration":12613,"OriginStatus":200,"Overhead":12201,"RequestAddr":"10.10.10.11:4567","RequestContentSize":0,"RequestCount":12345,"RequestHost":"10.10.10.11","RequestMethod":"GET","RequestPath":"/ping","RequestPort":"4567","RequestProtocol":"HTTP/1.1","RequestScheme":"http","RetryAttempts":0,"RouterName":"ping@internal","StartLocal":"2024-02-01T15:43:38.669746824Z","StartUTC":"2024-02-01T15:43:38.669746824Z","entryPointName":"ping","level":"info","msg":"","request_X-Forwarded-Host":"10.10.10.12:1234","time":"2024-02-01T15:43:38Z"}"#;
    /// Line 6: a forwarded client (`ClientHost` differs from `ClientAddr`), spaces after colons.
    const FORWARDED: &str = r#"{"ClientAddr": "10.10.8.105:48376","ClientHost": "175.16.199.10","ClientPort": "48376","ClientUsername": "-","DownstreamContentSize": 88,"DownstreamStatus": 200,"Duration": 59518533,"OriginContentSize": 88,"OriginDuration": 59428568,"OriginStatus": 200,"Overhead": 89965,"RequestAddr": "api-students.unpad.ac.id","RequestContentSize": 0,"RequestCount": 75,"RequestHost": "api-students.unpad.ac.id","RequestMethod": "GET","RequestPath": "/api/v1/study/140410210038/card/comment","RequestPort": "-","RequestProtocol": "HTTP/1.0","RequestScheme": "http","RetryAttempts": 0,"RouterName": "app-unpad-students-api-prod-app-unpad-students-api-api-students-unpad-ac-id-api@kubernetes","ServiceAddr": "10.1.25.243:80","ServiceName": "app-unpad-students-api-prod-app-unpad-students-api-80@kubernetes","ServiceURL": {"Scheme": "http","Opaque": "","User": null,"Host": "10.1.25.243:80","Path": "","RawPath": "","OmitHost": false,"ForceQuery": false,"RawQuery": "","Fragment": "","RawFragment": ""},"StartLocal": "2024-02-09T11:53:32.609696286Z","StartUTC": "2024-02-09T11:53:32.609696286Z","entryPointName": "web","level": "info","msg": "","time": "2024-02-09T11:53:32Z"}"#;
    /// Line 7: no router matched (no `RouterName`, no origin), IPv6 client.
    const NO_ROUTER: &str = r#"{"ClientAddr":"[::1]:56348","ClientHost":"::1","ClientPort":"56348","ClientUsername":"-","DownstreamContentSize":19,"DownstreamStatus":404,"Duration":32673,"Overhead":32673,"RequestAddr":"backend.elastic-package-service.docker.localhost","RequestContentSize":0,"RequestCount":27,"RequestHost":"backend.elastic-package-service.docker.localhost","RequestMethod":"GET","RequestPath":"/","RequestPort":"-","RequestProtocol":"HTTP/1.1","RequestScheme":"http","RetryAttempts":0,"StartLocal":"2024-04-15T13:26:33.80902715Z","StartUTC":"2024-04-15T13:26:33.80902715Z","level":"info","msg":"","time":"2024-04-15T13:26:33Z"}"#;
    /// Line 1: Traefik v1 (frontends and backends instead of routers).
    const V1: &str = r#"{"BackendAddr":"","BackendName":"Traefik","BackendURL":{"Scheme":"","Opaque":"","User":null,"Host":"","Path":"/","RawPath":"","ForceQuery":false,"RawQuery":"","Fragment":""},"ClientAddr":"127.0.0.1:48658","ClientHost":"127.0.0.1","ClientPort":"48658","ClientUsername":"-","DownstreamContentSize":19,"DownstreamStatus":404,"DownstreamStatusLine":"404 Not Found","Duration":40356,"FrontendName":"backend not found","OriginContentSize":19,"OriginDuration":4086,"OriginStatus":404,"OriginStatusLine":"404 Not Found","Overhead":36270,"RequestAddr":"backend.elastic-package-service.docker.localhost","RequestContentSize":0,"RequestCount":7,"RequestHost":"backend.elastic-package-service.docker.localhost","RequestLine":"GET / HTTP/1.1","RequestMethod":"GET","RequestPath":"/","RequestPort":"-","RequestProtocol":"HTTP/1.1","RetryAttempts":0,"StartLocal":"2021-03-16T18:56:54.735539596Z","StartUTC":"2021-03-16T18:56:54.735539596Z","downstream_Content-Type":"text/plain; charset=utf-8","downstream_X-Content-Type-Options":"nosniff","level":"info","msg":"","origin_Content-Type":"text/plain; charset=utf-8","origin_X-Content-Type-Options":"nosniff","request_Accept":"*/*","request_User-Agent":"curl/7.67.0","time":"2021-03-16T18:56:54Z"}"#;
    /// A query string, a port in the host, a user, a referer and a trace id (constructed).
    const QUERY: &str = r#"{"ClientAddr":"192.0.2.10:40000","ClientHost":"192.0.2.10","ClientUsername":"alice","DownstreamContentSize":"1024","DownstreamStatus":"302","Duration":1500000000,"OriginDuration":1250000000,"OriginStatus":302,"RequestHost":"shop.example.com:8443","RequestMethod":"GET","RequestPath":"/search?q=%27+OR+1%3D1--","RequestProtocol":"HTTP/2.0","RouterName":"shop-shop-web-abc123@kubernetes","ServiceAddr":"10.42.1.7:8080","StartUTC":"2025-03-01T10:00:00.5Z","TraceId":"4bf92f3577b34da6a3ce929d0e0e4736","request_Referer":"https://shop.example.com/","request_User-Agent":"Mozilla/5.0","time":"2025-03-01T10:00:02Z"}"#;

    fn parsed(line: &str) -> Record<'_> {
        parse(line, &mut TimeCache::new()).unwrap_or_else(|error| panic!("{error}: {line}"))
    }

    fn text(value: &str) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(value))
    }

    #[test]
    fn kubernetes_crd_router_line() {
        assert_eq!(
            parsed(CRD),
            Record {
                time_us: rfc3339("2024-02-02T17:07:08.048870614Z"),
                client_ip: "10.10.10.20".parse().ok(),
                method: text("GET"),
                path: text("/foo/bar/baz.php"),
                protocol: text("HTTP/1.1"),
                status: Some(404),
                bytes_sent: Some(19),
                user_agent: text(
                    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10_1) AppleWebKit/123.36 (KHTML, like Gecko) Chrome/39.0.2171.95 Safari/537.36"
                ),
                host: text("10.10.10.11"),
                upstream_name: text("service-foo-0101010101010101@kubernetescrd"),
                upstream_kind: UpstreamKind::TraefikRouter,
                upstream_addr: text("10.10.10.40:1234"),
                upstream_status: text("404"),
                request_time: Some(0.000486767),
                upstream_response_time: Some(Cow::Owned("0.00046736".to_owned())),
                ..Record::default()
            }
        );
    }

    #[test]
    fn text_and_numbers_borrow_from_the_line() {
        let record = parsed(CRD);
        for field in [
            &record.method,
            &record.path,
            &record.host,
            &record.user_agent,
            &record.upstream_name,
            &record.upstream_addr,
            &record.upstream_status,
        ] {
            assert!(matches!(field, Some(Cow::Borrowed(_))), "{field:?}");
        }
    }

    #[test]
    fn internal_router_line() {
        assert_eq!(
            parsed(PING),
            Record {
                time_us: rfc3339("2024-02-01T15:43:38.669746824Z"),
                client_ip: "10.10.10.10".parse().ok(),
                method: text("GET"),
                path: text("/ping"),
                protocol: text("HTTP/1.1"),
                status: Some(200),
                bytes_sent: Some(2),
                host: text("10.10.10.11"),
                upstream_name: text("ping@internal"),
                upstream_kind: UpstreamKind::TraefikRouter,
                upstream_status: text("200"),
                request_time: Some(0.000024814),
                upstream_response_time: Some(Cow::Owned("0.000012613".to_owned())),
                ..Record::default()
            }
        );
    }

    #[test]
    fn forwarded_client_host_wins_over_the_peer() {
        let record = parsed(FORWARDED);
        assert_eq!(record.client_ip, "175.16.199.10".parse().ok());
        assert_eq!(record.protocol, text("HTTP/1.0"));
        assert_eq!(record.host, text("api-students.unpad.ac.id"));
        assert_eq!(record.upstream_addr, text("10.1.25.243:80"));
        assert_eq!(record.request_time, Some(0.059518533));
        assert_eq!(
            record.upstream_response_time.as_deref(),
            Some("0.059428568")
        );
    }

    #[test]
    fn unrouted_requests_have_no_router_or_origin() {
        assert_eq!(
            parsed(NO_ROUTER),
            Record {
                time_us: rfc3339("2024-04-15T13:26:33.80902715Z"),
                client_ip: "::1".parse().ok(),
                method: text("GET"),
                path: text("/"),
                protocol: text("HTTP/1.1"),
                status: Some(404),
                bytes_sent: Some(19),
                host: text("backend.elastic-package-service.docker.localhost"),
                request_time: Some(0.000032673),
                ..Record::default()
            }
        );
    }

    #[test]
    fn traefik_v1_lines_are_read() {
        let record = parsed(V1);
        assert_eq!(record.status, Some(404));
        assert_eq!(record.upstream_name, None);
        assert_eq!(record.upstream_addr, None);
        assert_eq!(record.upstream_status, text("404"));
        assert_eq!(record.user_agent, text("curl/7.67.0"));
        assert_eq!(record.remote_user, None);
        assert_eq!(record.client_ip, "127.0.0.1".parse().ok());
        assert_eq!(record.time_us, rfc3339("2021-03-16T18:56:54.735539596Z"));
    }

    #[test]
    fn query_port_user_and_quoted_numbers() {
        assert_eq!(
            parsed(QUERY),
            Record {
                time_us: rfc3339("2025-03-01T10:00:00.5Z"),
                client_ip: "192.0.2.10".parse().ok(),
                remote_user: text("alice"),
                method: text("GET"),
                path: text("/search"),
                query: text("q=%27+OR+1%3D1--"),
                protocol: text("HTTP/2.0"),
                status: Some(302),
                bytes_sent: Some(1024),
                referer: text("https://shop.example.com/"),
                user_agent: text("Mozilla/5.0"),
                host: text("shop.example.com"),
                upstream_name: text("shop-shop-web-abc123@kubernetes"),
                upstream_kind: UpstreamKind::TraefikRouter,
                upstream_addr: text("10.42.1.7:8080"),
                upstream_status: text("302"),
                request_time: Some(1.5),
                upstream_response_time: Some(Cow::Owned("1.250".to_owned())),
                request_id: text("4bf92f3577b34da6a3ce929d0e0e4736"),
                ..Record::default()
            }
        );
    }

    #[test]
    fn the_log_time_stands_in_for_a_missing_start() {
        let record = parsed(r#"{"DownstreamStatus":200,"time":"2024-02-02T17:07:08Z"}"#);
        assert_eq!(record.time_us, rfc3339("2024-02-02T17:07:08Z"));
        assert_eq!(record.status, Some(200));
    }

    #[test]
    fn other_formats_and_unrelated_json_are_rejected() {
        for line in [
            "{}",
            r#"{"level":"info","msg":"Configuration loaded","time":"2024-02-02T17:07:08Z"}"#,
            r#"{"RequestMethod":"GET","RequestPath":"/","time":"2024-02-02T17:07:08Z"}"#,
            r#"{":authority":"www.example.com","bytes_sent":121258,"duration":11,"method":"GET","response_code":200,"route_name":"httproute/app/app-www-example-com/rule/0/match/0/www_example_com","start_time":"2025-12-31T16:37:40.479Z"}"#,
            r#"{"time": "2020-02-07T11:48:51+00:00", "remote_addr": "192.168.64.1", "status": 200, "path": "/products"}"#,
            r#"{"httpRequest":{"requestMethod":"GET","status":304},"timestamp":"2020-06-08T23:41:30.078651Z"}"#,
            &CRD[..CRD.len() - 2],
            &CRD[..100],
            r#"{"DownstreamStatus":200,"RequestPath":"/\xff"}"#,
            r#"192.168.33.1 - - [02/Oct/2017:20:22:07 +0000] "GET /ui/favicons/favicon-16x16.png HTTP/1.1" 304 0 "http://example.com/login" "Mozilla/5.0" 262 "Host-host-1" "http://172.19.0.3:5601" 2ms"#,
        ] {
            assert!(parse(line, &mut TimeCache::new()).is_err(), "{line}");
        }
    }

    #[test]
    fn no_input_makes_it_panic() {
        assert_no_panic(parse, &[CRD, PING, FORWARDED, NO_ROUTER, V1, QUERY]);
    }
}
