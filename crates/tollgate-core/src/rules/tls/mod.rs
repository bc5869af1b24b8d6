//! TLS: whether routes are encrypted, and with which certificate.

/// `backend-tls-unverified` (TG212).
pub mod backend_tls_unverified;
/// `plain-http-allowed` (TG202).
pub mod plain_http_allowed;
/// `tls-host-not-covered` (TG203).
pub mod tls_host_not_covered;
/// `tls-missing` (TG201).
pub mod tls_missing;
/// `tls-secret-missing` (TG204).
pub mod tls_secret_missing;

use crate::controller::Controller;
use crate::object::Object;

/// Whether the controller terminates TLS from its own annotations rather than `spec.tls`
/// (a certificate held by the cloud load balancer). Such Ingresses are not missing TLS.
pub(crate) fn tls_from_annotations(
    o: &Object,
    controller: Option<&Controller>,
) -> Option<&'static str> {
    match controller? {
        Controller::AwsAlb => o
            .annotation("alb.ingress.kubernetes.io/certificate-arn")
            .map(|_| "alb.ingress.kubernetes.io/certificate-arn"),
        Controller::Gce => [
            "ingress.gcp.kubernetes.io/pre-shared-cert",
            "networking.gke.io/managed-certificates",
        ]
        .into_iter()
        .find(|k| o.annotation(k).is_some()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::fixture_tests;

    fixture_tests! {
        tls_missing => "tls-missing",
        tls_host_not_covered => "tls-host-not-covered",
        tls_secret_missing => "tls-secret-missing",
        plain_http_allowed => "plain-http-allowed",
        backend_tls_unverified => "backend-tls-unverified",
    }
}
