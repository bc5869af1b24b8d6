use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags Ingresses in the `default` namespace, when that namespace is known: written as
    /// `metadata.namespace: default` in the manifest, or read from a cluster.
    ///
    /// A manifest without `metadata.namespace` is not flagged. Such manifests are the norm in
    /// Helm charts and kustomize bases: the namespace comes from `kubectl apply -n`,
    /// `helm install --namespace` or kustomize's `namespace:` at deploy time, so nothing in the
    /// file says the Ingress will land in `default`. (Tollgate still files it under `default`
    /// for cross-object rules, as `kubectl` would without `-n`.) Scan the rendered output or the
    /// cluster to judge those.
    ///
    /// ## Why is this bad?
    /// `default` is where everything lands that nobody placed: it usually has no owner, no
    /// NetworkPolicies, no ResourceQuota and broad RBAC (anyone who can "just try something"
    /// can edit its Ingresses). A route there is hard to attribute to a team and easy for
    /// anyone to change or hijack.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: networking.k8s.io/v1
    /// kind: Ingress
    /// metadata:
    ///   name: web
    ///   namespace: default
    /// ```
    ///
    /// ## How to fix
    /// Move the Ingress, with its Service and workload, into the owning team's namespace.
    ///
    /// ## References
    /// - Checkov CKV_K8S_21 (covers the Ingress kind), kubescape C-0212
    pub struct IngressInDefaultNamespace {
        code: "TG109",
        name: "ingress-in-default-namespace",
        category: Exposure,
        severity: Low,
        summary: "An Ingress lives in the default namespace",
        needs: [],
        since: "0.1.0",
    }
}

impl Rule for IngressInDefaultNamespace {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        for entry in &cx.inventory.ingresses {
            let object = &cx.inventory.objects[entry.object];
            // Objects from a cluster have no file origin and always carry their namespace.
            let known = object.namespace_explicit || object.origin.is_none();
            if object.ns() != "default" || !known {
                continue;
            }
            out.report(
                entry.object,
                "/metadata/namespace",
                format!("Ingress `{}` is in the `default` namespace", object.name),
            );
        }
    }
}
