//! HAProxy `option httplog`, and the HAProxy Kubernetes Ingress controller's default, which is the
//! same line with the request written as `"%HM %[var(txn.base)] %HV"`:
//!
//! ```text
//! %ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq {%hr} {%hs} "%r"
//! ```
//!
//! The `{captured headers}` blocks are there only when captures are configured. Fields a custom
//! `log-format` appends after the request are ignored (captured TLS details are a common one).
//! The line may come bare (`format raw` to stdout), behind an RFC 3164 syslog header
//! (`Feb  6 12:14:14 host haproxy[14389]: `, or just the `haproxy[14389]: ` tag as journald
//! prints it), or behind an RFC 5424 one (`<134>1 2026-01-02T03:04:05Z host haproxy 123 - - `).
//! The syslog header's own time is not used: `%tr` has milliseconds and a year.
//!
//! `%tr` is HAProxy's local time with no offset, read as UTC: run HAProxy with `TZ=UTC` (the
//! container default) for true instants. The backend is the upstream name (the Ingress
//! controller names backends `<ns>-<svc>-<port>`), the server the upstream address (`<NOSRV>`
//! when none was chosen), `Ta` the request time, and the termination state (`SC--`) the proxy
//! flags, unset when it is all dashes (a normal end).
//!
//! Lines of the same stream that are not HTTP requests (`Proxy X started.`, `Connect from ...`,
//! `frontend/bind: SSL handshake failure`, `option tcplog` lines) are malformed with the reason
//! "not a request line".

use std::borrow::Cow;
use std::net::IpAddr;

use memchr::memchr;

use crate::format::Malformed;
use crate::format::tokens::{Cursor, parse_status, parse_u64, split_request, strip_port, text};
use crate::record::{Record, UpstreamKind};
use crate::time::TimeCache;

/// The reason for every line that does not have the shape of an HTTP log line up to its timers.
const NOT_A_REQUEST_LINE: Malformed = Malformed::new("not a request line");

/// Parses one line.
pub(crate) fn parse<'a>(line: &'a str, clock: &mut TimeCache) -> Result<Record<'a>, Malformed> {
    let mut cursor = Cursor::new(strip_syslog_header(line));
    let client_ip = cursor
        .word()
        .and_then(client_address)
        .ok_or(NOT_A_REQUEST_LINE)?;
    let accepted = cursor.bracketed().ok_or(NOT_A_REQUEST_LINE)?;
    let time_us = clock.haproxy(accepted).ok_or(Malformed::new("bad time"))?;
    let frontend = cursor.word().ok_or(NOT_A_REQUEST_LINE)?;
    // Connection errors log `frontend/bind: <error>` where a request line has the frontend.
    if frontend.ends_with(':') {
        return Err(NOT_A_REQUEST_LINE);
    }
    // HAProxy names may not hold `/`, so the first one separates backend from server.
    let (backend, server) = cursor
        .word()
        .and_then(|word| word.split_once('/'))
        .ok_or(NOT_A_REQUEST_LINE)?;
    // Five timers make an HTTP line; `option tcplog` lines have three.
    let request_time = cursor
        .word()
        .and_then(total_active_seconds)
        .ok_or(NOT_A_REQUEST_LINE)?;

    let status = match cursor.word().ok_or(Malformed::new("missing status"))? {
        // No response was sent (the client went away first).
        "-1" => None,
        status => Some(parse_status(status).ok_or(Malformed::new("bad status"))?),
    };
    let bytes = cursor.word().ok_or(Malformed::new("missing byte count"))?;
    // `option logasap` logs the bytes sent so far with a `+`.
    let bytes_sent = parse_u64(bytes.strip_prefix('+').unwrap_or(bytes))
        .ok_or(Malformed::new("bad byte count"))?;
    cursor
        .word()
        .ok_or(Malformed::new("missing captured request cookie"))?;
    cursor
        .word()
        .ok_or(Malformed::new("missing captured response cookie"))?;
    let termination_state = cursor
        .word()
        .ok_or(Malformed::new("missing termination state"))?;
    cursor
        .word()
        .filter(|counts| slashes(counts) == 4)
        .ok_or(Malformed::new("missing or bad connection counts"))?;
    cursor
        .word()
        .filter(|queues| slashes(queues) == 1)
        .ok_or(Malformed::new("missing or bad queue lengths"))?;
    // Captured request headers, then captured response headers, each only when configured.
    cursor.braced();
    cursor.braced();
    // HAProxy writes the request line's `"` as `#22`, so the first `"` ends it.
    let request = cursor
        .quoted_raw()
        .ok_or(Malformed::new("missing or unterminated request line"))?;

    let mut record = Record {
        time_us: Some(time_us),
        client_ip,
        status,
        bytes_sent: Some(bytes_sent),
        upstream_name: text(backend),
        upstream_addr: text(server).filter(|server| server != "<NOSRV>"),
        request_time,
        proxy_flags: text(termination_state).filter(|state| !state.bytes().all(|b| b == b'-')),
        ..Record::default()
    };
    if record.upstream_name.is_some() {
        record.upstream_kind = UpstreamKind::HaproxyBackend;
    }
    // `<BADREQ>` is HAProxy's stand-in for a request it could not parse.
    if request != "<BADREQ>" {
        let request_line = split_request(request);
        record.method = request_line.method.map(Cow::Borrowed);
        record.query = request_line.query.map(Cow::Borrowed);
        record.protocol = request_line.protocol.map(Cow::Borrowed);
        if let Some(target) = request_line.path {
            let (host, path) = host_and_path(target);
            record.host = host.map(Cow::Borrowed);
            record.path = path.map(Cow::Borrowed);
        }
    }
    Ok(record)
}

/// Splits the Ingress controller's `txn.base` target (`host[:port]/path`, the `base` fetch) into
/// host without port and path. Origin-form (`/x`), asterisk-form (`*`) and absolute-form
/// (`http://h/x`) targets are paths as logged, with no separate host.
fn host_and_path(target: &str) -> (Option<&str>, Option<&str>) {
    if target.starts_with('/') || target == "*" || target.contains("://") {
        return (None, Some(target));
    }
    match memchr(b'/', target.as_bytes()) {
        Some(slash) => (
            Some(strip_port(&target[..slash])).filter(|host| !host.is_empty()),
            Some(&target[slash..]),
        ),
        // No path: the authority-form of CONNECT, or a base with an empty path.
        None => (Some(strip_port(target)), None),
    }
}

/// `%ci:%cp`: `ip:port`, `[v6]:port` or a bare `v6:port`. `Some(None)` for an unknown client
/// (`-:port`), `None` when the word is not a client address at all.
fn client_address(word: &str) -> Option<Option<IpAddr>> {
    let (address, port) = match word.strip_prefix('[') {
        Some(bracketed) => bracketed.split_once("]:")?,
        None => word.rsplit_once(':')?,
    };
    parse_u64(port)?;
    if address == "-" {
        return Some(None);
    }
    address.parse().ok().map(Some)
}

/// `TR/Tw/Tc/Tr/Ta` in milliseconds to `Ta` in seconds (`Some(None)` when `Ta` is `-1`, the step
/// not reached); `None` unless there are exactly five timers.
fn total_active_seconds(timers: &str) -> Option<Option<f64>> {
    let mut parts = timers.split('/');
    let mut last = None;
    for _ in 0..5 {
        let part = parts.next()?;
        last = Some(match part {
            "-1" => None,
            // `option logasap` marks a total not yet final with a `+`.
            millis => Some(parse_u64(millis.strip_prefix('+').unwrap_or(millis))?),
        });
    }
    if parts.next().is_some() {
        return None;
    }
    last.map(|millis| millis.map(|millis| millis as f64 / 1000.0))
}

/// How many `/` a word holds.
fn slashes(word: &str) -> usize {
    word.bytes().filter(|&b| b == b'/').count()
}

/// The HAProxy message without its syslog header, or the line as is when it has none.
fn strip_syslog_header(line: &str) -> &str {
    let mut rest = line;
    if let Some(after) = rest.strip_prefix('<') {
        let priority_len = memchr(b'>', after.as_bytes()).unwrap_or(0);
        if (1..=3).contains(&priority_len)
            && after.as_bytes()[..priority_len]
                .iter()
                .all(u8::is_ascii_digit)
        {
            rest = &after[priority_len + 1..];
            if let Some(rfc5424) = rest.strip_prefix("1 ") {
                return skip_rfc5424_header(rfc5424).unwrap_or(line);
            }
        }
    }
    let bytes = rest.as_bytes();
    let after_time = if is_rfc3164_time(bytes) {
        &rest[16..]
    } else if is_rfc3339_date(bytes) {
        match memchr(b' ', bytes) {
            Some(space) => &rest[space + 1..],
            None => return line,
        }
    } else {
        // No time: `haproxy[14389]: ` as journald and `docker logs` of a syslog sidecar show it.
        return match rest.split_once(' ') {
            Some((tag, message)) if tag.ends_with(':') => message,
            _ => rest,
        };
    };
    // `host tag[pid]: message`; the host may be missing, and ": " cannot occur in either.
    match after_time.split_once(": ") {
        Some((head, message)) if head.bytes().filter(|&b| b == b' ').count() <= 1 => message,
        _ => line,
    }
}

/// `Mmm dd HH:MM:SS ` (RFC 3164; the day is space-padded: `Feb  6`).
fn is_rfc3164_time(bytes: &[u8]) -> bool {
    let Some(head) = bytes.get(..16) else {
        return false;
    };
    head[0].is_ascii_uppercase()
        && head[1].is_ascii_lowercase()
        && head[2].is_ascii_lowercase()
        && head[3] == b' '
        && (head[4] == b' ' || head[4].is_ascii_digit())
        && head[5].is_ascii_digit()
        && head[6] == b' '
        && head[9] == b':'
        && head[12] == b':'
        && head[15] == b' '
}

/// `yyyy-mm-ddT` (an RFC 3339 time, as rsyslog's high-precision template writes it).
fn is_rfc3339_date(bytes: &[u8]) -> bool {
    bytes.get(4) == Some(&b'-') && bytes.get(7) == Some(&b'-') && bytes.get(10) == Some(&b'T')
}

/// After `<PRI>1 `: skips `TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA `.
fn skip_rfc5424_header(header: &str) -> Option<&str> {
    let mut cursor = Cursor::new(header);
    for _ in 0..5 {
        cursor.word()?;
    }
    let data = cursor.rest();
    let bytes = data.as_bytes();
    let end = if bytes.first() == Some(&b'-') {
        1
    } else {
        // One or more `[id key="value" ...]` elements; `\]` inside a value does not close one.
        let mut at = 0;
        while bytes.get(at) == Some(&b'[') {
            at += 1;
            loop {
                match bytes.get(at)? {
                    b'\\' => at += 2,
                    b']' => {
                        at += 1;
                        break;
                    }
                    _ => at += 1,
                }
            }
        }
        if at == 0 {
            return None;
        }
        at
    };
    let message = data.get(end..)?;
    let message = message.strip_prefix(' ').unwrap_or(message);
    // RFC 5424 allows a UTF-8 byte order mark before the message.
    Some(message.strip_prefix('\u{feff}').unwrap_or(message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::tokens::mangled;
    use crate::record::Text;

    /// Real lines: elastic/integrations `haproxy` `test-haproxy.log`,
    /// `test-httplog-no-headers.log`, `test-haproxy-bad-req.log`, `test-https.log`, and the
    /// Ingress controller's documentation example (`documentation/annotations.md`).
    const CAPTURES: &str = r#"Feb  6 12:14:14 localhost haproxy[14389]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1""#;
    const NO_SERVER: &str = r#"Dec 10 12:01:46 voyager haproxy[19312]: 127.0.0.1:35982 [10/Dec/2018:12:01:46.395] http-webservices http-webservices/<NOSRV> 0/-1/-1/-1/0 503 213 - - SC-- 1/1/0/0/0 0/0 "GET / HTTP/1.1""#;
    const BAD_REQUEST: &str = r#"Sep 29 08:33:00 localhost haproxy[14389]: 127.0.0.1:33317 [29/Sep/2025:08:33:00.277] f_foobar~ f_foobar/<NOSRV> -1/-1/-1/-1/0 400 0 - - CR-- 8/1/0/0/0 0/0 "<BADREQ>""#;
    const APPENDED_TLS: &str = r#"Feb  6 12:14:14 localhost haproxy[14389]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] https-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1" 0/0/0/0/1 1wt.eu/TLSv1.3/TLS_AES_256_GCM_SHA384"#;
    const INGRESS_CONTROLLER: &str = r#"10.244.0.1:5793 [10/Apr/2020:10:32:50.132] https~ test-echo1-8080/SRV_TFW8V 0/0/1/2/3 200 653 - - ---- 1/1/0/0/0 0/0 "GET test.k8s.local/ HTTP/2.0""#;
    /// Constructed: RFC 5424 framing, an IPv6 client, a query and captured headers with spaces.
    const RFC5424_IPV6: &str = r#"<134>1 2026-01-02T03:04:05.123456+00:00 lb1 haproxy 123 - - [2001:db8::7]:51234 [02/Jan/2026:03:04:05.120] fe_https~ be_app/app2 0/0/1/15/16 302 120 - - --NI 3/3/1/1/0 0/0 {Mozilla/5.0 (X11; Linux) Firefox/128.0|shop.example.com} {} "POST /login?next=/admin HTTP/1.1""#;
    /// Constructed: bare IPv6 `%ci:%cp`, a `+` for logasap and a journald-style tag.
    const BARE_IPV6_LOGASAP: &str = r#"haproxy[7]: 2001:db8::7:51234 [02/Jan/2026:03:04:05.120] fe be/s1 0/0/1/15/+16 200 +4096 - - ---- 3/3/1/1/+1 0/0 "GET /big HTTP/1.1""#;

    fn borrowed(text: &str) -> Option<Text<'_>> {
        Some(Cow::Borrowed(text))
    }

    fn parse_one(line: &str) -> Result<Record<'_>, Malformed> {
        parse(line, &mut TimeCache::new())
    }

    #[test]
    fn an_httplog_line_has_every_field() {
        assert_eq!(
            parse_one(CAPTURES),
            Ok(Record {
                time_us: Some(1_233_922_454_655_000),
                client_ip: Some("10.0.1.2".parse().unwrap()),
                method: borrowed("GET"),
                path: borrowed("/index.html"),
                protocol: borrowed("HTTP/1.1"),
                status: Some(200),
                bytes_sent: Some(2750),
                upstream_name: borrowed("static"),
                upstream_kind: UpstreamKind::HaproxyBackend,
                upstream_addr: borrowed("srv1"),
                request_time: Some(0.109),
                ..Record::default()
            })
        );
    }

    #[test]
    fn no_server_and_unreached_timers() {
        assert_eq!(
            parse_one(NO_SERVER),
            Ok(Record {
                time_us: Some(1_544_443_306_395_000),
                client_ip: Some("127.0.0.1".parse().unwrap()),
                method: borrowed("GET"),
                path: borrowed("/"),
                protocol: borrowed("HTTP/1.1"),
                status: Some(503),
                bytes_sent: Some(213),
                upstream_name: borrowed("http-webservices"),
                upstream_kind: UpstreamKind::HaproxyBackend,
                upstream_addr: None,
                request_time: Some(0.0),
                proxy_flags: borrowed("SC--"),
                ..Record::default()
            })
        );
    }

    #[test]
    fn a_bad_request_has_no_request_fields() {
        assert_eq!(
            parse_one(BAD_REQUEST),
            Ok(Record {
                time_us: Some(1_759_134_780_277_000),
                client_ip: Some("127.0.0.1".parse().unwrap()),
                status: Some(400),
                bytes_sent: Some(0),
                upstream_name: borrowed("f_foobar"),
                upstream_kind: UpstreamKind::HaproxyBackend,
                request_time: Some(0.0),
                proxy_flags: borrowed("CR--"),
                ..Record::default()
            })
        );
    }

    #[test]
    fn fields_appended_after_the_request_are_ignored() {
        let appended = parse_one(APPENDED_TLS).unwrap();
        assert_eq!(appended, parse_one(CAPTURES).unwrap());
    }

    #[test]
    fn the_ingress_controller_base_target_gives_host_and_path() {
        assert_eq!(
            parse_one(INGRESS_CONTROLLER),
            Ok(Record {
                time_us: Some(1_586_514_770_132_000),
                client_ip: Some("10.244.0.1".parse().unwrap()),
                method: borrowed("GET"),
                path: borrowed("/"),
                protocol: borrowed("HTTP/2.0"),
                status: Some(200),
                bytes_sent: Some(653),
                host: borrowed("test.k8s.local"),
                upstream_name: borrowed("test-echo1-8080"),
                upstream_kind: UpstreamKind::HaproxyBackend,
                upstream_addr: borrowed("SRV_TFW8V"),
                request_time: Some(0.003),
                ..Record::default()
            })
        );
    }

    #[test]
    fn a_base_target_with_a_port_and_a_deeper_path() {
        let line = INGRESS_CONTROLLER.replacen("test.k8s.local/", "test.k8s.local:8443/api/v1", 1);
        let record = parse_one(&line).unwrap();
        assert_eq!(record.host, borrowed("test.k8s.local"));
        assert_eq!(record.path, borrowed("/api/v1"));
    }

    #[test]
    fn absolute_and_asterisk_targets_stay_paths() {
        for target in ["http://evil.example/", "*"] {
            let line = CAPTURES.replacen("/index.html", target, 1);
            let record = parse_one(&line).unwrap();
            assert_eq!(record.path, borrowed(target));
            assert_eq!(record.host, None);
        }
    }

    #[test]
    fn rfc5424_framing_and_a_bracketed_ipv6_client() {
        let record = parse_one(RFC5424_IPV6).unwrap();
        assert_eq!(record.client_ip, Some("2001:db8::7".parse().unwrap()));
        assert_eq!(record.time_us, Some(1_767_323_045_120_000));
        assert_eq!(record.method, borrowed("POST"));
        assert_eq!(record.path, borrowed("/login"));
        assert_eq!(record.query, borrowed("next=/admin"));
        assert_eq!(record.status, Some(302));
        assert_eq!(record.upstream_name, borrowed("be_app"));
        assert_eq!(record.upstream_addr, borrowed("app2"));
        assert_eq!(record.request_time, Some(0.016));
        assert_eq!(record.proxy_flags, borrowed("--NI"));
        assert_eq!(record.host, None);
    }

    #[test]
    fn rfc5424_structured_data_is_skipped() {
        let line = RFC5424_IPV6.replacen(
            " - - [2001",
            r#" - [meta x="a\]b" y="2"][origin ip="10.0.0.1"] [2001"#,
            1,
        );
        assert_eq!(parse_one(&line), parse_one(RFC5424_IPV6));
    }

    #[test]
    fn a_priority_before_an_rfc3164_header() {
        let line = format!("<134>{CAPTURES}");
        assert_eq!(parse_one(&line), parse_one(CAPTURES));
        assert!(parse_one(&line).is_ok());
    }

    #[test]
    fn a_bare_ipv6_client_logasap_and_a_bare_tag() {
        let record = parse_one(BARE_IPV6_LOGASAP).unwrap();
        assert_eq!(record.client_ip, Some("2001:db8::7".parse().unwrap()));
        assert_eq!(record.bytes_sent, Some(4096));
        assert_eq!(record.request_time, Some(0.016));
        assert_eq!(record.upstream_addr, borrowed("s1"));
    }

    #[test]
    fn an_unknown_client_and_no_status() {
        let line = NO_SERVER
            .replacen("127.0.0.1:35982", "-:35982", 1)
            .replacen(" 503 ", " -1 ", 1);
        let record = parse_one(&line).unwrap();
        assert_eq!(record.client_ip, None);
        assert_eq!(record.status, None);
    }

    #[test]
    fn the_bare_message_parses_like_the_syslog_one() {
        let bare = CAPTURES.split_once(": ").unwrap().1;
        assert_eq!(parse_one(bare), parse_one(CAPTURES));
    }

    #[test]
    fn lines_that_are_not_requests_say_so() {
        for line in [
            "Feb  6 12:14:14 localhost haproxy[14389]: Proxy http-in started.",
            "Sep 20 15:42:59 67.43.156.13 haproxy[24551]: Connect from 67.43.156.13:40780 to 67.43.156.13:5000 (main/HTTP)",
            "Dec  3 18:27:14 localhost haproxy[6103]: 127.0.0.1:56059 [03/Dec/2012:17:35:10.380] frt/f1: Connection error during SSL handshake",
            "192.168.1.10:52422 [06/Feb/2021:12:14:14.655] www-https/1: SSL handshake failure",
            "Sep 20 15:44:23 127.0.0.1 haproxy[25457]: 127.0.0.1:40962 [20/Sep/2018:15:44:23.285] main app/<NOSRV> -1/-1/1 212 SC 1/1/0/0/0 0/0",
            "haproxy[14387]: 10.0.1.2:33313 [06/Feb/2009:12:12:51.443] fnt bck/srv1 0/0/5007 212 -- 0/0/0/0/3 0/0",
        ] {
            assert_eq!(
                parse_one(line),
                Err(Malformed::new("not a request line")),
                "{line}"
            );
        }
    }

    #[test]
    fn other_formats_are_refused() {
        for line in [
            r#"192.168.64.1 - - [07/Feb/2020:11:48:51 +0000] "POST /products HTTP/1.1" 200 59 "-" "curl/7.54.0" 89 0.001 [default-web-8080] [] 172.17.0.5:8080 59 0.000 200 529a007902362a5f51385a5fa7049884"#,
            r#"67.43.156.13 - - [25/Oct/2016:14:49:33 +0200] "GET / HTTP/1.1" 200 612 "-" "Mozilla/5.0""#,
            r#"172.17.0.1 - - [08/Dec/2021:13:59:39 +0000] "GET /cgi.cgi/ HTTP/1.1" 200 352 "-" "Nikto" 240 "test@docker" "http://172.17.0.3:80" 0ms"#,
            r#"http 2022-05-12T06:41:29.051646Z app/admin-LoadB-1EGHQRJIOLMFR/3011821a43ee0c5e 67.43.156.20:41542 - -1 -1 -1 301 - 233 390 "GET http://127.0.0.1:80/ HTTP/1.1" "Hello, world" - - -"#,
            r#"[2019-04-11T00:31:55.439Z] "GET /elastic HTTP/1.1" 404 NR 0 0 0 - "172.17.0.3" "curl/7.59.0" "58436667-bf70-4fd0-9fe9-cdadadecfd55" "192.168.99.107:30901" "-""#,
            r#"{"httpRequest":{"status":304},"timestamp":"2020-06-08T23:41:30.078651Z"}"#,
        ] {
            assert_eq!(
                parse_one(line),
                Err(Malformed::new("not a request line")),
                "{line}"
            );
        }
    }

    #[test]
    fn truncated_lines_are_refused() {
        for cut in [
            "10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750",
            "10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0",
            "10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {}",
            "10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu",
        ] {
            assert!(parse_one(cut).is_err(), "{cut}");
        }
    }

    #[test]
    fn an_unterminated_quote_is_refused() {
        let line = r#"10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 "GET /index.html HTTP/1.1"#;
        assert_eq!(
            parse_one(line),
            Err(Malformed::new("missing or unterminated request line"))
        );
    }

    #[test]
    fn a_bad_month_is_refused() {
        let line = CAPTURES.replacen("06/Feb/2009", "06/Fbr/2009", 1);
        assert_eq!(parse_one(&line), Err(Malformed::new("bad time")));
    }

    #[test]
    fn a_bad_client_address_is_refused() {
        for address in [
            "10.0.1.256:33317",
            "10.0.1.2",
            "10.0.1.2:port",
            "[2001:db8::7]51234",
        ] {
            let line = CAPTURES.replacen("10.0.1.2:33317", address, 1);
            assert_eq!(
                parse_one(&line),
                Err(Malformed::new("not a request line")),
                "{address}"
            );
        }
    }

    #[test]
    fn bad_numbers_are_refused() {
        for (from, to, reason) in [
            (" 200 2750 ", " 2xx 2750 ", "bad status"),
            (" 200 2750 ", " 200 -1 ", "bad byte count"),
            (
                " 1/1/1/1/0 ",
                " 1/1/1/1 ",
                "missing or bad connection counts",
            ),
        ] {
            let line = CAPTURES.replacen(from, to, 1);
            assert_eq!(parse_one(&line), Err(Malformed::new(reason)), "{line}");
        }
    }

    #[test]
    fn never_panics_on_cut_or_mangled_lines() {
        let samples = [
            CAPTURES,
            NO_SERVER,
            BAD_REQUEST,
            APPENDED_TLS,
            INGRESS_CONTROLLER,
            RFC5424_IPV6,
            BARE_IPV6_LOGASAP,
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
