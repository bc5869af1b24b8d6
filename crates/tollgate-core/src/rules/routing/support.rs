//! Helpers the routing rules share: which Ingresses are not ordinary route owners.

use crate::controller::Controller;
use crate::inventory::IngressEntry;
use crate::object::Object;

/// The label cert-manager puts on the temporary Ingress that answers an ACME HTTP-01 challenge.
pub(crate) const ACME_SOLVER_LABEL: &str = "acme.cert-manager.io/http01-solver";

/// Whether an Ingress is cert-manager's HTTP-01 solver: it routes
/// `/.well-known/acme-challenge/<token>` of a host that another Ingress owns, for a few
/// minutes, by design.
pub(crate) fn is_acme_solver(o: &Object) -> bool {
    o.metadata()
        .labels
        .as_ref()
        .is_some_and(|l| l.contains_key(ACME_SOLVER_LABEL))
}

/// Whether an Ingress is an ingress-nginx canary: its routes are merged into the main
/// Ingress of the same host and path as a traffic split, not routes of their own.
pub(crate) fn is_nginx_canary(entry: &IngressEntry, o: &Object) -> bool {
    entry.class.controller == Some(Controller::IngressNginx)
        && o.annotation("nginx.ingress.kubernetes.io/canary") == Some("true")
}
