//! Traefik's common log format (`accessLog.format: common`, the default):
//!
//! ```text
//! <client> - <user> [<time>] "<method> <path> <protocol>" <status> <size> "<referer>" "<user agent>"
//! <request count> "<router>" "<server URL>" <duration>ms
//! ```
//!
//! Traefik writes every value raw between its quotes (no escaping), so a `"` inside a user agent
//! is common enough in hostile traffic to plan for: the tail after the user agent has a fixed
//! shape and is read from the right, and the user agent is whatever lies between its quotes.
//! `-` stands for an unknown status, size, router or server; Traefik v1 wrote the referer as a
//! bare `-` and named frontends (`"backend not found"`) where v2 names routers. Routers chained
//! by multi-layer routing (`"a@docker -> b@docker"`) are kept as logged.

use crate::format::Malformed;
use crate::format::nginx::{Dialect, read_clf_fields};
use crate::format::tokens::{Cursor, parse_u64, text};
use crate::record::{Record, UpstreamKind};
use crate::time::TimeCache;

/// Parses one line.
pub(crate) fn parse<'a>(line: &'a str, clock: &mut TimeCache) -> Result<Record<'a>, Malformed> {
    let mut cursor = Cursor::new(line);
    let address = cursor.word().ok_or(Malformed::new("empty line"))?;
    let client_ip = address
        .parse()
        .map_err(|_| Malformed::new("client address is not an IP address"))?;
    let mut record = Record {
        client_ip: Some(client_ip),
        ..Record::default()
    };
    read_clf_fields(&mut cursor, clock, Dialect::Traefik, &mut record)?;
    let referer = if cursor.rest().starts_with('"') {
        cursor.quoted_raw()
    } else {
        cursor.word().filter(|word| *word == "-")
    }
    .ok_or(Malformed::new("missing or unterminated referer"))?;
    record.referer = text(referer);

    let tail = Tail::read(cursor.rest())?;
    record.user_agent = text(tail.user_agent);
    record.upstream_name = text(tail.router);
    if record.upstream_name.is_some() {
        record.upstream_kind = UpstreamKind::TraefikRouter;
    }
    record.upstream_addr = text(tail.server_url);
    record.request_time = Some(tail.duration_ms as f64 / 1000.0);
    Ok(record)
}

/// `"<user agent>" <request count> "<router>" "<server URL>" <duration>ms`.
struct Tail<'a> {
    user_agent: &'a str,
    router: &'a str,
    server_url: &'a str,
    duration_ms: u64,
}

impl<'a> Tail<'a> {
    /// Reads the tail right to left: the router and server URL never hold a `"` (router names are
    /// identifiers, Go escapes `"` in URLs) while the user agent may.
    fn read(tail: &'a str) -> Result<Self, Malformed> {
        let tail = tail.trim_end_matches(' ');
        let (rest, duration) = last_word(tail);
        let duration_ms = duration
            .strip_suffix("ms")
            .and_then(parse_u64)
            .ok_or(Malformed::new("missing or bad duration (`<n>ms`)"))?;
        let (rest, server_url) =
            last_field(rest).ok_or(Malformed::new("missing or unterminated server URL"))?;
        let (rest, router) =
            last_field(rest).ok_or(Malformed::new("missing or unterminated router name"))?;
        let (rest, count) = last_word(rest);
        if count != "-" && parse_u64(count).is_none() {
            return Err(Malformed::new("bad request count"));
        }
        let user_agent = match rest.trim_end_matches(' ') {
            "-" => "-",
            quoted => quoted
                .strip_prefix('"')
                .and_then(|inner| inner.strip_suffix('"'))
                .ok_or(Malformed::new("missing or unterminated user agent"))?,
        };
        Ok(Self {
            user_agent,
            router,
            server_url,
            duration_ms,
        })
    }
}

/// Splits off the last space-separated word: (what comes before it, trailing spaces removed, and
/// the word). The whole text is the word when it has no space.
fn last_word(text: &str) -> (&str, &str) {
    match text.rfind(' ') {
        Some(space) => (text[..space].trim_end_matches(' '), &text[space + 1..]),
        None => ("", text),
    }
}

/// Splits off the last field, `"quoted"` (content without quotes, no `"` inside) or a bare word.
fn last_field(text: &str) -> Option<(&str, &str)> {
    let Some(before_quote) = text.strip_suffix('"') else {
        let (rest, word) = last_word(text);
        return (!word.is_empty()).then_some((rest, word));
    };
    let open = before_quote.rfind('"')?;
    let before = &before_quote[..open];
    // The opening quote starts a field: it follows a space (or starts the text).
    if !(before.is_empty() || before.ends_with(' ')) {
        return None;
    }
    Some((before.trim_end_matches(' '), &before_quote[open + 1..]))
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::format::tokens::mangled;
    use crate::record::Text;

    /// Real lines: elastic/integrations `traefik` `test-format-common.log` and crowdsecurity/hub
    /// `.tests/traefik_clf/traefik_clf.log`.
    const V1_ROUTER: &str = r#"192.168.33.1 - - [02/Oct/2017:20:22:07 +0000] "GET /ui/favicons/favicon-16x16.png HTTP/1.1" 304 0 "http://example.com/login" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/61.0.3163.100 Safari/537.36" 262 "Host-host-1" "http://172.19.0.3:5601" 2ms"#;
    const DOCKER: &str = r#"172.17.0.1 - - [08/Dec/2021:13:59:39 +0000] "GET /cgi.cgi/ HTTP/1.1" 200 352 "-" "Nikto" 240 "test@docker" "http://172.17.0.3:80" 0ms"#;
    const BARE_REFERER: &str = r#"89.160.20.156 - - [28/Feb/2018:17:30:33 +0000] "GET /en/ HTTP/2.0" 200 2814 - "Mozilla/5.0 (iPhone; CPU iPhone OS 11_2_5 like Mac OS X) AppleWebKit/604.5.6 (KHTML, like Gecko) Version/11.0 Mobile/15D60 Safari/604.1" 13 "Host-host1-com-0" "http://172.19.0.6:14008" 247ms"#;
    const NO_BACKEND: &str = r#"::1 - - [29/Nov/2018:15:03:51 +0000] "GET / HTTP/1.1" 404 19 "-" "curl/7.62.0" 10 "backend not found" "/" 0ms"#;
    const NOTHING_KNOWN: &str =
        r#"::1 - - [15/Apr/2024:13:04:10 +0000] "GET / HTTP/1.1" - - "-" "-" 27 "-" "-" 0ms"#;
    const CHAINED_ROUTERS: &str = r#"172.17.1.3 - - [24/Nov/2024:13:40:15 +0000] "GET /api/users HTTP/1.1" 200 450 "-" "curl/7.68.0" 300 "root@docker -> intermediate1@docker -> intermediate2@docker -> leaf@docker" "http://172.17.0.4:80" 25ms"#;
    /// Constructed: Traefik writes quotes inside a user agent raw.
    const RAW_QUOTES: &str = r#"203.0.113.9 - - [08/Dec/2021:13:59:39 +0000] "GET /index.php?id=1 HTTP/1.1" 404 19 "-" "Mozilla/5.0" 9 "x" "y" 1ms" 240 "web@kubernetescrd" "http://10.42.0.7:8080" 3ms"#;

    fn borrowed(text: &str) -> Option<Text<'_>> {
        Some(Cow::Borrowed(text))
    }

    fn parse_one(line: &str) -> Result<Record<'_>, Malformed> {
        parse(line, &mut TimeCache::new())
    }

    #[test]
    fn a_v1_line_has_every_field() {
        assert_eq!(
            parse_one(V1_ROUTER),
            Ok(Record {
                time_us: Some(1_506_975_727_000_000),
                client_ip: Some("192.168.33.1".parse().unwrap()),
                method: borrowed("GET"),
                path: borrowed("/ui/favicons/favicon-16x16.png"),
                protocol: borrowed("HTTP/1.1"),
                status: Some(304),
                bytes_sent: Some(0),
                referer: borrowed("http://example.com/login"),
                user_agent: borrowed(
                    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/61.0.3163.100 Safari/537.36"
                ),
                upstream_name: borrowed("Host-host-1"),
                upstream_kind: UpstreamKind::TraefikRouter,
                upstream_addr: borrowed("http://172.19.0.3:5601"),
                request_time: Some(0.002),
                ..Record::default()
            })
        );
    }

    #[test]
    fn a_v2_line_names_its_router() {
        assert_eq!(
            parse_one(DOCKER),
            Ok(Record {
                time_us: Some(1_638_971_979_000_000),
                client_ip: Some("172.17.0.1".parse().unwrap()),
                method: borrowed("GET"),
                path: borrowed("/cgi.cgi/"),
                protocol: borrowed("HTTP/1.1"),
                status: Some(200),
                bytes_sent: Some(352),
                user_agent: borrowed("Nikto"),
                upstream_name: borrowed("test@docker"),
                upstream_kind: UpstreamKind::TraefikRouter,
                upstream_addr: borrowed("http://172.17.0.3:80"),
                request_time: Some(0.0),
                ..Record::default()
            })
        );
    }

    #[test]
    fn a_bare_dash_referer_is_unset() {
        let record = parse_one(BARE_REFERER).unwrap();
        assert_eq!(record.referer, None);
        assert_eq!(
            record.user_agent,
            borrowed(
                "Mozilla/5.0 (iPhone; CPU iPhone OS 11_2_5 like Mac OS X) AppleWebKit/604.5.6 (KHTML, like Gecko) Version/11.0 Mobile/15D60 Safari/604.1"
            )
        );
        assert_eq!(record.upstream_name, borrowed("Host-host1-com-0"));
        assert_eq!(record.upstream_addr, borrowed("http://172.19.0.6:14008"));
        assert_eq!(record.request_time, Some(0.247));
        assert_eq!(record.protocol, borrowed("HTTP/2.0"));
        assert_eq!(record.time_us, Some(1_519_839_033_000_000));
    }

    #[test]
    fn a_v1_frontend_without_backend_is_kept_as_logged() {
        let record = parse_one(NO_BACKEND).unwrap();
        assert_eq!(record.client_ip, Some("::1".parse().unwrap()));
        assert_eq!(record.upstream_name, borrowed("backend not found"));
        assert_eq!(record.upstream_addr, borrowed("/"));
        assert_eq!(record.status, Some(404));
        assert_eq!(record.user_agent, borrowed("curl/7.62.0"));
    }

    #[test]
    fn unknown_status_size_router_and_server_are_unset() {
        assert_eq!(
            parse_one(NOTHING_KNOWN),
            Ok(Record {
                time_us: Some(1_713_186_250_000_000),
                client_ip: Some("::1".parse().unwrap()),
                method: borrowed("GET"),
                path: borrowed("/"),
                protocol: borrowed("HTTP/1.1"),
                request_time: Some(0.0),
                ..Record::default()
            })
        );
    }

    #[test]
    fn chained_routers_are_kept_as_logged() {
        let record = parse_one(CHAINED_ROUTERS).unwrap();
        assert_eq!(
            record.upstream_name,
            borrowed("root@docker -> intermediate1@docker -> intermediate2@docker -> leaf@docker")
        );
        assert_eq!(record.request_time, Some(0.025));
    }

    #[test]
    fn raw_quotes_in_a_user_agent_do_not_shift_the_tail() {
        let record = parse_one(RAW_QUOTES).unwrap();
        assert_eq!(record.user_agent, borrowed(r#"Mozilla/5.0" 9 "x" "y" 1ms"#));
        assert_eq!(record.upstream_name, borrowed("web@kubernetescrd"));
        assert_eq!(record.upstream_addr, borrowed("http://10.42.0.7:8080"));
        assert_eq!(record.request_time, Some(0.003));
        assert_eq!(record.query, borrowed("id=1"));
    }

    #[test]
    fn an_unknown_request_line_is_unset() {
        let line = DOCKER.replacen(r#""GET /cgi.cgi/ HTTP/1.1""#, r#""- - -""#, 1);
        let record = parse_one(&line).unwrap();
        assert_eq!(
            (record.method, record.path, record.query, record.protocol),
            (None, None, None, None)
        );
    }

    #[test]
    fn combined_and_upstreaminfo_lines_are_refused() {
        let combined = r#"67.43.156.13 - - [25/Oct/2016:14:49:33 +0200] "GET / HTTP/1.1" 200 612 "-" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_12_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.59 Safari/537.36""#;
        let kong = r#"10.0.0.7 - - [12/Nov/2025:10:00:01 +0000] "GET /orders/1 HTTP/1.1" 200 512 "-" "curl/8.4.0" kong_request_id: "5c1fd0a6a2b04b4a6a5d3c6f3b6d2e11""#;
        let upstreaminfo = r#"192.168.64.1 - - [07/Feb/2020:11:48:51 +0000] "POST /products HTTP/1.1" 200 59 "-" "curl/7.54.0" 89 0.001 [default-web-8080] [] 172.17.0.5:8080 59 0.000 200 529a007902362a5f51385a5fa7049884"#;
        let common = r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#;
        for line in [combined, kong, upstreaminfo, common] {
            assert!(parse_one(line).is_err(), "{line}");
        }
        assert_eq!(
            parse_one(combined),
            Err(Malformed::new("missing or bad duration (`<n>ms`)"))
        );
    }

    #[test]
    fn other_formats_are_refused() {
        for line in [
            r#"10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1""#,
            r#"[2019-04-11T00:31:55.439Z] "GET /elastic HTTP/1.1" 404 NR 0 0 0 - "172.17.0.3" "curl/7.59.0" "58436667-bf70-4fd0-9fe9-cdadadecfd55" "192.168.99.107:30901" "-""#,
            r#"{"ClientAddr":"10.10.10.20:23456","DownstreamStatus":404,"RouterName":"service-foo@kubernetescrd"}"#,
        ] {
            assert_eq!(
                parse_one(line),
                Err(Malformed::new("client address is not an IP address")),
                "{line}"
            );
        }
    }

    #[test]
    fn truncated_lines_are_refused() {
        for cut in [
            r#"172.17.0.1 - - [08/Dec/2021:13:59:39 +0000] "GET /cgi.cgi/ HTTP/1.1" 200 352 "-""#,
            r#"172.17.0.1 - - [08/Dec/2021:13:59:39 +0000] "GET /cgi.cgi/ HTTP/1.1" 200 352 "-" "Nikto" 240"#,
            r#"172.17.0.1 - - [08/Dec/2021:13:59:39 +0000] "GET /cgi.cgi/ HTTP/1.1" 200 352 "-" "Nikto" 240 "test@docker""#,
            r#"172.17.0.1 - - [08/Dec/2021:13:59:39 +0000] "GET /cgi.cgi/ HTTP/1.1" 200 352 "-" "Nikto" 240 "test@docker" "http://172.17.0.3:80" 0m"#,
        ] {
            assert!(parse_one(cut).is_err(), "{cut}");
        }
    }

    #[test]
    fn an_unterminated_quote_is_refused() {
        let line = r#"172.17.0.1 - - [08/Dec/2021:13:59:39 +0000] "GET /cgi.cgi/ HTTP/1.1" 200 352 "-" "Nikto 240 "test@docker" "http://172.17.0.3:80" 0ms"#;
        assert_eq!(
            parse_one(line),
            Err(Malformed::new("missing or unterminated user agent"))
        );
        let line = r#"172.17.0.1 - - [08/Dec/2021:13:59:39 +0000] "GET /cgi.cgi/ HTTP/1.1 200 352"#;
        assert_eq!(
            parse_one(line),
            Err(Malformed::new("missing or unterminated request line"))
        );
    }

    #[test]
    fn a_bad_month_is_refused() {
        let line = DOCKER.replacen("/Dec/", "/Dez/", 1);
        assert_eq!(parse_one(&line), Err(Malformed::new("bad time")));
    }

    #[test]
    fn a_bad_client_address_is_refused() {
        let line = DOCKER.replacen("172.17.0.1 ", "172.17.0.1:4242 ", 1);
        assert_eq!(
            parse_one(&line),
            Err(Malformed::new("client address is not an IP address"))
        );
    }

    #[test]
    fn never_panics_on_cut_or_mangled_lines() {
        let samples = [
            V1_ROUTER,
            DOCKER,
            BARE_REFERER,
            NO_BACKEND,
            NOTHING_KNOWN,
            CHAINED_ROUTERS,
            RAW_QUOTES,
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
