use crate::rules::prelude::*;
use crate::rules::tls::{describe, served};

declare_rule! {
    /// ## What it does
    /// Flags a TLS Secret that a route serves whose leaf or intermediate certificate expires
    /// within `certificateExpiry.warnDays` (default 30) of the report's instant (`--at`, default
    /// now); within `certificateExpiry.highDays` (default 7) the finding is `high`. A Secret
    /// written by a cert-manager Certificate that is not Ready is reported too, whatever the
    /// days left, with cert-manager's reason: renewal is failing.
    ///
    /// ## Why is this bad?
    /// Renewal has not happened yet and may not happen in time. Automated renewal normally runs
    /// a third of the lifetime before expiry (cert-manager renews a 90-day certificate 30 days
    /// early), so a certificate this close to its end usually means renewal is failing.
    ///
    /// ## Example
    /// ```text
    /// secret storefront/shop-tls: certificate `shop.example.com` expires on 2026-12-12 (20 days left)
    /// ```
    ///
    /// ## How to fix
    /// Renew it now; if cert-manager manages it, find why it cannot:
    /// ```shell
    /// kubectl -n shop describe certificate shop-tls
    /// kubectl -n shop get certificaterequests,orders,challenges
    /// ```
    ///
    /// Thresholds in `tollgate.yaml`:
    /// ```yaml
    /// certificateExpiry: {warnDays: 28, highDays: 14}   # x509-certificate-exporter's defaults
    /// ```
    ///
    /// ## References
    /// - x509-certificate-exporter alerts `CertificateRenewal`, `CertificateExpiration`
    /// - cert-manager `Certificate` `Ready` condition
    pub struct CertificateExpiring {
        code: "TG206",
        name: "certificate-expiring",
        category: Tls,
        severity: Medium,
        summary: "A served certificate expires soon, or cert-manager cannot renew it",
        needs: [Secret],
        since: "0.1.0",
    }
}

impl Rule for CertificateExpiring {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let warn = cx.options.certificate_warn_days;
        let high = cx.options.certificate_high_days;
        for s in served(cx.inventory) {
            let mut soonest: Option<i64> = None;
            let mut problems = Vec::new();
            for (i, c) in s.judged() {
                // Expired and not-yet-valid certificates are `certificate-expired`'s.
                if c.not_after < cx.now || c.not_before > cx.now {
                    continue;
                }
                let days = c.days_left(cx.now);
                if days < warn {
                    soonest = Some(soonest.map_or(days, |d| d.min(days)));
                    problems.push(format!(
                        "{} expires on {} ({days} day{} left)",
                        describe(i, c),
                        c.not_after.strftime("%Y-%m-%d"),
                        if days == 1 { "" } else { "s" }
                    ));
                }
            }
            let note = s.cert_manager_note(cx.inventory);
            let expired = s
                .judged()
                .any(|(_, c)| c.not_after < cx.now || c.not_before > cx.now);
            if problems.is_empty() && (note.is_empty() || expired) {
                continue;
            }
            if problems.is_empty() {
                let leaf = s.chain.leaf().expect("served chains have a leaf");
                problems.push(format!(
                    "{} has {} days left but cannot be renewed",
                    describe(0, leaf),
                    leaf.days_left(cx.now)
                ));
            }
            let message = format!(
                "{}; secret `{}` {}{note}",
                problems.join("; "),
                s.secret_name(),
                s.served_by(cx.inventory),
            );
            let d = out.report(s.object, s.pointer, message);
            if soonest.is_some_and(|d| d < high) {
                d.severity(Severity::High);
            }
            if let Some(h) = s.hosts().first() {
                d.host(*h);
            }
        }
    }
}
