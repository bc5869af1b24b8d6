//! Network policy: whether the pods behind a route accept traffic only from where they should.
//!
//! Whether a workload is isolated can only be judged when the NetworkPolicies of its
//! namespace are known: always for a cluster, and for files only when at least one
//! NetworkPolicy of that namespace was given (see [`support::policies_known`]).

/// `allow-all-ingress-policy` (TG603).
pub mod allow_all_ingress_policy;
/// `backend-not-isolated` (TG601).
pub mod backend_not_isolated;
/// `namespace-without-default-deny` (TG602).
pub mod namespace_without_default_deny;
/// `network-policy-selects-nothing` (TG604).
pub mod network_policy_selects_nothing;
/// What the network-policy and health rules share.
pub(crate) mod support;

#[cfg(test)]
mod tests {
    use crate::rules::test_support::fixture_tests;

    fixture_tests! {
        backend_not_isolated => "backend-not-isolated",
        namespace_without_default_deny => "namespace-without-default-deny",
        allow_all_ingress_policy => "allow-all-ingress-policy",
        network_policy_selects_nothing => "network-policy-selects-nothing",
    }
}
