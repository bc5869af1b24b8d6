//! ingress-nginx's default `upstreaminfo` access log (`log-format-upstream` unset):
//!
//! ```text
//! $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer"
//! "$http_user_agent" $request_length $request_time [$proxy_upstream_name]
//! [$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length
//! $upstream_response_time $upstream_status $req_id
//! ```
//!
//! The four `$upstream_*` fields are lists (`", "` between servers tried, `" : "` between upstream
//! groups), so the tail is read with a list-aware cursor rather than split on spaces. They are
//! kept as logged; `-` for the whole field is unset.
//!
//! Two tolerances, both unambiguous because the list grammar fixes where each field ends:
//! - a line that ends right after `$upstream_status` (controllers before `$req_id` was added)
//!   parses with no request id;
//! - anything after `$req_id` is ignored, because users commonly append variables
//!   (`$namespace $ingress_name $service_name $service_port`, `$host`) to the default format
//!   and the default fields are still worth reading. This accepts no line of another format:
//!   such a line must already match every field up to the request id.
//!
//! Lines starting with `{` are the JSON variant, parsed by `ingress_nginx_json`.

use std::borrow::Cow;
use std::net::IpAddr;

use crate::format::Malformed;
use crate::format::nginx::{Dialect, quoted_field, read_clf_fields};
use crate::format::tokens::{Cursor, parse_seconds, parse_u64, text};
use crate::record::{Record, UpstreamKind};
use crate::time::TimeCache;

/// Parses one line.
pub(crate) fn parse<'a>(line: &'a str, clock: &mut TimeCache) -> Result<Record<'a>, Malformed> {
    if line.starts_with('{') {
        return super::ingress_nginx_json::parse(line, clock);
    }
    let mut cursor = Cursor::new(line);
    let address = cursor.word().ok_or(Malformed::new("empty line"))?;
    // ingress-nginx writes `$remote_addr` as a bare IPv4 or IPv6 address, never bracketed.
    let client_ip: IpAddr = address
        .parse()
        .map_err(|_| Malformed::new("client address is not an IP address"))?;
    let mut record = Record {
        client_ip: Some(client_ip),
        ..Record::default()
    };
    read_clf_fields(&mut cursor, clock, Dialect::Nginx, &mut record)?;
    record.referer = text(quoted_field(
        &mut cursor,
        "missing or unterminated referer",
    )?);
    record.user_agent = text(quoted_field(
        &mut cursor,
        "missing or unterminated user agent",
    )?);

    let request_length = cursor
        .word()
        .ok_or(Malformed::new("missing request length"))?;
    parse_u64(request_length).ok_or(Malformed::new("bad request length"))?;
    let request_time = cursor
        .word()
        .ok_or(Malformed::new("missing request time"))?;
    record.request_time =
        Some(parse_seconds(request_time).ok_or(Malformed::new("bad request time"))?);

    let upstream_name = cursor
        .bracketed()
        .ok_or(Malformed::new("missing [proxy_upstream_name]"))?;
    record.upstream_name = text(upstream_name);
    if record.upstream_name.is_some() {
        record.upstream_kind = UpstreamKind::IngressNginx;
    }
    // The canary (alternative) upstream is not attributed: the primary name is the route's.
    cursor
        .bracketed()
        .ok_or(Malformed::new("missing [proxy_alternative_upstream_name]"))?;

    record.upstream_addr = upstream_list(&mut cursor, "missing upstream address")?;
    upstream_list(&mut cursor, "missing upstream response length")?;
    record.upstream_response_time = upstream_list(&mut cursor, "missing upstream response time")?;
    record.upstream_status = upstream_list(&mut cursor, "missing upstream status")?;
    // Absent on older controllers; whatever follows it is an appended custom field.
    record.request_id = cursor.word().and_then(text);
    Ok(record)
}

/// One `$upstream_*` list field, as logged; `None` when the whole field is `-`.
fn upstream_list<'a>(
    cursor: &mut Cursor<'a>,
    missing: &'static str,
) -> Result<Option<Cow<'a, str>>, Malformed> {
    cursor.list().map(text).ok_or(Malformed::new(missing))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::tokens::mangled;
    use crate::record::Text;

    /// Real lines: elastic/integrations `nginx_ingress_controller` and elastic/beats
    /// `nginx/ingress_controller` test logs.
    const POST: &str = r#"192.168.64.1 - - [07/Feb/2020:11:48:51 +0000] "POST /products HTTP/1.1" 200 59 "-" "curl/7.54.0" 89 0.001 [default-web-8080] [] 172.17.0.5:8080 59 0.000 200 529a007902362a5f51385a5fa7049884"#;
    const JUNK_METHOD: &str = r#"192.168.64.1 - - [07/Feb/2020:11:49:50 +0000] "PATCHp /products/42 HTTP/1.1" 400 163 "-" "-" 0 0.000 [] [] - - - - 4c7d2079340e68353c7d0dfff00b904b"#;
    const IPV6_RETRY: &str = r#"2a02:cf40::4e36 - - [24/Aug/2022:18:05:41 +0000] "GET /favicon.ico HTTP/2.0" 502 552 "https://localhost:8080/" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/104.0.0.0 Safari/537.36" 27 0.000 [localhost-8080] [] [2a02:cf40::7]:5000, [2a02:cf40::4e36]:5000 0, 1 0.000, 1.000 502, 403 3db73c6c673c4256ade033a6ce08c2ab"#;
    const REMOTE_USER: &str = r#"2a02:cf40:: - remote_monitoring_user [24/Aug/2022:21:04:17 +0000] "POST /_bulk HTTP/1.1" 200 470 "-" "Elastic-metricbeat/7.16.3 (linux; amd64; e7cede6a62ed4452bd9044fc6f4947df; 2022-01-07 00:50:33 +0000 UTC)" 2057 0.033 [esmon-esmon-es-http-9200] [] [2a02:cf40::]:9200 470 0.036 200 3db73c6c673c4256ade033a6ce08c2ab"#;
    const QUERY: &str = r#"67.43.156.13 - - [07/Feb/2020:12:00:28 +0000] "GET /products/42?address=delhi+technological+university HTTP/1.1" 200 59 "-" "python-requests/2.22.0" 197 0.000 [default-web-8080] [] 172.17.0.5:8080 59 0.001 200 9a7babf34ca4ee59d90ac48d452a9214"#;
    const UNIX_SOCKET: &str = r#"192.168.64.1 - - [07/Feb/2020:11:56:54 +0000] "GET /products/42 HTTP/1.1" 200 59 "-" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0.5 Safari/605.1.15" 369 0.002 [default-web-8080] [] unix:/var/run/php-fpm.sock 59 0.002 200 0f76ea730f282d5759018eb756b23b14"#;
    const RETRY_WITHOUT_ANSWER: &str = r#"192.168.64.14 - - [07/Feb/2020:12:02:42 +0000] "GET /test/test.mp4 HTTP/1.1" 200 61 "-" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.14; rv:72.0) Gecko/20100101 Firefox/72.0" 348 0.001 [default-web2-8080] [] 172.17.0.6:8080, 172.17.0.7:8080 - 0.100, - 200, - 835136ae24486dbb4156dcbe21f5d402"#;

    /// Constructed from the format: an internal redirect to a second upstream group (`" : "`).
    const GROUPS: &str = r#"10.0.0.7 - - [12/Nov/2025:10:00:01 +0000] "GET /account HTTP/1.1" 200 612 "-" "curl/8.4.0" 95 0.012 [shop-web-80] [] 10.244.0.12:8080 : 10.244.0.13:80 0 : 612 0.004 : 0.008 401 : 200 5c1fd0a6a2b04b4a6a5d3c6f3b6d2e11"#;
    /// Constructed: a TLS handshake sent to the plain-HTTP port, and a user agent with quotes,
    /// both as nginx's default escaping writes them.
    const ESCAPED: &str = r#"45.95.147.236 - - [12/Nov/2025:10:00:01 +0000] "\x16\x03\x01\x00\xF4\x01\x00\x00\xF0\x03\x03" 400 150 "-" "Mozilla/5.0 \x22><script>alert(1)</script>" 0 0.104 [] [] - - - - 0f2c1b7e9a6d4c3b8e5f1a2d3c4b5a69"#;

    fn borrowed(text: &str) -> Option<Text<'_>> {
        Some(Cow::Borrowed(text))
    }

    fn parse_one(line: &str) -> Result<Record<'_>, Malformed> {
        parse(line, &mut TimeCache::new())
    }

    #[test]
    fn a_successful_request_has_every_field() {
        assert_eq!(
            parse_one(POST),
            Ok(Record {
                time_us: Some(1_581_076_131_000_000),
                client_ip: Some("192.168.64.1".parse().unwrap()),
                remote_user: None,
                method: borrowed("POST"),
                path: borrowed("/products"),
                query: None,
                protocol: borrowed("HTTP/1.1"),
                status: Some(200),
                bytes_sent: Some(59),
                referer: None,
                user_agent: borrowed("curl/7.54.0"),
                host: None,
                upstream_name: borrowed("default-web-8080"),
                upstream_kind: UpstreamKind::IngressNginx,
                upstream_addr: borrowed("172.17.0.5:8080"),
                upstream_status: borrowed("200"),
                request_time: Some(0.001),
                upstream_response_time: borrowed("0.000"),
                request_id: borrowed("529a007902362a5f51385a5fa7049884"),
                proxy_flags: None,
            })
        );
    }

    #[test]
    fn a_junk_method_rejected_before_routing_parses_with_unset_upstream() {
        assert_eq!(
            parse_one(JUNK_METHOD),
            Ok(Record {
                time_us: Some(1_581_076_190_000_000),
                client_ip: Some("192.168.64.1".parse().unwrap()),
                method: borrowed("PATCHp"),
                path: borrowed("/products/42"),
                protocol: borrowed("HTTP/1.1"),
                status: Some(400),
                bytes_sent: Some(163),
                request_time: Some(0.0),
                request_id: borrowed("4c7d2079340e68353c7d0dfff00b904b"),
                ..Record::default()
            })
        );
    }

    #[test]
    fn retries_keep_the_whole_lists_and_ipv6_clients_parse() {
        assert_eq!(
            parse_one(IPV6_RETRY),
            Ok(Record {
                time_us: Some(1_661_364_341_000_000),
                client_ip: Some("2a02:cf40::4e36".parse().unwrap()),
                method: borrowed("GET"),
                path: borrowed("/favicon.ico"),
                protocol: borrowed("HTTP/2.0"),
                status: Some(502),
                bytes_sent: Some(552),
                referer: borrowed("https://localhost:8080/"),
                user_agent: borrowed(
                    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/104.0.0.0 Safari/537.36"
                ),
                upstream_name: borrowed("localhost-8080"),
                upstream_kind: UpstreamKind::IngressNginx,
                upstream_addr: borrowed("[2a02:cf40::7]:5000, [2a02:cf40::4e36]:5000"),
                upstream_status: borrowed("502, 403"),
                request_time: Some(0.0),
                upstream_response_time: borrowed("0.000, 1.000"),
                request_id: borrowed("3db73c6c673c4256ade033a6ce08c2ab"),
                ..Record::default()
            })
        );
    }

    #[test]
    fn a_basic_auth_user_and_a_bracketed_ipv6_upstream() {
        let record = parse_one(REMOTE_USER).unwrap();
        assert_eq!(record.time_us, Some(1_661_375_057_000_000));
        assert_eq!(record.client_ip, Some("2a02:cf40::".parse().unwrap()));
        assert_eq!(record.remote_user, borrowed("remote_monitoring_user"));
        assert_eq!(
            record.user_agent,
            borrowed(
                "Elastic-metricbeat/7.16.3 (linux; amd64; e7cede6a62ed4452bd9044fc6f4947df; 2022-01-07 00:50:33 +0000 UTC)"
            )
        );
        assert_eq!(record.upstream_name, borrowed("esmon-esmon-es-http-9200"));
        assert_eq!(record.upstream_addr, borrowed("[2a02:cf40::]:9200"));
        assert_eq!(record.upstream_response_time, borrowed("0.036"));
        assert_eq!(record.upstream_status, borrowed("200"));
        assert_eq!(record.request_time, Some(0.033));
        assert_eq!(record.bytes_sent, Some(470));
    }

    #[test]
    fn a_remote_user_with_a_space_is_one_field() {
        let line = POST.replacen("- - [", "- John Doe [", 1);
        let record = parse_one(&line).unwrap();
        assert_eq!(record.remote_user, borrowed("John Doe"));
        assert_eq!(record.time_us, Some(1_581_076_131_000_000));
    }

    #[test]
    fn the_query_is_split_from_the_path() {
        let record = parse_one(QUERY).unwrap();
        assert_eq!(record.path, borrowed("/products/42"));
        assert_eq!(
            record.query,
            borrowed("address=delhi+technological+university")
        );
        assert_eq!(record.upstream_response_time, borrowed("0.001"));
    }

    #[test]
    fn a_unix_socket_upstream_is_one_list_item() {
        let record = parse_one(UNIX_SOCKET).unwrap();
        assert_eq!(record.upstream_addr, borrowed("unix:/var/run/php-fpm.sock"));
        assert_eq!(record.upstream_response_time, borrowed("0.002"));
        assert_eq!(record.upstream_status, borrowed("200"));
        assert_eq!(
            record.request_id,
            borrowed("0f76ea730f282d5759018eb756b23b14")
        );
    }

    #[test]
    fn dash_items_inside_lists_keep_their_place() {
        let record = parse_one(RETRY_WITHOUT_ANSWER).unwrap();
        assert_eq!(
            record.upstream_addr,
            borrowed("172.17.0.6:8080, 172.17.0.7:8080")
        );
        assert_eq!(record.upstream_response_time, borrowed("0.100, -"));
        assert_eq!(record.upstream_status, borrowed("200, -"));
        assert_eq!(
            record.request_id,
            borrowed("835136ae24486dbb4156dcbe21f5d402")
        );
        assert_eq!(record.upstream_name, borrowed("default-web2-8080"));
        assert_eq!(record.request_time, Some(0.001));
    }

    #[test]
    fn upstream_groups_are_joined_by_a_spaced_colon() {
        let record = parse_one(GROUPS).unwrap();
        assert_eq!(
            record.upstream_addr,
            borrowed("10.244.0.12:8080 : 10.244.0.13:80")
        );
        assert_eq!(record.upstream_response_time, borrowed("0.004 : 0.008"));
        assert_eq!(record.upstream_status, borrowed("401 : 200"));
        assert_eq!(
            record.request_id,
            borrowed("5c1fd0a6a2b04b4a6a5d3c6f3b6d2e11")
        );
        assert_eq!(record.request_time, Some(0.012));
    }

    #[test]
    fn escaped_bytes_stay_as_logged() {
        let record = parse_one(ESCAPED).unwrap();
        assert_eq!(
            record.method,
            borrowed(r"\x16\x03\x01\x00\xF4\x01\x00\x00\xF0\x03\x03")
        );
        assert_eq!(record.path, None);
        assert_eq!(record.protocol, None);
        assert_eq!(
            record.user_agent,
            borrowed(r"Mozilla/5.0 \x22><script>alert(1)</script>")
        );
        assert_eq!(record.status, Some(400));
        assert_eq!(record.upstream_name, None);
        assert_eq!(record.upstream_kind, UpstreamKind::None);
        assert_eq!(record.request_time, Some(0.104));
    }

    #[test]
    fn empty_and_dash_request_lines_parse_with_no_request_fields() {
        for request in [r#""""#, r#""-""#] {
            let line = JUNK_METHOD.replacen(r#""PATCHp /products/42 HTTP/1.1""#, request, 1);
            let record = parse_one(&line).unwrap();
            assert_eq!(
                (
                    &record.method,
                    &record.path,
                    &record.query,
                    &record.protocol
                ),
                (&None, &None, &None, &None),
                "{line}"
            );
            assert_eq!(record.status, Some(400));
        }
    }

    #[test]
    fn special_upstream_names() {
        let name_of = |name: &str| {
            let line = POST.replacen("[default-web-8080]", name, 1);
            let record = parse_one(&line).unwrap();
            (
                record.upstream_name.map(Cow::into_owned),
                record.upstream_kind,
            )
        };
        assert_eq!(
            name_of("[upstream-default-backend]"),
            (
                Some("upstream-default-backend".to_owned()),
                UpstreamKind::IngressNginx
            )
        );
        assert_eq!(
            name_of("[internal]"),
            (Some("internal".to_owned()), UpstreamKind::IngressNginx)
        );
        assert_eq!(name_of("[-]"), (None, UpstreamKind::None));
        assert_eq!(name_of("[]"), (None, UpstreamKind::None));
    }

    #[test]
    fn the_alternative_upstream_is_read_but_not_used() {
        let line = POST.replacen("[] ", "[default-web-canary-8080] ", 1);
        let record = parse_one(&line).unwrap();
        assert_eq!(record.upstream_name, borrowed("default-web-8080"));
    }

    #[test]
    fn a_line_from_before_req_id_has_no_request_id() {
        let line = POST.replacen(" 529a007902362a5f51385a5fa7049884", "", 1);
        let record = parse_one(&line).unwrap();
        assert_eq!(record.request_id, None);
        assert_eq!(record.upstream_status, borrowed("200"));
        let line = IPV6_RETRY.replacen(" 3db73c6c673c4256ade033a6ce08c2ab", "", 1);
        let record = parse_one(&line).unwrap();
        assert_eq!(record.request_id, None);
        assert_eq!(record.upstream_status, borrowed("502, 403"));
    }

    #[test]
    fn fields_appended_after_req_id_are_ignored() {
        let line = format!("{POST} default web web 8080");
        let record = parse_one(&line).unwrap();
        assert_eq!(
            record.request_id,
            borrowed("529a007902362a5f51385a5fa7049884")
        );
        assert_eq!(record, parse_one(POST).unwrap());
    }

    #[test]
    fn every_text_field_borrows_from_the_line() {
        for line in [POST, IPV6_RETRY, REMOTE_USER, QUERY, GROUPS, ESCAPED] {
            let record = parse_one(line).unwrap();
            for field in [
                &record.remote_user,
                &record.method,
                &record.path,
                &record.query,
                &record.protocol,
                &record.referer,
                &record.user_agent,
                &record.upstream_name,
                &record.upstream_addr,
                &record.upstream_status,
                &record.upstream_response_time,
                &record.request_id,
            ] {
                assert!(!matches!(field, Some(Cow::Owned(_))), "{field:?}");
            }
        }
    }

    #[test]
    fn combined_traefik_and_haproxy_lines_are_refused() {
        let combined = r#"67.43.156.13 - - [25/Oct/2016:14:49:33 +0200] "GET / HTTP/1.1" 200 612 "-" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_12_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.59 Safari/537.36""#;
        let main = r#"172.17.0.1 - - [29/May/2017:19:02:48 +0000] "GET /stringpatch HTTP/1.1" 404 612 "-" "Mozilla/5.0 (Windows NT 6.1; rv:15.0) Gecko/20120716 Firefox/15.0a2" "-""#;
        let traefik = r#"192.168.33.1 - - [02/Oct/2017:20:22:07 +0000] "GET /ui/favicons/favicon-16x16.png HTTP/1.1" 304 0 "http://example.com/login" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/61.0.3163.100 Safari/537.36" 262 "Host-host-1" "http://172.19.0.3:5601" 2ms"#;
        let haproxy = r#"10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1""#;
        let envoy = r#"[2019-04-11T00:31:55.439Z] "GET /elastic HTTP/1.1" 404 NR 0 0 0 - "172.17.0.3" "curl/7.59.0" "58436667-bf70-4fd0-9fe9-cdadadecfd55" "192.168.99.107:30901" "-""#;
        assert_eq!(
            parse_one(combined),
            Err(Malformed::new("missing request length"))
        );
        assert_eq!(parse_one(main), Err(Malformed::new("bad request length")));
        assert_eq!(parse_one(traefik), Err(Malformed::new("bad request time")));
        assert_eq!(
            parse_one(haproxy),
            Err(Malformed::new("client address is not an IP address"))
        );
        assert_eq!(
            parse_one(envoy),
            Err(Malformed::new("client address is not an IP address"))
        );
    }

    #[test]
    fn truncated_lines_are_refused() {
        for cut in [
            "192.168.64.1 - - [07/Feb/2020:11:48:51 +0000]",
            r#"192.168.64.1 - - [07/Feb/2020:11:48:51 +0000] "POST /products HTTP/1.1" 200 59 "-" "curl/7.54.0" 89 0.001"#,
            r#"192.168.64.1 - - [07/Feb/2020:11:48:51 +0000] "POST /products HTTP/1.1" 200 59 "-" "curl/7.54.0" 89 0.001 [default-web-8080] [] 172.17.0.5:8080 59"#,
            r#"2a02:cf40::4e36 - - [24/Aug/2022:18:05:41 +0000] "GET /favicon.ico HTTP/2.0" 502 552 "https://localhost:8080/" "Mozilla/5.0" 27 0.000 [localhost-8080] [] [2a02:cf40::7]:5000, [2a02:cf40::4e36]:5000 0, 1 0.000, 1.000 502,"#,
            r#"192.168.64.1 - - [07/Feb/2020:11:48:51 +0000] "POST /products HTTP/1.1" 200 59 "-" "curl/7.54.0" 89 0.001 [default-web-8080"#,
        ] {
            assert!(parse_one(cut).is_err(), "{cut}");
        }
    }

    #[test]
    fn an_unterminated_quote_is_refused() {
        let line = r#"192.168.64.1 - - [07/Feb/2020:11:48:51 +0000] "POST /products HTTP/1.1" 200 59 "-" "curl/7.54.0 89 0.001 [default-web-8080] [] 172.17.0.5:8080 59 0.000 200 529a007902362a5f51385a5fa7049884"#;
        assert_eq!(
            parse_one(line),
            Err(Malformed::new("missing or unterminated user agent"))
        );
        let line =
            r#"192.168.64.1 - - [07/Feb/2020:11:48:51 +0000] "POST /products HTTP/1.1 200 59"#;
        assert_eq!(
            parse_one(line),
            Err(Malformed::new("missing or unterminated request line"))
        );
    }

    #[test]
    fn a_bad_month_is_refused() {
        let line = POST.replacen("07/Feb/2020", "07/Fev/2020", 1);
        assert_eq!(parse_one(&line), Err(Malformed::new("bad time")));
    }

    #[test]
    fn a_bad_client_address_is_refused() {
        for address in [
            "192.168.64.300",
            "unix:",
            "client.example.com",
            "[2a02:cf40::4e36]",
            "-",
        ] {
            let line = POST.replacen("192.168.64.1", address, 1);
            assert_eq!(
                parse_one(&line),
                Err(Malformed::new("client address is not an IP address")),
                "{address}"
            );
        }
    }

    #[test]
    fn bad_numbers_are_refused() {
        for (from, to, reason) in [
            (" 200 59 ", " 2OO 59 ", "bad status"),
            (" 200 59 ", " 200 fifty ", "bad byte count"),
            (" 89 0.001 ", " 89 0,001 ", "bad request time"),
            (" 89 0.001 ", " -1 0.001 ", "bad request length"),
        ] {
            let line = POST.replacen(from, to, 1);
            assert_eq!(parse_one(&line), Err(Malformed::new(reason)), "{line}");
        }
    }

    #[test]
    fn never_panics_on_cut_or_mangled_lines() {
        let samples = [
            POST,
            JUNK_METHOD,
            IPV6_RETRY,
            REMOTE_USER,
            QUERY,
            UNIX_SOCKET,
            RETRY_WITHOUT_ANSWER,
            GROUPS,
            ESCAPED,
        ];
        let mut clock = TimeCache::new();
        for line in samples {
            assert!(parse(line, &mut clock).is_ok(), "{line}");
        }
        for line in mangled(&samples) {
            let _ = parse(&line, &mut clock);
        }
    }
}
