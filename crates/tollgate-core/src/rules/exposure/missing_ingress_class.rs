use crate::controller::ClassSource;
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags Ingresses that name no class (neither `spec.ingressClassName` nor the legacy
    /// `kubernetes.io/ingress.class` annotation) when no single default IngressClass is in
    /// scope to claim them.
    ///
    /// ## Why is this bad?
    /// Which controller serves an unclassed Ingress depends on cluster state outside the
    /// manifest: a default IngressClass, or a controller started with
    /// `--watch-ingress-without-class`. Add a second controller, or remove the default, and the
    /// route silently moves to another controller with other annotations and other security
    /// settings, or stops being served at all.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Ingress
    /// spec:
    ///   rules: [...]
    /// ```
    ///
    /// ## How to fix
    /// Set `spec.ingressClassName` to the IngressClass that should serve the route.
    /// ```yaml
    /// spec:
    ///   ingressClassName: nginx
    /// ```
    pub struct MissingIngressClass {
        code: "TG104",
        name: "missing-ingress-class",
        category: Exposure,
        severity: Medium,
        summary: "An Ingress names no class and no default IngressClass claims it",
        needs: [],
        since: "0.1.0",
    }
}

impl Rule for MissingIngressClass {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        for entry in &cx.inventory.ingresses {
            let defaulted = entry.class.source == Some(ClassSource::Default);
            if entry.class.class.is_some() || defaulted {
                continue;
            }
            let defaults = cx.inventory.default_classes().count();
            let why = match defaults {
                0 if cx.inventory.scope.has(Kind::IngressClass) => {
                    "no class is named and no IngressClass is marked default".to_owned()
                }
                0 => "no class is named; which controller serves it depends on the cluster"
                    .to_owned(),
                n => format!("no class is named and {n} IngressClasses claim to be the default"),
            };
            out.report(entry.object, "/spec", why);
        }
    }
}
