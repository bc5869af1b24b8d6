//! Detection across part A's formats: `Format::sniff` (formats tried in `Format::ALL` order)
//! picks the right one for every sample line of ingress-nginx upstreaminfo, nginx combined and
//! its relatives, Traefik CLF and HAProxy, and refuses the lines none of them should take.

use tollgate_logs::Format;
use tollgate_logs::time::TimeCache;

/// Real lines (elastic/integrations and elastic/beats test logs) and lines constructed from the
/// documented formats, with the format each must be detected as.
const SAMPLES: &[(&str, Format)] = &[
    // ingress-nginx upstreaminfo.
    (
        r#"192.168.64.1 - - [07/Feb/2020:11:48:51 +0000] "POST /products HTTP/1.1" 200 59 "-" "curl/7.54.0" 89 0.001 [default-web-8080] [] 172.17.0.5:8080 59 0.000 200 529a007902362a5f51385a5fa7049884"#,
        Format::IngressNginx,
    ),
    (
        r#"192.168.64.1 - - [07/Feb/2020:11:49:50 +0000] "PATCHp /products/42 HTTP/1.1" 400 163 "-" "-" 0 0.000 [] [] - - - - 4c7d2079340e68353c7d0dfff00b904b"#,
        Format::IngressNginx,
    ),
    (
        r#"2a02:cf40::4e36 - - [24/Aug/2022:18:05:41 +0000] "GET /favicon.ico HTTP/2.0" 502 552 "https://localhost:8080/" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/104.0.0.0 Safari/537.36" 27 0.000 [localhost-8080] [] [2a02:cf40::7]:5000, [2a02:cf40::4e36]:5000 0, 1 0.000, 1.000 502, 403 3db73c6c673c4256ade033a6ce08c2ab"#,
        Format::IngressNginx,
    ),
    (
        r#"2a02:cf40:: - remote_monitoring_user [24/Aug/2022:21:04:17 +0000] "POST /_bulk HTTP/1.1" 200 470 "-" "Elastic-metricbeat/7.16.3 (linux; amd64; e7cede6a62ed4452bd9044fc6f4947df; 2022-01-07 00:50:33 +0000 UTC)" 2057 0.033 [esmon-esmon-es-http-9200] [] [2a02:cf40::]:9200 470 0.036 200 3db73c6c673c4256ade033a6ce08c2ab"#,
        Format::IngressNginx,
    ),
    (
        r#"192.168.64.1 - - [07/Feb/2020:11:56:54 +0000] "GET /products/42 HTTP/1.1" 200 59 "-" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0.5 Safari/605.1.15" 369 0.002 [default-web-8080] [] unix:/var/run/php-fpm.sock 59 0.002 200 0f76ea730f282d5759018eb756b23b14"#,
        Format::IngressNginx,
    ),
    (
        r#"192.168.64.14 - - [07/Feb/2020:12:02:42 +0000] "GET /test/test.mp4 HTTP/1.1" 200 61 "-" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.14; rv:72.0) Gecko/20100101 Firefox/72.0" 348 0.001 [default-web2-8080] [] 172.17.0.6:8080, 172.17.0.7:8080 - 0.100, - 200, - 835136ae24486dbb4156dcbe21f5d402"#,
        Format::IngressNginx,
    ),
    (
        r#"10.0.0.7 - - [12/Nov/2025:10:00:01 +0000] "GET /account HTTP/1.1" 200 612 "-" "curl/8.4.0" 95 0.012 [shop-web-80] [] 10.244.0.12:8080 : 10.244.0.13:80 0 : 612 0.004 : 0.008 401 : 200 5c1fd0a6a2b04b4a6a5d3c6f3b6d2e11"#,
        Format::IngressNginx,
    ),
    (
        r#"45.95.147.236 - - [12/Nov/2025:10:00:01 +0000] "\x16\x03\x01\x00\xF4\x01\x00\x00\xF0\x03\x03" 400 150 "-" "Mozilla/5.0 \x22><script>alert(1)</script>" 0 0.104 [] [] - - - - 0f2c1b7e9a6d4c3b8e5f1a2d3c4b5a69"#,
        Format::IngressNginx,
    ),
    // Traefik CLF.
    (
        r#"192.168.33.1 - - [02/Oct/2017:20:22:07 +0000] "GET /ui/favicons/favicon-16x16.png HTTP/1.1" 304 0 "http://example.com/login" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/61.0.3163.100 Safari/537.36" 262 "Host-host-1" "http://172.19.0.3:5601" 2ms"#,
        Format::Traefik,
    ),
    (
        r#"172.17.0.1 - - [08/Dec/2021:13:59:39 +0000] "GET /cgi.cgi/ HTTP/1.1" 200 352 "-" "Nikto" 240 "test@docker" "http://172.17.0.3:80" 0ms"#,
        Format::Traefik,
    ),
    (
        r#"89.160.20.156 - - [28/Feb/2018:17:30:33 +0000] "GET /en/ HTTP/2.0" 200 2814 - "Mozilla/5.0 (iPhone; CPU iPhone OS 11_2_5 like Mac OS X) AppleWebKit/604.5.6 (KHTML, like Gecko) Version/11.0 Mobile/15D60 Safari/604.1" 13 "Host-host1-com-0" "http://172.19.0.6:14008" 247ms"#,
        Format::Traefik,
    ),
    (
        r#"::1 - - [29/Nov/2018:15:03:51 +0000] "GET / HTTP/1.1" 404 19 "-" "curl/7.62.0" 10 "backend not found" "/" 0ms"#,
        Format::Traefik,
    ),
    (
        r#"::1 - - [15/Apr/2024:13:04:10 +0000] "GET / HTTP/1.1" - - "-" "-" 27 "-" "-" 0ms"#,
        Format::Traefik,
    ),
    (
        r#"172.17.1.3 - - [24/Nov/2024:13:40:15 +0000] "GET /api/users HTTP/1.1" 200 450 "-" "curl/7.68.0" 300 "root@docker -> intermediate1@docker -> intermediate2@docker -> leaf@docker" "http://172.17.0.4:80" 25ms"#,
        Format::Traefik,
    ),
    // nginx combined, main, Kong, common, virtual-host prefixed.
    (
        r#"67.43.156.13 - - [25/Oct/2016:14:49:33 +0200] "GET / HTTP/1.1" 200 612 "-" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_12_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.59 Safari/537.36""#,
        Format::Nginx,
    ),
    (
        r#"example.com:80 unix: - - [26/Feb/2019:15:39:42 +0100] "hello" 400 173 "-" "-""#,
        Format::Nginx,
    ),
    (
        r#"67.43.156.15:80 127.0.0.1 - - [12/Apr/2018:09:48:40 +0200] "" 400 0 "-" "-""#,
        Format::Nginx,
    ),
    (
        r#"172.17.0.1 - - [29/May/2017:19:02:48 +0000] "GET /stringpatch HTTP/1.1" 404 612 "-" "Mozilla/5.0 (Windows NT 6.1; rv:15.0) Gecko/20120716 Firefox/15.0a2" "-""#,
        Format::Nginx,
    ),
    (
        r#"10.0.0.7 - - [12/Nov/2025:10:00:01 +0000] "GET /orders/1 HTTP/1.1" 200 512 "-" "curl/8.4.0" kong_request_id: "5c1fd0a6a2b04b4a6a5d3c6f3b6d2e11""#,
        Format::Nginx,
    ),
    (
        r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#,
        Format::Nginx,
    ),
    (
        r#"2001:db8::1 - - [12/Nov/2025:10:00:01 +0000] "GET /robots.txt HTTP/1.1" 200 - "-" "Mozilla/5.0 (compatible; Googlebot/2.1)""#,
        Format::Nginx,
    ),
    // HAProxy httplog and the HAProxy Ingress controller.
    (
        r#"Feb  6 12:14:14 localhost haproxy[14389]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1""#,
        Format::Haproxy,
    ),
    (
        r#"Dec 10 12:01:46 voyager haproxy[19312]: 127.0.0.1:35982 [10/Dec/2018:12:01:46.395] http-webservices http-webservices/<NOSRV> 0/-1/-1/-1/0 503 213 - - SC-- 1/1/0/0/0 0/0 "GET / HTTP/1.1""#,
        Format::Haproxy,
    ),
    (
        r#"Sep 29 08:33:00 localhost haproxy[14389]: 127.0.0.1:33317 [29/Sep/2025:08:33:00.277] f_foobar~ f_foobar/<NOSRV> -1/-1/-1/-1/0 400 0 - - CR-- 8/1/0/0/0 0/0 "<BADREQ>""#,
        Format::Haproxy,
    ),
    (
        r#"Feb  6 12:14:14 localhost haproxy[14389]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] https-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1" 0/0/0/0/1 1wt.eu/TLSv1.3/TLS_AES_256_GCM_SHA384"#,
        Format::Haproxy,
    ),
    (
        r#"10.244.0.1:5793 [10/Apr/2020:10:32:50.132] https~ test-echo1-8080/SRV_TFW8V 0/0/1/2/3 200 653 - - ---- 1/1/0/0/0 0/0 "GET test.k8s.local/ HTTP/2.0""#,
        Format::Haproxy,
    ),
    (
        r#"<134>1 2026-01-02T03:04:05.123456+00:00 lb1 haproxy 123 - - [2001:db8::7]:51234 [02/Jan/2026:03:04:05.120] fe_https~ be_app/app2 0/0/1/15/16 302 120 - - --NI 3/3/1/1/0 0/0 {Mozilla/5.0 (X11; Linux) Firefox/128.0|shop.example.com} {} "POST /login?next=/admin HTTP/1.1""#,
        Format::Haproxy,
    ),
];

/// Lines of the same streams that no format may take.
const NOT_REQUESTS: &[&str] = &[
    "Feb  6 12:14:14 localhost haproxy[14389]: Proxy http-in started.",
    "Sep 20 15:42:59 67.43.156.13 haproxy[24551]: Connect from 67.43.156.13:40780 to 67.43.156.13:5000 (main/HTTP)",
    "Dec  3 18:27:14 localhost haproxy[6103]: 127.0.0.1:56059 [03/Dec/2012:17:35:10.380] frt/f1: Connection error during SSL handshake",
    r#"example.com localhost, localhost - - [29/May/2017:19:02:48 +0000] "GET /test2 HTTP/1.1" 200 612 "-" "-" "-""#,
    r#"192.168.64.1 - - [07/Feb/2020:11:48:51 +0000] "POST /products HTTP/1.1" 200 59 "-" "curl/7.54.0" 89 0.001 [default-web-8080] [] 172.17.0.5:8080 59"#,
    "",
];

#[test]
fn every_sample_is_detected_as_its_format() {
    let mut clock = TimeCache::new();
    for (line, expected) in SAMPLES {
        let detected = Format::sniff(line, &mut clock).map(|(format, _)| format);
        assert_eq!(detected, Some(*expected), "{line}");
    }
}

#[test]
fn detection_gives_the_same_record_as_the_format_itself() {
    let mut clock = TimeCache::new();
    for (line, expected) in SAMPLES {
        let (_, sniffed) = Format::sniff(line, &mut clock).expect(line);
        assert_eq!(Ok(sniffed), expected.parse(line, &mut clock), "{line}");
    }
}

#[test]
fn no_format_takes_lines_that_are_not_requests() {
    let mut clock = TimeCache::new();
    for line in NOT_REQUESTS {
        let detected = Format::sniff(line, &mut clock).map(|(format, _)| format);
        assert_eq!(detected, None, "{line}");
    }
}
