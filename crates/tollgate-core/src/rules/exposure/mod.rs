//! Exposure: what is reachable, and by which names.

pub mod default_backend_catch_all;
pub mod empty_host;
pub mod host_outside_allowed_domains;
pub mod missing_ingress_class;
pub mod unknown_ingress_class;
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
    }
}
