use crate::controller::{ClassSource, Controller};
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags Ingresses whose `spec.ingressClassName` names an IngressClass that does not exist.
    /// A class named by the legacy `kubernetes.io/ingress.class` annotation is flagged only when
    /// it is not a conventional controller class (`nginx`, `traefik`, `gce`, `alb`, …), since
    /// controllers match those names without an IngressClass object. When no IngressClass is
    /// among the scanned objects, the finding says "not in scope", at `info`.
    ///
    /// ## Why is this bad?
    /// No controller serves the Ingress: its hosts answer with the controller's 404 or not at all,
    /// and the route looks configured while it is not. A typo (`ngnix`) is the usual cause, and a
    /// later `IngressClass` of that name, created by anyone allowed to, would take it over.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   ingressClassName: ngnix
    /// ```
    ///
    /// ## How to fix
    /// Name an existing IngressClass (`kubectl get ingressclass`).
    pub struct UnknownIngressClass {
        code: "TG105",
        name: "unknown-ingress-class",
        category: Exposure,
        severity: High,
        summary: "An Ingress names an IngressClass that does not exist",
        needs: [IngressClass],
        since: "0.1.0",
    }
}

impl Rule for UnknownIngressClass {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        for entry in &cx.inventory.ingresses {
            let (Some(class), Some(source)) = (&entry.class.class, entry.class.source) else {
                continue;
            };
            if entry.class.ingress_class.is_some() {
                continue;
            }
            let pointer = match source {
                ClassSource::Field => "/spec/ingressClassName".to_owned(),
                ClassSource::Annotation => {
                    if Controller::from_well_known_class(class).is_some() {
                        continue;
                    }
                    "/metadata/annotations/kubernetes.io~1ingress.class".to_owned()
                }
                ClassSource::Default => continue,
            };
            let known: Vec<&str> = cx
                .inventory
                .of_kind(Kind::IngressClass)
                .map(|(_, o)| o.name.as_str())
                .collect();
            if !cx.inventory.in_scope(Kind::IngressClass, "") {
                out.report(
                    entry.object,
                    pointer,
                    not_in_scope(Kind::IngressClass, class, ""),
                )
                .severity(Severity::Info);
                continue;
            }
            out.report(
                entry.object,
                pointer,
                format!("IngressClass `{class}` does not exist"),
            )
            .help(if known.is_empty() {
                "create the IngressClass or name an existing one".to_owned()
            } else {
                format!("existing IngressClasses: {}", known.join(", "))
            });
        }
    }
}
