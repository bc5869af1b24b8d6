use crate::installation::{self, VersionSource};
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Reads the version of each ingress-nginx installation from its controller image tag
    /// (`registry.k8s.io/ingress-nginx/controller:v1.11.3`, any registry or mirror, with or
    /// without a digest) and flags it when it lies inside an affected range of a CVE in
    /// Tollgate's ingress-nginx CVE data (`crates/tollgate-core/data/ingress-nginx-cves.json`,
    /// ranges from kubernetes-sigs/cve-feed-osv and the advisories). The message lists the CVEs
    /// and the release that fixes all of them. An image pinned by digest only falls back to the
    /// pod's `app.kubernetes.io/version` label; without either the version is reported as
    /// unknown, at `info`.
    ///
    /// ## Why is this bad?
    /// Most ingress-nginx CVEs let anyone who can create an Ingress, or for CVE-2025-1974
    /// ("IngressNightmare", 9.8) anyone on the pod network, run code in the controller, which
    /// by default can read every Secret in the cluster.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: controller
    ///     image: registry.k8s.io/ingress-nginx/controller:v1.11.3
    /// ```
    ///
    /// ## How to fix
    /// Upgrade to the release the message names (the last releases are v1.13.9, v1.14.5 and v1.15.1), then plan the migration away from the retired controller.
    ///
    /// ## References
    /// - kubernetes-sigs/cve-feed-osv; kubescape C-0059; Kyverno
    ///   `check-ingress-nginx-controller-version-and-configuration` (requires ≥ v1.11.2);
    ///   CVE-2021-25742, CVE-2021-25745, CVE-2021-25746, CVE-2021-25748, CVE-2022-4886,
    ///   CVE-2023-5043, CVE-2023-5044, CVE-2024-7646, CVE-2025-1974, CVE-2025-24513,
    ///   CVE-2025-24514, CVE-2025-1097, CVE-2025-1098, CVE-2025-15566, CVE-2026-1580,
    ///   CVE-2026-24512, CVE-2026-24513, CVE-2026-24514, CVE-2026-3288, CVE-2026-4342
    pub struct ControllerVulnerableVersion {
        code: "TG403",
        name: "controller-vulnerable-version",
        category: Annotations,
        severity: Critical,
        summary: "An ingress-nginx controller runs a version with known CVEs",
        needs: [],
        since: "0.1.0",
    }
}

impl Rule for ControllerVulnerableVersion {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        for inst in &inv.installations {
            let Some(version) = &inst.version else {
                out.report(
                    inst.workload,
                    inst.image_pointer(),
                    format!(
                        "`{}` names no version (no tag, no `app.kubernetes.io/version` label), \
                         so its CVEs cannot be judged",
                        inst.image
                    ),
                )
                .severity(Severity::Info)
                .help(
                    "pin the tag as well as the digest (`controller:v1.15.1@sha256:…`) so the \
                     version can be audited",
                );
                continue;
            };
            let affecting = installation::cves_affecting(version);
            if affecting.is_empty() {
                continue;
            }
            // The critical ones carry their own fix; the rest are listed by id to keep the line
            // readable, and the data file has the details.
            let listed: Vec<String> = affecting
                .iter()
                .map(|c| match (c.severity, c.fixed_after(version)) {
                    (Severity::Critical, Some(f)) => format!("{} (critical, fixed in {f})", c.id),
                    (Severity::Critical, None) => format!("{} (critical)", c.id),
                    _ => c.id.clone(),
                })
                .collect();
            let counts: Vec<String> = Severity::ALL_DESC
                .iter()
                .filter_map(|s| {
                    let n = affecting.iter().filter(|c| c.severity == *s).count();
                    (n > 0).then(|| format!("{n} {s}"))
                })
                .collect();
            // The release that fixes everything listed is the highest of the first fixes.
            let all_fixed = affecting
                .iter()
                .filter_map(|c| c.fixed_after(version))
                .max();
            let from_label = if inst.version_source == Some(VersionSource::Label) {
                " (version from the `app.kubernetes.io/version` label)"
            } else {
                ""
            };
            let mut message = format!(
                "ingress-nginx {version}{from_label} is affected by {} CVE{} ({}): {}",
                affecting.len(),
                if affecting.len() == 1 { "" } else { "s" },
                counts.join(", "),
                listed.join(", ")
            );
            if let Some(target) = all_fixed {
                message.push_str(&format!(
                    "; {target} is the first release that fixes all of them"
                ));
            }
            let d = out.report(inst.workload, inst.image_pointer(), message);
            if let Some(target) = all_fixed {
                d.help(format!(
                    "upgrade to {target} or later; ingress-nginx is retired (March 2026), so plan \
                     the move to a Gateway API implementation too"
                ));
            }
        }
    }
}
