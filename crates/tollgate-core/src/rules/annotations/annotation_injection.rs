use super::{annotation_pointer, describe_matches, nginx_ingresses};
use crate::installation;
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags ingress-nginx annotation values shaped like the configuration-injection payloads
    /// of its CVEs. The patterns are data (`crates/tollgate-core/data/ingress-nginx-cves.json`),
    /// each with its source, matched without a regex engine:
    ///
    /// | CVE | annotation | dangerous value |
    /// |---|---|---|
    /// | CVE-2021-25746 | any | an `alias …;` or `root …;` directive, `/etc/passwd`, `/etc/shadow`, `/etc/group`, `/etc/nginx`, `/etc/ingress-controller`, `/var/run/secrets`, `_by_lua` |
    /// | CVE-2023-5044 | `permanent-redirect` | `;` `{` `}` newline, carriage return, `"` `'` backtick `\` |
    /// | CVE-2025-24514 | `auth-url` | `#` `;` newline, carriage return, `"` `{` `}` `\|` `<` `>` `^` backtick `\` |
    /// | CVE-2025-1097 | `auth-tls-match-cn` | after `CN=`: carriage return, newline, `#` `{` `}` `;` |
    /// | CVE-2025-1098 | `mirror-target`, `mirror-host` | as for `auth-url` |
    /// | CVE-2025-15566 | `auth-proxy-set-headers` | anything but letters, digits and `-._/` (the value names a ConfigMap) |
    /// | CVE-2026-1580 | `auth-method` | anything but letters (the value is an HTTP method) |
    /// | CVE-2026-3288 | `rewrite-target` | `;` `{` `}` newline, carriage return, `"` `'` backtick `\` space, tab, `#` |
    ///
    /// `auth-tls-match-cn` may use `|` (ingress-nginx documents `CN=(a|b)`), so unlike Trivy
    /// KCV-0093 Tollgate does not flag it there. Ingresses of another controller are not judged;
    /// those of an unknown controller are, since no other controller reads these annotations.
    /// The message says whether the serving installation's version is affected; the value is
    /// reported either way, as an injection attempt or a broken configuration.
    ///
    /// ## Why is this bad?
    /// ingress-nginx writes these values into its NGINX configuration. A value that closes the
    /// statement it sits in adds arbitrary configuration, which runs code in the controller and
    /// reads every Secret it can read (all of them, by default). Anyone allowed to edit one
    /// Ingress can do it.
    ///
    /// ## Example
    /// ```yaml
    /// annotations:
    ///   nginx.ingress.kubernetes.io/auth-url: "http://auth.example.com/#;\n}\nload_module /tmp/x.so;#"
    /// ```
    ///
    /// ## How to fix
    /// Remove the value and find out who wrote it; upgrade ingress-nginx past the fixed releases, keep `--enable-annotation-validation` on and restrict who may edit Ingresses.
    ///
    /// ## References
    /// - CVE-2021-25746, CVE-2023-5044, CVE-2025-24514, CVE-2025-1097, CVE-2025-1098,
    ///   CVE-2025-15566, CVE-2026-1580, CVE-2026-3288; Trivy KCV-0093; Kyverno
    ///   `nginx-ingress/restrict-annotations`; ingress-nginx `internal/ingress/inspector/rules.go`
    pub struct AnnotationInjection {
        code: "TG406",
        name: "annotation-injection",
        category: Annotations,
        severity: Critical,
        summary: "An ingress-nginx annotation value carries a configuration-injection payload",
        needs: [],
        since: "0.1.0",
    }
}

impl Rule for AnnotationInjection {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        let installations = &inv.installations;
        let cves: Vec<_> = installation::cves_for_rule(Self::META.name).collect();
        for ing in nginx_ingresses(inv, installations) {
            for (short, key, value) in ing.annotations() {
                let matched: Vec<(String, &installation::Cve)> = cves
                    .iter()
                    .filter(|c| c.abuses.annotation(short))
                    .filter_map(|c| Some((c.detect.pattern.as_ref()?.find(value)?, *c)))
                    .collect();
                if matched.is_empty() {
                    continue;
                }
                out.report(
                    ing.entry.object,
                    annotation_pointer(key),
                    format!("`{short}` {}", describe_matches(&matched, ing.installation)),
                );
            }
        }
    }
}
