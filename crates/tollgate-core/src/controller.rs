//! Which controller serves an Ingress.
//!
//! Annotations only mean something to the controller that reads them, so every
//! controller-specific judgement starts here: `spec.ingressClassName` (or the legacy
//! `kubernetes.io/ingress.class` annotation, or the default IngressClass) → IngressClass →
//! `spec.controller` → a known controller. Without an IngressClass object in scope a well-known
//! class name is taken as a hint and marked as such.

use serde::Serialize;

/// The ingress controllers Tollgate knows by name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Controller {
    /// kubernetes/ingress-nginx (retired March 2026).
    IngressNginx,
    /// F5 NGINX Ingress Controller (nginx.org annotations).
    NginxInc,
    /// Traefik.
    Traefik,
    /// HAProxy Ingress (HAProxy Technologies or the haproxy-ingress project).
    Haproxy,
    /// AWS Load Balancer Controller (ALB).
    AwsAlb,
    /// GKE Ingress (GCE load balancers).
    Gce,
    /// Contour.
    Contour,
    /// Kong Ingress Controller.
    Kong,
    /// Some other controller, by its `spec.controller` string.
    Other(String),
}

impl Controller {
    /// Recognises an IngressClass `spec.controller` value.
    #[must_use]
    pub fn from_controller_name(name: &str) -> Controller {
        match name {
            "k8s.io/ingress-nginx" => Controller::IngressNginx,
            "nginx.org/ingress-controller" => Controller::NginxInc,
            "traefik.io/ingress-controller" => Controller::Traefik,
            "haproxy.org/ingress-controller/haproxy" | "haproxy-ingress.github.io/controller" => {
                Controller::Haproxy
            }
            "ingress.k8s.aws/alb" => Controller::AwsAlb,
            "k8s.io/ingress-gce" | "networking.gke.io/ingress-gce" => Controller::Gce,
            "projectcontour.io/ingress-controller" | "projectcontour.io/contour" => {
                Controller::Contour
            }
            "ingress-controllers.konghq.com/kong" => Controller::Kong,
            other => Controller::Other(other.to_owned()),
        }
    }

    /// The controller a class name conventionally stands for, when no IngressClass says.
    /// `nginx` is claimed by two controllers; ingress-nginx is by far the more common.
    #[must_use]
    pub fn from_well_known_class(class: &str) -> Option<Controller> {
        Some(match class {
            "nginx" | "ingress-nginx" => Controller::IngressNginx,
            "nginx-plus" | "nginx-inc" => Controller::NginxInc,
            "traefik" => Controller::Traefik,
            "haproxy" => Controller::Haproxy,
            "alb" => Controller::AwsAlb,
            "gce" | "gce-internal" | "gce-multi-cluster" => Controller::Gce,
            "contour" => Controller::Contour,
            "kong" => Controller::Kong,
            _ => return None,
        })
    }

    /// A short name for tables.
    #[must_use]
    pub fn name(&self) -> &str {
        match self {
            Controller::IngressNginx => "ingress-nginx",
            Controller::NginxInc => "nginx-inc",
            Controller::Traefik => "traefik",
            Controller::Haproxy => "haproxy",
            Controller::AwsAlb => "aws-alb",
            Controller::Gce => "gce",
            Controller::Contour => "contour",
            Controller::Kong => "kong",
            Controller::Other(s) => s,
        }
    }

    /// Annotation prefixes this controller reads.
    #[must_use]
    pub fn annotation_prefixes(&self) -> &'static [&'static str] {
        match self {
            Controller::IngressNginx => &["nginx.ingress.kubernetes.io/"],
            Controller::NginxInc => &["nginx.org/", "nginx.com/"],
            Controller::Traefik => &["traefik.ingress.kubernetes.io/"],
            Controller::Haproxy => &[
                "haproxy.org/",
                "haproxy-ingress.github.io/",
                "ingress.kubernetes.io/",
            ],
            Controller::AwsAlb => &["alb.ingress.kubernetes.io/"],
            Controller::Gce => &[
                "kubernetes.io/ingress.",
                "ingress.gcp.kubernetes.io/",
                "networking.gke.io/",
            ],
            Controller::Contour => &["projectcontour.io/"],
            Controller::Kong => &["konghq.com/"],
            Controller::Other(_) => &[],
        }
    }
}

/// Where an Ingress's class name came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClassSource {
    /// `spec.ingressClassName`.
    Field,
    /// The legacy `kubernetes.io/ingress.class` annotation.
    Annotation,
    /// No class named; the IngressClass marked default applies.
    Default,
}

/// How the controller was determined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ControllerEvidence {
    /// From the IngressClass object's `spec.controller`.
    IngressClass,
    /// Guessed from a conventional class name; no IngressClass object was in scope.
    ClassName,
}

/// The class and controller of one Ingress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassResolution {
    /// The class name in force, if any.
    pub class: Option<String>,
    /// Where it came from.
    pub source: Option<ClassSource>,
    /// Index of the IngressClass object, when one is in scope.
    #[serde(skip)]
    pub ingress_class: Option<usize>,
    /// The controller, when known.
    pub controller: Option<Controller>,
    /// How the controller was determined.
    pub evidence: Option<ControllerEvidence>,
}

/// The annotation older Ingresses use instead of `spec.ingressClassName`.
pub const CLASS_ANNOTATION: &str = "kubernetes.io/ingress.class";
/// The annotation that marks an IngressClass as the cluster default.
pub const DEFAULT_CLASS_ANNOTATION: &str = "ingressclass.kubernetes.io/is-default-class";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_supported_controller_is_recognised_by_its_ingress_class_controller() {
        let cases = [
            ("k8s.io/ingress-nginx", Controller::IngressNginx),
            ("nginx.org/ingress-controller", Controller::NginxInc),
            ("traefik.io/ingress-controller", Controller::Traefik),
            (
                "haproxy.org/ingress-controller/haproxy",
                Controller::Haproxy,
            ),
            ("haproxy-ingress.github.io/controller", Controller::Haproxy),
            ("ingress.k8s.aws/alb", Controller::AwsAlb),
            ("k8s.io/ingress-gce", Controller::Gce),
            ("projectcontour.io/ingress-controller", Controller::Contour),
            ("ingress-controllers.konghq.com/kong", Controller::Kong),
        ];
        for (name, expected) in cases {
            assert_eq!(Controller::from_controller_name(name), expected, "{name}");
        }
        assert_eq!(
            Controller::from_controller_name("example.com/custom"),
            Controller::Other("example.com/custom".into())
        );
    }

    #[test]
    fn conventional_class_names_hint_at_their_controller_and_others_do_not() {
        assert_eq!(
            Controller::from_well_known_class("alb"),
            Some(Controller::AwsAlb)
        );
        assert_eq!(
            Controller::from_well_known_class("gce-internal"),
            Some(Controller::Gce)
        );
        assert_eq!(
            Controller::from_well_known_class("kong"),
            Some(Controller::Kong)
        );
        assert_eq!(Controller::from_well_known_class("internal-lb"), None);
    }

    #[test]
    fn annotation_prefixes_belong_to_one_controller_each() {
        let nginx = Controller::IngressNginx.annotation_prefixes();
        let traefik = Controller::Traefik.annotation_prefixes();
        assert!(nginx.iter().all(|p| !traefik.contains(p)));
        assert!(nginx.contains(&"nginx.ingress.kubernetes.io/"));
    }
}
