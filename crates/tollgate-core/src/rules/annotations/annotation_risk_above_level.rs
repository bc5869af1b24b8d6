use super::{annotation_pointer, nginx_ingresses};
use crate::installation;
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Compares each ingress-nginx annotation of an Ingress with the `annotations-risk-level`
    /// of the installation that serves it, and flags the annotations riskier than that level.
    /// The level is the controller ConfigMap's, else the version's default: `Critical` before
    /// v1.12.0, `High` since (`High` for an unknown version). The per-annotation risks are
    /// ingress-nginx's own table (`docs/user-guide/nginx-configuration/annotations-risk.md`),
    /// kept in `crates/tollgate-core/data/ingress-nginx-annotation-risk.json`. An Ingress that
    /// no scanned installation serves is not judged, since its level is unknown.
    ///
    /// `crate::installation::rejected_at_level` answers the same question for any level, to
    /// show what raising the validation would break before doing it.
    ///
    /// ## Why is this bad?
    /// ingress-nginx refuses an Ingress carrying an annotation above the level
    /// (`annotation … is too risky for environment`): the admission webhook denies it and the
    /// routes it asks for are not served. Where the level was raised to let such annotations
    /// through, the same finding marks the Ingresses that need the weaker setting, which is the
    /// list to work through before lowering it again.
    ///
    /// ## Example
    /// ```yaml
    /// # ConfigMap: annotations-risk-level: Medium
    /// annotations:
    ///   nginx.ingress.kubernetes.io/auth-url: http://oauth2-proxy.auth.svc/oauth2/auth   # High
    /// ```
    ///
    /// ## How to fix
    /// Replace the annotation with a lower-risk one (snippets with dedicated annotations), or, knowing the risk, raise `annotations-risk-level` for the installation.
    ///
    /// ## References
    /// - ingress-nginx `parser.CheckAnnotationRisk`, `annotations-risk.md`,
    ///   `changelog/controller-1.12.0.md` (#11819); ministryofjustice/cloud-platform#8064;
    ///   research/rule-anchors.md ANN-11 (no peer checks this)
    pub struct AnnotationRiskAboveLevel {
        code: "TG409",
        name: "annotation-risk-above-level",
        category: Annotations,
        severity: Medium,
        summary: "An annotation's risk exceeds the ingress-nginx annotations-risk-level",
        needs: [],
        since: "0.1.0",
    }
}

impl Rule for AnnotationRiskAboveLevel {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        let installations = &inv.installations;
        for ing in nginx_ingresses(inv, installations) {
            let Some(inst) = ing.installation else {
                continue;
            };
            let (level, set) = inst.risk_level(inv);
            let level_from = if set {
                format!(
                    "set in ConfigMap `{}/{}`",
                    inst.configmap.namespace, inst.configmap.name
                )
            } else {
                format!("the default of {}", inst.name())
            };
            for (short, key, _) in ing.annotations() {
                let Some(risk) = installation::annotation_risk(short).filter(|r| *r > level) else {
                    continue;
                };
                out.report(
                    ing.entry.object,
                    annotation_pointer(key),
                    format!(
                        "`{short}` is {risk} risk, above `annotations-risk-level: {level}` \
                         ({level_from}) of the controller {}: it refuses this Ingress",
                        inst.workload_name(inv)
                    ),
                );
            }
        }
    }
}
