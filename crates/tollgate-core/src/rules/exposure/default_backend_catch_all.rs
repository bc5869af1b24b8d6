use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags Ingresses that set `spec.defaultBackend`.
    ///
    /// ## Why is this bad?
    /// The default backend receives every request that matches no rule: unknown hosts, bare-IP
    /// scans, typos. With ingress-nginx an Ingress's default backend becomes the catch-all of
    /// the whole controller, so one namespace can capture traffic meant for nobody (or for
    /// hosts whose Ingress was deleted) and expose a service far more widely than intended.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   defaultBackend:
    ///     service: {name: web, port: {number: 80}}
    /// ```
    ///
    /// ## How to fix
    /// Route named hosts and paths with `rules`, and leave unmatched requests to the controller's own 404 backend.
    ///
    /// ## References
    /// - Kyverno `restrict-ingress-defaultbackend`; ingress-nginx `--disable-catch-all`
    pub struct DefaultBackendCatchAll {
        code: "TG103",
        name: "default-backend-catch-all",
        category: Exposure,
        severity: Medium,
        summary: "An Ingress sets a default backend that catches unmatched requests",
        needs: [],
        since: "0.1.0",
    }
}

impl Rule for DefaultBackendCatchAll {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        for entry in &cx.inventory.ingresses {
            let (_, ing) = cx.inventory.ingress(entry);
            let Some(backend) = ing.spec.as_ref().and_then(|s| s.default_backend.as_ref()) else {
                continue;
            };
            let target = match (&backend.service, &backend.resource) {
                (Some(s), _) => format!("Service `{}`", s.name),
                (None, Some(r)) => format!("{} `{}`", r.kind, r.name),
                (None, None) => "nothing".to_owned(),
            };
            out.report(
                entry.object,
                "/spec/defaultBackend",
                format!("default backend sends every unmatched request to {target}"),
            );
        }
    }
}
