use super::{NginxIngress, describe_matches, nginx_ingresses};
use crate::installation;
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags paths of ingress-nginx Ingresses with characters the controller should never get:
    ///
    /// - `Exact` and `Prefix` paths outside `^/[A-Za-z0-9._-/]*$`, the check ingress-nginx
    ///   applies with `strict-validate-path-type` (added in v1.8.0 for CVE-2022-4886, on by
    ///   default since v1.12.0);
    /// - a newline or carriage return in any path (CVE-2021-25748);
    /// - in any path, including `ImplementationSpecific` regex paths that strict validation
    ///   skips, characters that end an NGINX token or statement: `;` quotes, backtick, space,
    ///   tab (CVE-2026-24512). Regex paths may use `{}` `()` `|` `^` `$`, so those are not judged.
    ///
    /// The patterns are the CVE entries of `crates/tollgate-core/data/ingress-nginx-cves.json`.
    /// When the serving installation runs v1.12.0 or later without
    /// `strict-validate-path-type: "false"`, the message says the controller refuses the path.
    /// Ingresses of another controller are not judged; those of an unknown controller are.
    ///
    /// ## Why is this bad?
    /// The path is written into the NGINX configuration as a `location`. Characters that end
    /// the token let an Ingress author add configuration and read the controller's credentials
    /// (CVE-2022-4886, CVE-2021-25748, CVE-2026-24512). A regular expression under `Prefix` is
    /// the harmless form of the same mistake, and ingress-nginx v1.12+ rejects it: the route is
    /// not served.
    ///
    /// ## Example
    /// ```yaml
    /// paths:
    ///   - path: /api(/|$)(.*)     # a regex under pathType Prefix
    ///     pathType: Prefix
    /// ```
    ///
    /// ## How to fix
    /// Use plain segments for `Exact` and `Prefix` paths; put a regular expression under `pathType: ImplementationSpecific` with `use-regex: "true"`; keep `strict-validate-path-type` on.
    ///
    /// ## References
    /// - CVE-2022-4886, CVE-2021-25748, CVE-2026-24512; ingress-nginx
    ///   `internal/ingress/inspector/rules.go` (validPathType), ingress-nginx PR #9967; Kyverno
    ///   policies PR #1014 (proposed)
    pub struct UnsafePathCharacters {
        code: "TG408",
        name: "unsafe-path-characters",
        category: Annotations,
        severity: High,
        summary: "An ingress-nginx path has characters outside the safe set",
        needs: [],
        since: "0.1.0",
    }
}

impl Rule for UnsafePathCharacters {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        let installations = &inv.installations;
        let cves: Vec<_> = installation::cves_for_rule(Self::META.name).collect();
        for ing in nginx_ingresses(inv, installations) {
            let (_, ingress) = inv.ingress(ing.entry);
            let rules = ingress.spec.iter().flat_map(|s| s.rules.iter().flatten());
            for (r, rule) in rules.enumerate() {
                for (p, path) in rule.http.iter().flat_map(|h| h.paths.iter()).enumerate() {
                    let value = path.path.as_deref().unwrap_or("/");
                    let path_type = path.path_type.as_str();
                    let strict = matches!(path_type, "Exact" | "Prefix");
                    let mut strict_violation = false;
                    let matched: Vec<(String, &installation::Cve)> = cves
                        .iter()
                        .filter(|c| {
                            c.abuses.path_types.is_empty()
                                || c.abuses.path_types.iter().any(|t| t == path_type)
                        })
                        .filter_map(|c| {
                            let why = c.detect.pattern.as_ref()?.find(value)?;
                            strict_violation |= !c.abuses.path_types.is_empty();
                            Some((why, *c))
                        })
                        .collect();
                    if matched.is_empty() {
                        continue;
                    }
                    let mut message = format!(
                        "{path_type} path `{}` {}",
                        value.escape_debug(),
                        describe_matches(&matched, ing.installation)
                    );
                    if strict && strict_violation {
                        message.push_str(&strict_note(&ing, inv));
                    }
                    let d = out.report(
                        ing.entry.object,
                        format!("/spec/rules/{r}/http/paths/{p}/path"),
                        message,
                    );
                    if !strict {
                        d.help(
                            "remove `;`, quotes, white space and line breaks from the path: no \
                             regular expression needs them",
                        );
                    }
                }
            }
        }
    }
}

/// What `strict-validate-path-type` does to the path on the serving installation.
fn strict_note(ing: &NginxIngress<'_>, inv: &crate::inventory::Inventory) -> String {
    let Some(inst) = ing.installation else {
        return "; ingress-nginx v1.12.0 and later refuse it unless `strict-validate-path-type` \
                is \"false\""
            .to_owned();
    };
    let default = inst.version_at_least("1.12.0").unwrap_or(true);
    if inst.flag(inv, "strict-validate-path-type", default) {
        format!(
            "; {} refuses it (`strict-validate-path-type` is on), so the route is not served",
            inst.describe(inv)
        )
    } else {
        format!(
            "; {} accepts it because `strict-validate-path-type` is off",
            inst.describe(inv)
        )
    }
}
