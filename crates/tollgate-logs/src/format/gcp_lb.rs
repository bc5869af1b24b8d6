//! Google Cloud external HTTP(S) load balancer request logs (GKE Ingresses of class `gce`), as
//! Cloud Logging exports them: one `LogEntry` per line with the standard `httpRequest` object,
//! `resource.labels` naming the backend service, and the load balancer's verdict in
//! `jsonPayload.statusDetails`.
//!
//! `requestUrl` is absolute (it gives the host), `responseSize` is a string (Cloud Logging writes
//! 64-bit integers as strings), `latency` is a duration like `"0.123s"`, and `remoteIp` may
//! carry a port.

use crate::format::Malformed;
use crate::format::field_values::{host_path_and_query, ip_maybe_port, project};
use crate::format::json_fields::{JsonValue, for_each_field};
use crate::record::{Record, Text, UpstreamKind};
use crate::time::{TimeCache, rfc3339};

/// Parses one line.
pub(crate) fn parse<'a>(line: &'a str, _clock: &mut TimeCache) -> Result<Record<'a>, Malformed> {
    let mut http_request = None;
    let mut resource = None;
    let mut json_payload = None;
    let mut timestamp = None;
    let mut trace = None;
    for_each_field(line, |key, value| match key {
        "httpRequest" => http_request = Some(value),
        "resource" => resource = value.object(),
        "jsonPayload" => json_payload = value.object(),
        "timestamp" => timestamp = Some(value),
        "trace" => trace = Some(value),
        _ => {}
    })?;
    let http_request = http_request
        .ok_or(Malformed::new("no httpRequest key"))?
        .object()
        .ok_or(Malformed::new("httpRequest is not an object"))?;

    let mut record = Record::default();
    let mut url = None;
    let mut latency = None;
    for_each_field(http_request, |key, value| {
        let text = || value.text();
        match key {
            "requestMethod" => record.method = text(),
            "requestUrl" => url = text(),
            "status" => record.status = value.status(),
            "responseSize" => record.bytes_sent = value.u64(),
            "userAgent" => record.user_agent = text(),
            "remoteIp" => record.client_ip = text().and_then(|ip| ip_maybe_port(&ip)),
            "referer" => record.referer = text(),
            "latency" => latency = text(),
            "protocol" => record.protocol = text(),
            "serverIp" => record.upstream_addr = text(),
            _ => {}
        }
    })?;
    if let Some(url) = url {
        [record.host, record.path, record.query] = project(url, host_path_and_query);
    }
    record.request_time = latency.and_then(|latency| seconds(&latency));
    record.time_us = timestamp
        .and_then(JsonValue::text)
        .and_then(|time| rfc3339(&time));
    record.request_id = trace.and_then(JsonValue::text).map(|trace| {
        let [id] = project(trace, trace_id);
        id.unwrap_or_default()
    });
    record.upstream_name = resource.and_then(backend_service);
    if record.upstream_name.is_some() {
        record.upstream_kind = UpstreamKind::GcpBackendService;
    }
    record.proxy_flags = json_payload.and_then(|payload| {
        let mut details = None;
        for_each_field(payload, |key, value| {
            if key == "statusDetails" {
                details = value.text();
            }
        })
        .ok()?;
        details
    });
    Ok(record)
}

/// `resource.labels.backend_service_name`, `None` when empty (the load balancer answered itself
/// or the entry predates the label).
fn backend_service(resource: &str) -> Option<Text<'_>> {
    let mut labels = None;
    for_each_field(resource, |key, value| {
        if key == "labels" {
            labels = value.object();
        }
    })
    .ok()?;
    let mut name = None;
    for_each_field(labels?, |key, value| {
        if key == "backend_service_name" {
            name = value.text();
        }
    })
    .ok()?;
    name
}

/// A protobuf duration (`"0.123s"`) in seconds.
fn seconds(latency: &str) -> Option<f64> {
    latency
        .strip_suffix('s')?
        .parse::<f64>()
        .ok()
        .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
}

/// `projects/<project>/traces/<id>` → `<id>`: the id is what the backend saw as its trace header.
fn trace_id(trace: &str) -> [Option<&str>; 1] {
    [Some(
        trace.rsplit_once("/traces/").map_or(trace, |(_, id)| id),
    )]
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::format::field_values::tests::assert_no_panic;

    // elastic/integrations `packages/gcp/data_stream/loadbalancing_logs/_dev/test/pipeline/test-load-balancer.log`.
    const CACHED: &str = r#"{"insertId":"1oek5rg3l3fxj7","jsonPayload":{"@type":"type.googleapis.com/google.cloud.loadbalancin,g.type.LoadBalancerLogEntry","cacheId":"SFO-fbae48ad","statusDetails":"response_from_cache"},"httpRequest":{"requestMethod":"GET","requestUrl":"http://81.2.69.193/static/us/three-cats.jpg","requestSize":"577","status":304,"responseSize":"157","userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/83.0.4103.61 Safari/537.36","remoteIp":"89.160.20.156","cacheHit":true,"cacheLookup":true},"resource":{"type":"http_load_balancer","labels":{"zone":"global","url_map_name":"URL_MAP_NAME","forwarding_rule_name":"FORWARDING_RULE_NAME","target_proxy_name":"TARGET_PROXY_NAME","backend_service_name":"","project_id":"PROJECT_ID"}},"timestamp":"2020-06-08T23:41:30.078651Z","severity":"INFO","logName":"projects/PROJECT_ID/logs/requests","trace":"projects/PROJECT_ID/traces/241d69833e64b3bf83fabac8c873d992","receiveTimestamp":"2020-06-08T23:41:30.588272510Z","spanId":"7b6537d3672e08e1"}"#;
    const CACHED_HOST: &str = r#"{"insertId":"1oek5rg3l3fxj7","jsonPayload":{"@type":"type.googleapis.com/google.cloud.loadbalancin,g.type.LoadBalancerLogEntry","cacheId":"SFO-fbae48ad","statusDetails":"response_from_cache"},"httpRequest":{"requestMethod":"GET","requestUrl":"http://pictures.example.com/static/us/three-cats.jpg","requestSize":"577","status":304,"responseSize":"157","userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/83.0.4103.61 Safari/537.36","remoteIp":"89.160.20.156","cacheHit":true,"cacheLookup":true},"resource":{"type":"http_load_balancer","labels":{"zone":"global","url_map_name":"URL_MAP_NAME","forwarding_rule_name":"FORWARDING_RULE_NAME","target_proxy_name":"TARGET_PROXY_NAME","backend_service_name":"","project_id":"PROJECT_ID"}},"timestamp":"2020-06-08T23:41:30.078651Z","severity":"INFO","logName":"projects/PROJECT_ID/logs/requests","trace":"projects/PROJECT_ID/traces/241d69833e64b3bf83fabac8c873d992","receiveTimestamp":"2020-06-08T23:41:30.588272510Z","spanId":"7b6537d3672e08e1"}"#;
    /// Line 3, the research notes' sample: ports on the client and server, a referer.
    const PORTS: &str = r#"{"insertId":"1oek5rg3l3fxj7","jsonPayload":{"@type":"type.googleapis.com/google.cloud.loadbalancin,g.type.LoadBalancerLogEntry","cacheId":"SFO-fbae48ad","statusDetails":"response_from_cache"},"httpRequest":{"requestMethod":"GET","requestUrl":"http://81.2.69.193:8080/static/us/three-cats.jpg","requestSize":"577","status":304,"responseSize":"157","userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/83.0.4103.61 Safari/537.36","remoteIp":"89.160.20.156:9989","cacheHit":true,"cacheLookup":true,"serverIp":"10.5.3.1:9090","protocol":"HTTP/2.0","referer":"https://developer.mozilla.org/en-US/docs/Web/JavaScript"},"resource":{"type":"http_load_balancer","labels":{"zone":"global","url_map_name":"URL_MAP_NAME","forwarding_rule_name":"FORWARDING_RULE_NAME","target_proxy_name":"TARGET_PROXY_NAME","backend_service_name":"","project_id":"PROJECT_ID"}},"timestamp":"2020-06-08T23:41:30.078651Z","severity":"INFO","logName":"projects/PROJECT_ID/logs/requests","trace":"projects/PROJECT_ID/traces/241d69833e64b3bf83fabac8c873d992","receiveTimestamp":"2020-06-08T23:41:30.588272510Z","spanId":"7b6537d3672e08e1"}"#;
    /// A GKE Ingress backend with a latency, a query with an escaped `&`, an IPv6 client
    /// (constructed from the LogEntry fields in the research notes §1.8).
    const GKE: &str = r#"{"httpRequest":{"latency":"0.081234s","protocol":"HTTP/1.1","remoteIp":"2001:db8::5","requestMethod":"POST","requestSize":"1024","requestUrl":"https://shop.example.com/api/cart?item=7\u0026qty=2","responseSize":"2088","serverIp":"10.8.0.12","status":201,"userAgent":"okhttp/4.12.0"},"insertId":"w5k2c9f1a3b7d","jsonPayload":{"@type":"type.googleapis.com/google.cloud.loadbalancing.type.LoadBalancerLogEntry","backendTargetProjectNumber":"projects/123456789012","statusDetails":"response_sent_by_backend"},"logName":"projects/shop-prod/logs/requests","receiveTimestamp":"2025-03-01T10:00:01.2Z","resource":{"labels":{"backend_service_name":"k8s1-2f9a3c1d-shop-web-80-7b1e5d2a","forwarding_rule_name":"k8s2-fr-abc123-shop-web-xyz","project_id":"shop-prod","target_proxy_name":"k8s2-ts-abc123-shop-web-xyz","url_map_name":"k8s2-um-abc123-shop-web-xyz","zone":"global"},"type":"http_load_balancer"},"severity":"INFO","spanId":"a1b2c3d4e5f60718","timestamp":"2025-03-01T10:00:00.918Z","trace":"projects/shop-prod/traces/4bf92f3577b34da6a3ce929d0e0e4736"}"#;

    fn parsed(line: &str) -> Record<'_> {
        parse(line, &mut TimeCache::new()).unwrap_or_else(|error| panic!("{error}: {line}"))
    }

    fn text(value: &str) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(value))
    }

    #[test]
    fn cached_response_without_a_backend() {
        assert_eq!(
            parsed(CACHED),
            Record {
                time_us: rfc3339("2020-06-08T23:41:30.078651Z"),
                client_ip: "89.160.20.156".parse().ok(),
                method: text("GET"),
                path: text("/static/us/three-cats.jpg"),
                status: Some(304),
                bytes_sent: Some(157),
                user_agent: text(
                    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/83.0.4103.61 Safari/537.36"
                ),
                host: text("81.2.69.193"),
                request_id: text("241d69833e64b3bf83fabac8c873d992"),
                proxy_flags: text("response_from_cache"),
                ..Record::default()
            }
        );
        assert_eq!(parsed(CACHED_HOST).host, text("pictures.example.com"));
    }

    #[test]
    fn ports_are_stripped_and_the_server_kept() {
        assert_eq!(
            parsed(PORTS),
            Record {
                time_us: rfc3339("2020-06-08T23:41:30.078651Z"),
                client_ip: "89.160.20.156".parse().ok(),
                method: text("GET"),
                path: text("/static/us/three-cats.jpg"),
                protocol: text("HTTP/2.0"),
                status: Some(304),
                bytes_sent: Some(157),
                referer: text("https://developer.mozilla.org/en-US/docs/Web/JavaScript"),
                user_agent: text(
                    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/83.0.4103.61 Safari/537.36"
                ),
                host: text("81.2.69.193"),
                upstream_addr: text("10.5.3.1:9090"),
                request_id: text("241d69833e64b3bf83fabac8c873d992"),
                proxy_flags: text("response_from_cache"),
                ..Record::default()
            }
        );
    }

    #[test]
    fn gke_backend_service_and_latency() {
        assert_eq!(
            parsed(GKE),
            Record {
                time_us: rfc3339("2025-03-01T10:00:00.918Z"),
                client_ip: "2001:db8::5".parse().ok(),
                method: text("POST"),
                path: Some(Cow::Owned("/api/cart".to_owned())),
                query: Some(Cow::Owned("item=7&qty=2".to_owned())),
                protocol: text("HTTP/1.1"),
                status: Some(201),
                bytes_sent: Some(2088),
                user_agent: text("okhttp/4.12.0"),
                host: Some(Cow::Owned("shop.example.com".to_owned())),
                upstream_name: text("k8s1-2f9a3c1d-shop-web-80-7b1e5d2a"),
                upstream_kind: UpstreamKind::GcpBackendService,
                upstream_addr: text("10.8.0.12"),
                request_time: Some(0.081234),
                request_id: text("4bf92f3577b34da6a3ce929d0e0e4736"),
                proxy_flags: text("response_sent_by_backend"),
                ..Record::default()
            }
        );
    }

    #[test]
    fn an_http_request_object_is_required() {
        for line in [
            "{}",
            r#"{"httpRequest":"GET /"}"#,
            r#"{"httpRequest":null,"timestamp":"2020-06-08T23:41:30.078651Z"}"#,
            r#"{"insertId":"x","textPayload":"hello","timestamp":"2020-06-08T23:41:30.078651Z"}"#,
            r#"{"protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog"},"timestamp":"2020-06-08T23:41:30Z"}"#,
            // The other JSON formats.
            r#"{"time": "2020-02-07T11:48:51+00:00", "remote_addr": "192.168.64.1", "status": 200, "path": "/products"}"#,
            r#"{"ClientAddr":"10.10.10.20:23456","DownstreamStatus":404,"RouterName":"r@kubernetescrd","time":"2024-02-02T17:07:08Z"}"#,
            r#"{":authority":"www.example.com","response_code":200,"start_time":"2025-12-31T16:37:40.479Z"}"#,
            // Truncated and invalid.
            &CACHED[..CACHED.len() - 1],
            &CACHED[..CACHED.find(",\"resource\"").unwrap()],
            r#"{"httpRequest":{"requestUrl":"http://a/\x41"}}"#,
            r#"[2019-04-11T00:31:55.439Z] "GET /elastic HTTP/1.1" 404 NR 0 0 0 - "-" "-" "-" "-" "-""#,
        ] {
            assert!(parse(line, &mut TimeCache::new()).is_err(), "{line}");
        }
    }

    #[test]
    fn durations_and_trace_names() {
        assert_eq!(seconds("0.123s"), Some(0.123));
        assert_eq!(seconds("2s"), Some(2.0));
        assert_eq!(seconds("0.123"), None);
        assert_eq!(seconds("-1s"), None);
        assert_eq!(trace_id("projects/p/traces/abc"), [Some("abc")]);
        assert_eq!(trace_id("abc"), [Some("abc")]);
    }

    #[test]
    fn no_input_makes_it_panic() {
        assert_no_panic(parse, &[CACHED, PORTS, GKE]);
    }
}
