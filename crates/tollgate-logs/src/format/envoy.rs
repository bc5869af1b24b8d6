//! Envoy's default text access log, as Contour writes it, as Emissary writes it (with an
//! `ACCESS ` prefix), and Istio's longer TEXT format.
//!
//! Envoy's default format string is
//! `[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE%
//! %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%
//! "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%"
//! "%UPSTREAM_HOST%"`. Istio (1.8 and later) inserts `%RESPONSE_CODE_DETAILS%
//! %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%"` after the flags and
//! appends `%UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS%
//! %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%`.
//!
//! Envoy's default format has no peer address at all: the client is only known from the
//! `X-Forwarded-For` header, which any client can set. Istio's format has the peer
//! (`DOWNSTREAM_REMOTE_ADDRESS`), which wins when present.

use std::borrow::Cow;

use crate::format::Malformed;
use crate::format::field_values::{
    envoy_upstream, first_forwarded, ip_maybe_port, seconds_text, whole_number,
};
use crate::format::tokens::{Cursor, split_request, strip_port, unset_to_none};
use crate::record::Record;
use crate::time::{TimeCache, rfc3339};

/// Parses one line.
pub(crate) fn parse<'a>(line: &'a str, _clock: &mut TimeCache) -> Result<Record<'a>, Malformed> {
    let line = line.strip_prefix("ACCESS ").unwrap_or(line);
    let mut cursor = Cursor::new(line);
    let start_time = cursor
        .bracketed()
        .ok_or(Malformed::new("no [start time]"))?;
    let time_us = rfc3339(start_time).ok_or(Malformed::new("start time is not RFC 3339"))?;
    let request = cursor
        .quoted()
        .ok_or(Malformed::new("no quoted request line"))?;
    let status = cursor
        .word()
        .and_then(|word| word.parse::<u16>().ok())
        .filter(|status| *status < 1000)
        .ok_or(Malformed::new("response code is not a number"))?;
    let flags = cursor.word().ok_or(Malformed::new("no response flags"))?;

    // Istio's extra fields sit between the flags and the byte counts: two words and a quoted
    // field, where the default format has three numbers.
    let mut lookahead = cursor;
    let istio = lookahead.word().is_some()
        && lookahead.word().is_some()
        && lookahead.rest().starts_with('"');
    if istio {
        cursor = lookahead;
        cursor.quoted().ok_or(Malformed::new(
            "no quoted upstream transport failure reason",
        ))?;
    }

    let _bytes_received = number(&mut cursor, "bytes received is not a number")?;
    let bytes_sent = number(&mut cursor, "bytes sent is not a number")?;
    let duration_ms = number(&mut cursor, "duration is not a number")?;
    let upstream_service_time = cursor
        .word()
        .ok_or(Malformed::new("no upstream service time"))?;
    let forwarded_for = quoted(&mut cursor)?;
    let user_agent = quoted(&mut cursor)?;
    let request_id = quoted(&mut cursor)?;
    let authority = quoted(&mut cursor)?;
    let upstream_host = quoted(&mut cursor)?;

    // The Istio tail: six words. A default line ends here.
    let mut tail = [None; 6];
    if istio || !cursor.is_done() {
        for slot in &mut tail {
            *slot = Some(
                cursor
                    .word()
                    .ok_or(Malformed::new("truncated Istio fields"))?,
            );
        }
    }
    let [
        cluster,
        _upstream_local,
        _downstream_local,
        downstream_remote,
        _server_name,
        route,
    ] = tail.map(|word| word.and_then(unset_to_none));

    let request = if request == "- - -" {
        // TCP proxy lines have no request.
        Default::default()
    } else {
        split_request(request)
    };
    let (upstream_name, upstream_kind) =
        envoy_upstream(route.map(Cow::Borrowed), cluster.map(Cow::Borrowed));
    Ok(Record {
        time_us: Some(time_us),
        // The peer when Istio logged it; Envoy's default format has only the client-supplied
        // `X-Forwarded-For`, whose first address is the client as the first proxy was told.
        client_ip: downstream_remote
            .and_then(ip_maybe_port)
            .or_else(|| forwarded_for.and_then(first_forwarded)),
        remote_user: None,
        method: request.method.map(Cow::Borrowed),
        path: request.path.map(Cow::Borrowed),
        query: request.query.map(Cow::Borrowed),
        protocol: request.protocol.map(Cow::Borrowed),
        status: Some(status),
        bytes_sent: Some(bytes_sent),
        referer: None,
        user_agent: user_agent.map(Cow::Borrowed),
        host: authority
            .map(strip_port)
            .and_then(unset_to_none)
            .map(Cow::Borrowed),
        upstream_name,
        upstream_kind,
        upstream_addr: upstream_host.map(Cow::Borrowed),
        upstream_status: None,
        request_time: Some(duration_ms as f64 / 1000.0),
        upstream_response_time: whole_number(upstream_service_time)
            .map(|ms| Cow::Owned(seconds_text(ms, 3))),
        request_id: request_id.map(Cow::Borrowed),
        proxy_flags: unset_to_none(flags).map(Cow::Borrowed),
    })
}

/// A word that must be a whole number.
fn number(cursor: &mut Cursor<'_>, reason: &'static str) -> Result<u64, Malformed> {
    cursor
        .word()
        .and_then(whole_number)
        .ok_or(Malformed::new(reason))
}

/// A quoted field that must be there; `None` when it logged `-` or nothing.
fn quoted<'a>(cursor: &mut Cursor<'a>) -> Result<Option<&'a str>, Malformed> {
    cursor
        .quoted()
        .map(unset_to_none)
        .ok_or(Malformed::new("missing quoted field"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::field_values::tests::assert_no_panic;
    use crate::record::UpstreamKind;

    /// elastic/integrations `packages/envoyproxy/data_stream/log/_dev/test/pipeline/test-log.log`.
    const TCP: &str =
        r#"[2019-04-08T16:50:12.533Z] "- - -" 0 - 87 254 4 - "-" "-" "-" "-" "172.27.0.2:80""#;
    const SERVICE: &str = r#"[2019-04-08T16:16:55.931Z] "GET /service/1 HTTP/1.1" 200 - 0 89 5 4 "-" "curl/7.54.0" "c219f6da-2b7f-483e-9ced-ec323d9330a9" "localhost:8000" "172.27.0.3:80""#;
    const NO_ROUTE: &str = r#"[2019-04-11T00:31:55.439Z] "GET /elastic HTTP/1.1" 404 NR 0 0 0 - "172.17.0.3" "curl/7.59.0" "58436667-bf70-4fd0-9fe9-cdadadecfd55" "192.168.99.107:30901" "-""#;
    const REDIRECT: &str = r#"[2019-04-11T00:51:07.980Z] "GET /elastic/ HTTP/1.1" 301 - 0 0 41 39 "172.17.0.3" "curl/7.59.0" "078d1daa-b786-4d6d-85a5-7e4366adaa19" "www.elastic.co" "192.168.1.10:80""#;
    const EMISSARY: &str = r#"ACCESS [2024-04-25T17:51:55.294Z] "GET /backend/ HTTP/1.1" 200 - 0 141 0 0 "192.168.0.9" "curl/8.4.0" "b7ba9b4c-f4b7-47c2-9718-c23aa1465f49" "localhost:9001" "192.168.96.113:80""#;
    /// projectcontour.io "Access Logging".
    const CONTOUR: &str = r#"[2021-04-14T16:36:00.361Z] "GET /foo HTTP/1.1" 200 - 0 463 6 3 "-" "HTTPie/1.0.3" "837aa8dc-344f-4faa-b7d5-c9cce1028519" "localhost:8080" "127.0.0.1:8081""#;
    /// crowdsecurity/hub `.tests/envoy-logs/envoy.log` line 4 (after its CRI wrapper).
    const TCP_UPSTREAM: &str = r#"[2016-04-15T20:17:00.310Z] "POST /api/v1/locations HTTP/2" 204 - 154 0 226 100 "10.0.35.28" "nsq2http" "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2" "locations" "tcp://10.0.2.1:80""#;
    /// elastic/integrations `packages/istio/data_stream/access_logs/_dev/test/pipeline/test-access-logs.log`.
    const ISTIO: &str = r#"[2022-07-20T09:52:24.955Z] "GET /details/0 HTTP/1.1" 200 - via_upstream - "-" 0 178 2 1 "-" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/103.0.5060.114 Safari/537.36" "785918d6-06b6-9312-bf77-6d9bd968dc21" "details:9080" "10.68.2.10:9080" inbound|9080|| 127.0.0.6:47889 10.68.2.10:9080 10.68.1.7:39696 outbound_.9080_._.details.default.svc.cluster.local default"#;
    const ISTIO_OUTBOUND: &str = r#"[2022-08-22T13:08:23.188Z] "GET /reviews/0 HTTP/1.1" 200 - via_upstream - "-" 0 442 12 12 "-" "curl/7.79.1" "00bcf1d7-12c4-93b9-b36a-bc0faac8e428" "reviews:9080" "10.124.1.5:9080" outbound|9080||reviews.default.svc.cluster.local 10.124.2.6:50960 10.0.18.132:9080 10.124.2.6:52930 - default"#;
    const ISTIO_IPV6: &str = r#"[2022-08-22T13:20:22.460Z] "GET /ratings/0 HTTP/1.1" 200 - via_upstream - "-" 0 48 1 0 "-" "curl/7.79.1" "72f12c1b-8a44-9a62-b28e-2296da5b1118" "ratings:9080" "[2a02:cf40::7]:3000" inbound|9080|| 127.0.0.6:38951 10.124.0.11:9080 [2a02:cf40::4e36]:5000 outbound_.9080_._.ratings.default.svc.cluster.local default"#;
    /// fredcoq/kubefrog-kvmserver `istio/readme.md`: an Istio ingress gateway denying and not
    /// routing requests.
    const ISTIO_EXT_AUTHZ: &str = r#"[2024-06-02T13:35:27.054Z] "GET / HTTP/2" 302 UAEX ext_authz_denied - "-" 0 387 16 - "192.168.0.24" "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:126.0) Gecko/20100101 Firefox/126.0" "1d3ec87f-d974-4521-b5ac-23404817a56a" "kubeflow.kubefrog.fr" "-" outbound|80||centraldashboard.kubeflow.svc.cluster.local - 10.0.0.196:8443 192.168.0.24:41604 kubeflow.kubefrog.fr -"#;
    const ISTIO_NO_ROUTE: &str = r#"[2024-06-02T13:35:27.116Z] "GET /realms/kubeflow/protocol/openid-connect/auth?approval_prompt=force&client_id=3d36c09c69f4742960599330d5b796a9&nonce=unbso0L930OzafqDFd6D7I_sDsTFx_1pUsHzm_j11TI&redirect_uri=https%3A%2F%2Fkubeflow.kubefrog.fr%2Foauth2%2Fcallback&response_type=code&scope=openid&state=yrD_380ezS299jLCYU4n135fR8Yhe07GQ9VNqOlf94E%3A%2F HTTP/2" 404 NR route_not_found - "-" 0 0 0 - "192.168.0.24" "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:126.0) Gecko/20100101 Firefox/126.0" "0b60ced5-f525-45e5-9233-171eb33b7c95" "auth.kubefrog.fr" "-" - - 10.0.0.196:8443 192.168.0.24:41604 kubeflow.kubefrog.fr - "#;
    /// Emissary's TCP line with flags (elastic test-log.log, inside its `message` wrapper).
    const EMISSARY_TCP_FAILED: &str = r#"ACCESS [2019-04-06T06:20:05.972Z] "- - -" 0 UF,URX 0 0 0 - "-" "-" "-" "-" "127.0.0.1:9200""#;

    const SAMPLES: &[&str] = &[
        TCP,
        SERVICE,
        NO_ROUTE,
        REDIRECT,
        EMISSARY,
        CONTOUR,
        TCP_UPSTREAM,
        ISTIO,
        ISTIO_OUTBOUND,
        ISTIO_IPV6,
        ISTIO_EXT_AUTHZ,
        ISTIO_NO_ROUTE,
        EMISSARY_TCP_FAILED,
    ];

    fn parsed(line: &str) -> Record<'_> {
        parse(line, &mut TimeCache::new()).unwrap_or_else(|error| panic!("{error}: {line}"))
    }

    fn text(value: &str) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(value))
    }

    #[test]
    fn default_format_with_no_route() {
        assert_eq!(
            parsed(NO_ROUTE),
            Record {
                time_us: rfc3339("2019-04-11T00:31:55.439Z"),
                client_ip: "172.17.0.3".parse().ok(),
                method: text("GET"),
                path: text("/elastic"),
                protocol: text("HTTP/1.1"),
                status: Some(404),
                bytes_sent: Some(0),
                user_agent: text("curl/7.59.0"),
                host: text("192.168.99.107"),
                request_time: Some(0.0),
                request_id: text("58436667-bf70-4fd0-9fe9-cdadadecfd55"),
                proxy_flags: text("NR"),
                ..Record::default()
            }
        );
    }

    #[test]
    fn default_format_with_an_upstream() {
        assert_eq!(
            parsed(REDIRECT),
            Record {
                time_us: rfc3339("2019-04-11T00:51:07.980Z"),
                client_ip: "172.17.0.3".parse().ok(),
                method: text("GET"),
                path: text("/elastic/"),
                protocol: text("HTTP/1.1"),
                status: Some(301),
                bytes_sent: Some(0),
                user_agent: text("curl/7.59.0"),
                host: text("www.elastic.co"),
                upstream_addr: text("192.168.1.10:80"),
                request_time: Some(0.041),
                upstream_response_time: Some(Cow::Owned("0.039".to_owned())),
                request_id: text("078d1daa-b786-4d6d-85a5-7e4366adaa19"),
                ..Record::default()
            }
        );
    }

    #[test]
    fn default_format_without_forwarded_for_has_no_client() {
        let record = parsed(SERVICE);
        assert_eq!(record.client_ip, None);
        assert_eq!(record.host, text("localhost"));
        assert_eq!(record.bytes_sent, Some(89));
        assert_eq!(record.request_time, Some(0.005));
        assert_eq!(record.upstream_response_time.as_deref(), Some("0.004"));
        assert_eq!(record.upstream_addr, text("172.27.0.3:80"));
    }

    #[test]
    fn contour_default_line() {
        assert_eq!(
            parsed(CONTOUR),
            Record {
                time_us: rfc3339("2021-04-14T16:36:00.361Z"),
                method: text("GET"),
                path: text("/foo"),
                protocol: text("HTTP/1.1"),
                status: Some(200),
                bytes_sent: Some(463),
                user_agent: text("HTTPie/1.0.3"),
                host: text("localhost"),
                upstream_addr: text("127.0.0.1:8081"),
                request_time: Some(0.006),
                upstream_response_time: Some(Cow::Owned("0.003".to_owned())),
                request_id: text("837aa8dc-344f-4faa-b7d5-c9cce1028519"),
                ..Record::default()
            }
        );
    }

    #[test]
    fn emissary_prefix_is_skipped() {
        assert_eq!(
            parsed(EMISSARY),
            Record {
                time_us: rfc3339("2024-04-25T17:51:55.294Z"),
                client_ip: "192.168.0.9".parse().ok(),
                method: text("GET"),
                path: text("/backend/"),
                protocol: text("HTTP/1.1"),
                status: Some(200),
                bytes_sent: Some(141),
                user_agent: text("curl/8.4.0"),
                host: text("localhost"),
                upstream_addr: text("192.168.96.113:80"),
                request_time: Some(0.0),
                upstream_response_time: Some(Cow::Owned("0.000".to_owned())),
                request_id: text("b7ba9b4c-f4b7-47c2-9718-c23aa1465f49"),
                ..Record::default()
            }
        );
    }

    #[test]
    fn tcp_proxy_lines_have_no_request() {
        assert_eq!(
            parsed(TCP),
            Record {
                time_us: rfc3339("2019-04-08T16:50:12.533Z"),
                status: Some(0),
                bytes_sent: Some(254),
                upstream_addr: text("172.27.0.2:80"),
                request_time: Some(0.004),
                ..Record::default()
            }
        );
        let failed = parsed(EMISSARY_TCP_FAILED);
        assert_eq!(failed.method, None);
        assert_eq!(failed.status, Some(0));
        assert_eq!(failed.proxy_flags, text("UF,URX"));
        assert_eq!(failed.upstream_addr, text("127.0.0.1:9200"));
    }

    #[test]
    fn upstream_hosts_keep_their_scheme() {
        let record = parsed(TCP_UPSTREAM);
        assert_eq!(record.method, text("POST"));
        assert_eq!(record.protocol, text("HTTP/2"));
        assert_eq!(record.status, Some(204));
        assert_eq!(record.client_ip, "10.0.35.28".parse().ok());
        assert_eq!(record.host, text("locations"));
        assert_eq!(record.upstream_addr, text("tcp://10.0.2.1:80"));
        assert_eq!(record.request_time, Some(0.226));
        assert_eq!(record.upstream_response_time.as_deref(), Some("0.100"));
    }

    #[test]
    fn istio_text_reads_the_peer_and_the_cluster() {
        assert_eq!(
            parsed(ISTIO),
            Record {
                time_us: rfc3339("2022-07-20T09:52:24.955Z"),
                client_ip: "10.68.1.7".parse().ok(),
                method: text("GET"),
                path: text("/details/0"),
                protocol: text("HTTP/1.1"),
                status: Some(200),
                bytes_sent: Some(178),
                user_agent: text(
                    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/103.0.5060.114 Safari/537.36"
                ),
                host: text("details"),
                upstream_name: text("inbound|9080||"),
                upstream_kind: UpstreamKind::EnvoyCluster,
                upstream_addr: text("10.68.2.10:9080"),
                request_time: Some(0.002),
                upstream_response_time: Some(Cow::Owned("0.001".to_owned())),
                request_id: text("785918d6-06b6-9312-bf77-6d9bd968dc21"),
                ..Record::default()
            }
        );
        let outbound = parsed(ISTIO_OUTBOUND);
        assert_eq!(
            outbound.upstream_name,
            text("outbound|9080||reviews.default.svc.cluster.local")
        );
        assert_eq!(outbound.upstream_kind, UpstreamKind::EnvoyCluster);
        assert_eq!(outbound.client_ip, "10.124.2.6".parse().ok());
    }

    #[test]
    fn istio_ipv6_peers_lose_their_brackets_and_port() {
        let record = parsed(ISTIO_IPV6);
        assert_eq!(record.client_ip, "2a02:cf40::4e36".parse().ok());
        assert_eq!(record.upstream_addr, text("[2a02:cf40::7]:3000"));
    }

    #[test]
    fn istio_verdicts_are_flags() {
        let denied = parsed(ISTIO_EXT_AUTHZ);
        assert_eq!(denied.status, Some(302));
        assert_eq!(denied.proxy_flags, text("UAEX"));
        assert_eq!(denied.upstream_addr, None);
        assert_eq!(denied.upstream_response_time, None);
        assert_eq!(denied.client_ip, "192.168.0.24".parse().ok());
        assert_eq!(denied.protocol, text("HTTP/2"));
        assert_eq!(
            denied.upstream_name,
            text("outbound|80||centraldashboard.kubeflow.svc.cluster.local")
        );
        let unrouted = parsed(ISTIO_NO_ROUTE);
        assert_eq!(unrouted.status, Some(404));
        assert_eq!(unrouted.proxy_flags, text("NR"));
        assert_eq!(unrouted.upstream_name, None);
        assert_eq!(unrouted.upstream_kind, UpstreamKind::None);
        assert_eq!(unrouted.host, text("auth.kubefrog.fr"));
        assert_eq!(
            unrouted.path,
            text("/realms/kubeflow/protocol/openid-connect/auth")
        );
        assert_eq!(
            unrouted.query,
            text(
                "approval_prompt=force&client_id=3d36c09c69f4742960599330d5b796a9&nonce=unbso0L930OzafqDFd6D7I_sDsTFx_1pUsHzm_j11TI&redirect_uri=https%3A%2F%2Fkubeflow.kubefrog.fr%2Foauth2%2Fcallback&response_type=code&scope=openid&state=yrD_380ezS299jLCYU4n135fR8Yhe07GQ9VNqOlf94E%3A%2F"
            )
        );
    }

    #[test]
    fn other_formats_are_rejected() {
        for line in [
            r#"192.168.64.1 - - [07/Feb/2020:11:48:51 +0000] "POST /products HTTP/1.1" 200 59 "-" "curl/7.54.0" 89 0.001 [default-web-8080] [] 172.17.0.5:8080 59 0.000 200 529a007902362a5f51385a5fa7049884"#,
            r#"Feb  6 12:14:14 localhost haproxy[14389]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1""#,
            r#"http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2018-07-02T22:22:48.364000Z "forward,redirect" "-" "-" "10.0.0.1:80" "200" "-" "-""#,
            r#"{":authority":"www.example.com","response_code":200,"start_time":"2025-12-31T16:37:40.479Z"}"#,
            r#"{"message":"ACCESS [2019-04-10T03:49:34.451Z] \"GET /httpbin/status/501 HTTP/1.1\" 501 - 0 0 180 179 \"172.17.0.3\" \"curl/7.59.0\" \"413bf460-bd56-4515-ada4-2a69c5e78e54\" \"httpbin.org\" \"67.43.156.18:80\"","stream":"stdout"}"#,
            r#"2025-12-31T19:00:00.310000000+01:00 stdout F [2016-04-15T20:17:00.310Z] "POST /api/v1/locations HTTP/2" 204 - 154 0 226 100 "10.0.35.28" "nsq2http" "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2" "locations" "tcp://10.0.2.1:80""#,
            "",
            "[]",
        ] {
            assert!(parse(line, &mut TimeCache::new()).is_err(), "{line}");
        }
    }

    #[test]
    fn truncated_and_broken_lines_are_rejected() {
        for line in [
            // Cut inside the request, after the status, before the last quoted field, and
            // inside Istio's tail.
            &NO_ROUTE[..40],
            &NO_ROUTE[..NO_ROUTE.find(" NR").unwrap()],
            &NO_ROUTE[..NO_ROUTE.rfind(" \"").unwrap()],
            &ISTIO[..ISTIO.rfind(' ').unwrap()],
            r#"[2019-04-11 junk] "GET / HTTP/1.1" 404 NR 0 0 0 - "-" "-" "-" "-" "-""#,
            r#"[2019-04-11T00:31:55.439Z] "GET / HTTP/1.1" 4O4 NR 0 0 0 - "-" "-" "-" "-" "-""#,
            r#"[2019-04-11T00:31:55.439Z] "GET / HTTP/1.1" 404 NR 0 x 0 - "-" "-" "-" "-" "-""#,
            r#"[2019-04-11T00:31:55.439Z] "GET / HTTP/1.1" 404 NR 0 0 0 - "-" "-" "-" "-" "-" extra"#,
        ] {
            assert!(parse(line, &mut TimeCache::new()).is_err(), "{line}");
        }
    }

    #[test]
    fn no_input_makes_it_panic() {
        assert_no_panic(parse, SAMPLES);
    }
}
