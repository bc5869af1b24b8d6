use crate::installation::Risk;
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags an ingress-nginx installation whose ConfigMap sets
    /// `allow-snippet-annotations: "true"`, and an installation older than v1.9.0 whose
    /// ConfigMap is not among the scanned objects (snippets were allowed by default until then).
    /// The finding points at the ConfigMap key, or at the controller image when the ConfigMap is
    /// missing.
    ///
    /// Since v1.12.0 a snippet is accepted only when **both** `allow-snippet-annotations` is
    /// `"true"` and `annotations-risk-level` is `Critical` (snippets are Critical risk and the
    /// default level became High). With the first alone the finding is `low`: nothing is
    /// injectable yet, but one more key enables it.
    ///
    /// ## Why is this bad?
    /// With snippets allowed, anyone who may create or edit an Ingress writes raw NGINX
    /// configuration into the controller, which can read its service account token and through
    /// it every Secret in the cluster (CVE-2021-25742, CVE-2023-5043). Upgrading does not fix
    /// this: ingress-nginx made `"false"` the default in v1.9.0 for this reason.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ConfigMap
    /// metadata: {name: ingress-nginx-controller, namespace: ingress-nginx}
    /// data:
    ///   allow-snippet-annotations: "true"
    /// ```
    ///
    /// ## How to fix
    /// Set `allow-snippet-annotations: "false"` (Helm: `controller.allowSnippetAnnotations: false`) and replace each snippet with a dedicated annotation or a ConfigMap setting.
    ///
    /// ## References
    /// - CVE-2021-25742, CVE-2023-5043; kubescape C-0059; Kyverno
    ///   `disallow-ingress-nginx-custom-snippets/check-config-map`; Datree rule 31;
    ///   checkov#6761 (requested); ingress-nginx `changelog/controller-1.12.0.md`
    ///   ("Enable security features by default"), ingress-nginx#11175
    pub struct SnippetsEnabledInController {
        code: "TG402",
        name: "snippets-enabled-in-controller",
        category: Annotations,
        severity: High,
        summary: "The ingress-nginx ConfigMap lets Ingress authors inject raw NGINX configuration",
        needs: [],
        since: "0.1.0",
    }
}

const KEY: &str = "allow-snippet-annotations";

impl Rule for SnippetsEnabledInController {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        for inst in &inv.installations {
            let who = inst.describe(inv);
            let cm = &inst.configmap;
            let Some(cm_object) = cm.object else {
                // Without the ConfigMap only the version's default can be judged.
                if inst.version_at_least("1.9.0") == Some(false) {
                    out.report(
                        inst.workload,
                        inst.image_pointer(),
                        format!(
                            "{who} allows snippet annotations unless its ConfigMap says \
                             otherwise (the default was `\"true\"` before v1.9.0), and ConfigMap \
                             `{}/{}` is not among the scanned objects",
                            cm.namespace, cm.name
                        ),
                    );
                }
                continue;
            };
            let allowed = inst.flag(inv, KEY, inst.version_at_least("1.9.0") == Some(false));
            if !allowed {
                continue;
            }
            let (pointer, setting) = match inst.setting(inv, KEY) {
                Some(v) => (format!("/data/{KEY}"), format!("`{KEY}: \"{}\"`", v.trim())),
                None => (
                    "/data".to_owned(),
                    format!("no `{KEY}` (`\"true\"` by default before v1.9.0)"),
                ),
            };
            let (level, level_set) = inst.risk_level(inv);
            match inst.version_at_least("1.12.0") {
                Some(true) if level < Risk::Critical => {
                    let level_from = if level_set { "set" } else { "the default" };
                    out.report(
                        cm_object,
                        pointer,
                        format!(
                            "{setting}, but {who} still refuses snippets: since v1.12.0 they \
                             also need `annotations-risk-level: Critical`, and it is {level} \
                             ({level_from}); raising the level would let Ingress authors inject \
                             raw NGINX configuration"
                        ),
                    )
                    .severity(Severity::Low);
                }
                Some(true) => {
                    out.report(
                        cm_object,
                        pointer,
                        format!(
                            "{setting} with `annotations-risk-level: Critical`: {who} accepts \
                             raw NGINX configuration from anyone who can edit an Ingress"
                        ),
                    );
                }
                Some(false) => {
                    out.report(
                        cm_object,
                        pointer,
                        format!(
                            "{setting}: {who} accepts raw NGINX configuration from anyone who \
                             can edit an Ingress"
                        ),
                    );
                }
                None => {
                    out.report(
                        cm_object,
                        pointer,
                        format!(
                            "{setting}: {who} accepts raw NGINX configuration from anyone who \
                             can edit an Ingress (on v1.12.0 and later only together with \
                             `annotations-risk-level: Critical`, here {level})"
                        ),
                    );
                }
            }
        }
    }
}
