use super::{annotation_pointer, nginx_ingresses};
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags ingress-nginx annotations that name an object of another namespace
    /// (`other-namespace/name`) when the serving installation allows cross-namespace resources:
    /// `auth-secret`, `auth-tls-secret`, `proxy-ssl-secret` (Secrets), and
    /// `fastcgi-params-configmap`, `auth-proxy-set-headers` (ConfigMaps). The installation
    /// allows them when its ConfigMap sets `allow-cross-namespace-resources: "true"`, or sets
    /// nothing on a version before v1.12.0 (the default became `"false"` then). An Ingress no
    /// scanned installation serves is not judged.
    ///
    /// ## Why is this bad?
    /// The controller reads those objects with its own, cluster-wide rights. Whoever may edit an
    /// Ingress in one namespace can make it use another namespace's Secret as a client CA,
    /// basic-auth file or upstream client certificate, or its ConfigMap as headers: a crossing
    /// of the namespace boundary that RBAC would refuse them.
    ///
    /// ## Example
    /// ```yaml
    /// metadata: {namespace: shop}
    /// annotations:
    ///   nginx.ingress.kubernetes.io/auth-tls-secret: payments/client-ca
    /// ```
    ///
    /// ## How to fix
    /// Copy the object into the Ingress's namespace and reference it by name; set `allow-cross-namespace-resources: "false"`.
    ///
    /// ## References
    /// - ingress-nginx `changelog/controller-1.12.0.md` ("Enable security features by default",
    ///   #11819); research/rule-anchors.md ANN-15 (no peer checks this)
    pub struct CrossNamespaceReference {
        code: "TG411",
        name: "cross-namespace-reference",
        category: Annotations,
        severity: High,
        summary: "An ingress-nginx annotation reads an object from another namespace",
        needs: [],
        since: "0.1.0",
    }
}

/// The referencing annotations and the kind they name.
const REFERENCES: &[(&str, &str)] = &[
    ("auth-secret", "Secret"),
    ("auth-tls-secret", "Secret"),
    ("proxy-ssl-secret", "Secret"),
    ("fastcgi-params-configmap", "ConfigMap"),
    ("auth-proxy-set-headers", "ConfigMap"),
];

const SETTING: &str = "allow-cross-namespace-resources";

impl Rule for CrossNamespaceReference {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        let installations = &inv.installations;
        for ing in nginx_ingresses(inv, installations) {
            let Some(inst) = ing.installation else {
                continue;
            };
            let default = inst.version_at_least("1.12.0") == Some(false);
            if !inst.flag(inv, SETTING, default) {
                continue;
            }
            let why = if inst.setting(inv, SETTING).is_some() {
                format!("`{SETTING}: \"true\"`")
            } else {
                format!("`{SETTING}` is unset, which means `\"true\"` before v1.12.0")
            };
            let own_ns = ing.object.ns();
            for (short, key, value) in ing.annotations() {
                let Some((_, kind)) = REFERENCES.iter().find(|(a, _)| *a == short) else {
                    continue;
                };
                let Some((ns, name)) = value.trim().split_once('/') else {
                    continue;
                };
                if ns == own_ns || ns.is_empty() {
                    continue;
                }
                out.report(
                    ing.entry.object,
                    annotation_pointer(key),
                    format!(
                        "`{short}` reads {kind} `{name}` from namespace `{ns}`, and {} allows it: \
                         {why}; editing an Ingress in `{own_ns}` reaches into `{ns}`",
                        inst.describe(inv)
                    ),
                );
            }
        }
    }
}
