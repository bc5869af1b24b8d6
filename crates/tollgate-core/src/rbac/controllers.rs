//! The ingress controllers' own service accounts: found from the Deployments, DaemonSets and
//! StatefulSets that run a known ingress controller image (every ingress-nginx installation
//! included), so that rules and reviews can tell the controller's grants from everyone else's.

use crate::installation::controller_image_tag;
use crate::inventory::Inventory;
use crate::object::Kind;

/// A service account an ingress controller runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControllerAccount {
    /// The service account's namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// The workload (index into the inventory's objects).
    pub workload: usize,
    /// Which controller, for messages.
    pub controller: &'static str,
}

/// Image repositories of ingress controllers other than ingress-nginx (which
/// [`controller_image_tag`] recognises), by the path they end with.
const CONTROLLER_IMAGES: &[(&str, &str)] = &[
    ("nginx/nginx-ingress", "NGINX Ingress Controller"),
    ("nginx-ic/nginx-plus-ingress", "NGINX Ingress Controller"),
    ("traefik", "Traefik"),
    (
        "haproxytech/kubernetes-ingress",
        "HAProxy Kubernetes Ingress",
    ),
    ("jcmoraisjr/haproxy-ingress", "HAProxy Ingress"),
    ("haproxy-ingress/haproxy-ingress", "HAProxy Ingress"),
    (
        "kong/kubernetes-ingress-controller",
        "Kong Ingress Controller",
    ),
    ("projectcontour/contour", "Contour"),
    (
        "eks/aws-load-balancer-controller",
        "AWS Load Balancer Controller",
    ),
];

/// The repository part of an image reference: no tag, no digest.
fn image_repository(image: &str) -> &str {
    let without_digest = image.split_once('@').map_or(image, |(i, _)| i);
    let last_slash = without_digest.rfind('/').unwrap_or(0);
    match without_digest[last_slash..].find(':') {
        Some(colon) => &without_digest[..last_slash + colon],
        None => without_digest,
    }
}

/// Which ingress controller an image is, if one Tollgate knows.
pub fn controller_of_image(image: &str) -> Option<&'static str> {
    if controller_image_tag(image).is_some() {
        return Some("ingress-nginx");
    }
    let repo = image_repository(image);
    CONTROLLER_IMAGES
        .iter()
        .find(|(suffix, _)| {
            repo == *suffix
                || repo
                    .strip_suffix(suffix)
                    .is_some_and(|head| head.ends_with('/'))
        })
        .map(|(_, name)| *name)
}

/// The service accounts of the ingress controllers in the inventory: every discovered
/// ingress-nginx installation, and every Deployment, DaemonSet or StatefulSet running a known
/// ingress controller image.
pub fn controller_accounts(inv: &Inventory) -> Vec<ControllerAccount> {
    let mut workloads: Vec<(usize, &'static str)> = inv
        .installations
        .iter()
        .map(|i| (i.workload, "ingress-nginx"))
        .collect();
    for kind in [Kind::Deployment, Kind::DaemonSet, Kind::StatefulSet] {
        for (index, o) in inv.of_kind(kind) {
            let Some((spec, _)) = o.pod_spec() else {
                continue;
            };
            let controller = spec
                .containers
                .iter()
                .find_map(|c| c.image.as_deref().and_then(controller_of_image));
            if let Some(controller) = controller
                && !workloads.iter().any(|(w, _)| *w == index)
            {
                workloads.push((index, controller));
            }
        }
    }
    let mut out: Vec<ControllerAccount> = Vec::new();
    for (workload, controller) in workloads {
        let o = &inv.objects[workload];
        let Some((spec, _)) = o.pod_spec() else {
            continue;
        };
        let name = spec
            .service_account_name
            .as_deref()
            .or(spec.service_account.as_deref())
            .filter(|n| !n.is_empty())
            .unwrap_or("default");
        let account = ControllerAccount {
            namespace: o.ns().to_owned(),
            name: name.to_owned(),
            workload,
            controller,
        };
        if !out
            .iter()
            .any(|a| a.namespace == account.namespace && a.name == account.name)
        {
            out.push(account);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::controller_of_image;

    #[test]
    fn ingress_controller_images_are_recognised_under_any_registry() {
        for (image, controller) in [
            (
                "registry.k8s.io/ingress-nginx/controller:v1.12.1@sha256:abc",
                "ingress-nginx",
            ),
            ("traefik:v3.1", "Traefik"),
            ("docker.io/library/traefik:v3.1", "Traefik"),
            ("nginx/nginx-ingress:3.7.0", "NGINX Ingress Controller"),
            ("ghcr.io/projectcontour/contour:v1.30.0", "Contour"),
            (
                "kong/kubernetes-ingress-controller:3.3",
                "Kong Ingress Controller",
            ),
            (
                "public.ecr.aws/eks/aws-load-balancer-controller:v2.8.2",
                "AWS Load Balancer Controller",
            ),
        ] {
            assert_eq!(controller_of_image(image), Some(controller), "{image}");
        }
        for image in [
            "nginx:1.27",
            "example.com/not-traefik:1",
            "mytraefik:1",
            "web:1",
        ] {
            assert_eq!(controller_of_image(image), None, "{image}");
        }
    }
}
