use crate::rules::prelude::*;
use crate::rules::tls::{describe, served};

declare_rule! {
    /// ## What it does
    /// Flags a TLS Secret that a route serves whose leaf certificate, or an intermediate of its
    /// chain, is expired or not yet valid at the instant of the report (`--at`, default now).
    /// When a cert-manager Certificate writes the Secret and is not Ready, its reason is quoted.
    ///
    /// ## Why is this bad?
    /// Every client refuses the connection: the route is down for browsers, API clients and
    /// webhooks alike, and users learn to click through certificate warnings. An expired
    /// intermediate breaks the chain just as surely as an expired leaf.
    ///
    /// ## Example
    /// ```text
    /// $ openssl x509 -noout -enddate < tls.crt
    /// notAfter=Jan  1 00:00:00 2025 GMT
    /// ```
    ///
    /// ## How to fix
    /// Renew the certificate and update the Secret (or fix the cert-manager Certificate so that
    /// it can renew: `kubectl describe certificate`), then check the chain the host serves:
    /// ```shell
    /// kubectl -n shop create secret tls shop-tls --cert=shop.crt --key=shop.key \
    ///   --dry-run=client -o yaml | kubectl apply -f -
    /// ```
    ///
    /// ## References
    /// - x509-certificate-exporter `x509_cert_expired`, alert `CertificateNotYetValid`
    /// - testssl.sh `cert_expirationStatus`, `intermediate_cert_expiration`
    pub struct CertificateExpired {
        code: "TG205",
        name: "certificate-expired",
        category: Tls,
        severity: High,
        summary: "A served certificate is expired or not yet valid",
        needs: [Secret],
        since: "0.1.0",
    }
}

impl Rule for CertificateExpired {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let day = |t: jiff::Timestamp| t.strftime("%Y-%m-%d").to_string();
        for s in served(cx.inventory) {
            let mut problems = Vec::new();
            for (i, c) in s.judged() {
                if c.not_after < cx.now {
                    let ago = match -c.days_left(cx.now) {
                        0 => "less than a day ago".to_owned(),
                        1 => "1 day ago".to_owned(),
                        n => format!("{n} days ago"),
                    };
                    problems.push(format!(
                        "{} expired on {} ({ago})",
                        describe(i, c),
                        day(c.not_after),
                    ));
                } else if c.not_before > cx.now {
                    problems.push(format!(
                        "{} is not valid until {}",
                        describe(i, c),
                        day(c.not_before)
                    ));
                }
            }
            if problems.is_empty() {
                continue;
            }
            let message = format!(
                "{}; secret `{}` {}{}",
                problems.join("; "),
                s.secret_name(),
                s.served_by(cx.inventory),
                s.cert_manager_note(cx.inventory)
            );
            let d = out.report(s.object, s.pointer, message);
            if let Some(h) = s.hosts().first() {
                d.host(*h);
            }
        }
    }
}
