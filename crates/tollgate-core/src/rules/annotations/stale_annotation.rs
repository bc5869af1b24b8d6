use super::{annotation_pointer, nginx_ingresses};
use crate::installation;
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags ingress-nginx annotations the controller no longer honours, from
    /// `crates/tollgate-core/data/ingress-nginx-removed-annotations.json`:
    /// `global-rate-limit`, `global-rate-limit-window`, `global-rate-limit-key` and
    /// `global-rate-limit-ignored-cidrs` (removed in v1.12.0), and `secure-verify-ca-secret`
    /// (ignored with a log line; replaced by `proxy-ssl-secret`). When the serving installation
    /// is older than the removal, the annotation still works and is not flagged. Ingresses of
    /// another controller are not judged; those of an unknown controller are.
    ///
    /// ## Why is this bad?
    /// The controller ignores the annotation without rejecting the Ingress: the rate limit or
    /// backend certificate check the author wrote is silently absent.
    ///
    /// ## Example
    /// ```yaml
    /// annotations:
    ///   nginx.ingress.kubernetes.io/global-rate-limit: "100"   # ignored since v1.12.0
    /// ```
    ///
    /// ## How to fix
    /// Use the replacement the message names (per-replica `limit-rps`/`limit-rpm`, or `proxy-ssl-secret` with `proxy-ssl-verify: "on"`), and remove the stale annotation.
    ///
    /// ## References
    /// - ingress-nginx `changelog/controller-1.12.0.md` ("Remove global-rate-limit feature",
    ///   #11851); ingress-nginx `internal/ingress/annotations/secureupstream/main.go`
    pub struct StaleAnnotation {
        code: "TG412",
        name: "stale-annotation",
        category: Annotations,
        severity: Medium,
        summary: "An ingress-nginx annotation the controller no longer honours",
        needs: [],
        since: "0.1.0",
    }
}

impl Rule for StaleAnnotation {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        let installations = &inv.installations;
        let removed = installation::removed_annotations();
        for ing in nginx_ingresses(inv, installations) {
            let version = ing.installation.and_then(|i| i.version.as_ref());
            for (short, key, _) in ing.annotations() {
                let Some(r) = removed.iter().find(|r| r.annotation == short) else {
                    continue;
                };
                let when = match (&r.removed_in, version) {
                    // The serving controller predates the removal: the annotation still works.
                    (Some(at), Some(v)) if v < at => continue,
                    (Some(at), Some(v)) => {
                        format!("was removed in ingress-nginx {at} (serving: {v})")
                    }
                    (Some(at), None) => format!("was removed in ingress-nginx {at}"),
                    (None, _) => "is no longer honoured by ingress-nginx".to_owned(),
                };
                out.report(
                    ing.entry.object,
                    annotation_pointer(key),
                    format!("`{short}` {when}: the {} it asks for is absent", r.control),
                )
                .help(format!("use {} instead", r.replacement));
            }
        }
    }
}
