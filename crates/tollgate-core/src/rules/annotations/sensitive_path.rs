use super::{nginx_ingresses, version_context};
use crate::installation;
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags paths of ingress-nginx Ingresses that point into the controller's filesystem:
    /// `/etc` (and `/etc/kubernetes/admin.conf`), `/root`, `/var/run/secrets`,
    /// `/var/run/kubernetes/serviceaccount` — as a whole path segment, so `/etcetera` is fine.
    /// Rule hosts, TLS hosts and TLS secret names are checked the same way, as ingress-nginx's
    /// own inspector does. The list is the CVE-2021-25745 entry of
    /// `crates/tollgate-core/data/ingress-nginx-cves.json`. Ingresses of another controller are
    /// not judged; those of an unknown controller are.
    ///
    /// ## Why is this bad?
    /// Before v1.2.0 such a path made ingress-nginx serve its own files, among them the service
    /// account token that reads every Secret in the cluster (CVE-2021-25745). No application
    /// route needs these names; one that has them is a probe for the bug or a copy of it.
    ///
    /// ## Example
    /// ```yaml
    /// paths:
    ///   - path: /var/run/secrets/kubernetes.io/serviceaccount
    ///     pathType: ImplementationSpecific
    /// ```
    ///
    /// ## How to fix
    /// Remove the path, find out who added it, and upgrade ingress-nginx to v1.2.0 or later.
    ///
    /// ## References
    /// - CVE-2021-25745; Kyverno `nginx-ingress/restrict-ingress-paths`; ingress-nginx
    ///   `internal/ingress/inspector` (invalidEtcDir, invalidSecretsDir)
    pub struct SensitivePath {
        code: "TG407",
        name: "sensitive-path",
        category: Annotations,
        severity: Critical,
        summary: "An ingress-nginx path points at the controller's own files or credentials",
        needs: [],
        since: "0.1.0",
    }
}

impl Rule for SensitivePath {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        let installations = &inv.installations;
        let cves: Vec<_> = installation::cves_for_rule(Self::META.name).collect();
        for ing in nginx_ingresses(inv, installations) {
            let (_, ingress) = inv.ingress(ing.entry);
            let Some(spec) = &ingress.spec else { continue };
            // Every string ingress-nginx's inspector looks at, with its pointer and a name.
            let mut fields: Vec<(String, &str, &str)> = Vec::new();
            for (r, rule) in spec.rules.iter().flatten().enumerate() {
                if let Some(host) = &rule.host {
                    fields.push((format!("/spec/rules/{r}/host"), "host", host));
                }
                for (p, path) in rule.http.iter().flat_map(|h| h.paths.iter()).enumerate() {
                    if let Some(value) = &path.path {
                        fields.push((
                            format!("/spec/rules/{r}/http/paths/{p}/path"),
                            "path",
                            value,
                        ));
                    }
                }
            }
            for (t, tls) in spec.tls.iter().flatten().enumerate() {
                for (h, host) in tls.hosts.iter().flatten().enumerate() {
                    fields.push((format!("/spec/tls/{t}/hosts/{h}"), "TLS host", host));
                }
                if let Some(secret) = &tls.secret_name {
                    fields.push((
                        format!("/spec/tls/{t}/secretName"),
                        "TLS secret name",
                        secret,
                    ));
                }
            }
            for (pointer, what, value) in fields {
                for cve in &cves {
                    let Some(why) = cve.detect.pattern.as_ref().and_then(|p| p.find(value)) else {
                        continue;
                    };
                    out.report(
                        ing.entry.object,
                        pointer.clone(),
                        format!(
                            "{what} `{value}` {why}, a path into the controller's filesystem: \
                             the {} payload ({})",
                            cve.id,
                            version_context(cve, ing.installation)
                        ),
                    );
                    break;
                }
            }
        }
    }
}
