use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags Ingresses written for `extensions/v1beta1` or `networking.k8s.io/v1beta1`.
    ///
    /// ## Why is this bad?
    /// Both versions were removed in Kubernetes 1.22: the API server refuses the manifest, so
    /// the route it describes is not what runs (or will stop running at the next apply). The
    /// old shape (`serviceName`/`servicePort`, no `pathType`) also hides path-matching
    /// behaviour that changed with v1. Tollgate still reads them, in their v1 meaning, so the
    /// other rules apply.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: extensions/v1beta1
    /// kind: Ingress
    /// ```
    ///
    /// ## How to fix
    /// Rewrite it as `networking.k8s.io/v1`: `backend.service.name`/`backend.service.port`, and an explicit `pathType`.
    ///
    /// ## References
    /// - kube-linter `no-extensions-v1beta`, Trivy KSV-0107, Popeye POP-403
    pub struct DeprecatedIngressApi {
        code: "TG308",
        name: "deprecated-ingress-api",
        category: Routing,
        severity: Medium,
        summary: "An Ingress uses an API version removed in Kubernetes 1.22",
        needs: [],
        since: "0.1.0",
    }
}

impl Rule for DeprecatedIngressApi {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        for entry in &cx.inventory.ingresses {
            let object = &cx.inventory.objects[entry.object];
            if object.is_legacy_ingress() {
                out.report(
                    entry.object,
                    "/apiVersion",
                    format!(
                        "`{}` Ingress was removed in Kubernetes 1.22",
                        object.api_version
                    ),
                );
            }
        }
    }
}
