//! Exposure: what is reachable, and by which names.

/// `default-backend-catch-all` (TG103).
pub mod default_backend_catch_all;
/// `empty-host` (TG102).
pub mod empty_host;
/// `host-outside-allowed-domains` (TG106).
pub mod host_outside_allowed_domains;
/// `ingress-in-default-namespace` (TG109).
pub mod ingress_in_default_namespace;
/// `missing-ingress-class` (TG104).
pub mod missing_ingress_class;
/// `service-bypasses-ingress` (TG107).
pub mod service_bypasses_ingress;
/// `service-external-ips` (TG108).
pub mod service_external_ips;
/// `unknown-ingress-class` (TG105).
pub mod unknown_ingress_class;
/// `wildcard-host` (TG101).
pub mod wildcard_host;

#[cfg(test)]
mod tests {
    use crate::rules::test_support::fixture_tests;

    fixture_tests! {
        wildcard_host => "wildcard-host",
        empty_host => "empty-host",
        default_backend_catch_all => "default-backend-catch-all",
        missing_ingress_class => "missing-ingress-class",
        unknown_ingress_class => "unknown-ingress-class",
        host_outside_allowed_domains => "host-outside-allowed-domains",
        service_bypasses_ingress => "service-bypasses-ingress",
        service_external_ips => "service-external-ips",
        ingress_in_default_namespace => "ingress-in-default-namespace",
    }
}
