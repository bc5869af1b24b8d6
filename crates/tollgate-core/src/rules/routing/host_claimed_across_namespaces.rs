use std::collections::{BTreeMap, BTreeSet};

use super::support::{is_acme_solver, is_nginx_canary};
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags a host that Ingresses of more than one namespace route under the same
    /// IngressClass. The first claimant owns the host: the oldest by `creationTimestamp` when
    /// every claimant has one (objects from a cluster), otherwise the first in input order
    /// (files). Each Ingress of another namespace that routes the host is reported, once per
    /// host, naming the owner.
    ///
    /// Hosts are compared exactly, ignoring case: `*.shop.example.com` and
    /// `promo.shop.example.com` are different hosts (the specific one wins), and so are rules
    /// without a host. Not counted as claimants: cert-manager's HTTP-01 solver Ingresses
    /// (label `acme.cert-manager.io/http01-solver`), which route a challenge path of someone
    /// else's host for minutes by design, and ingress-nginx canary Ingresses, which are a
    /// traffic split of the main Ingress. Several Ingresses of one namespace sharing a host
    /// are one team's business and are not flagged.
    ///
    /// ## Why is this bad?
    /// Controllers merge all Ingresses of a host into one virtual host. A second namespace that
    /// routes the host can add paths to another team's site, capture paths it does not route
    /// yet (`/admin`, `/.well-known/…`), or win a duplicate path, and receives its visitors'
    /// cookies and credentials: a host takeover, needing nothing more than the right to create
    /// Ingresses in any namespace. Even when it is deliberate (a migration between teams), the
    /// host's routing is then split across owners that review and deploy independently.
    ///
    /// ## Example
    /// ```yaml
    /// # Ingress storefront/storefront: host shop.example.com, paths /, /checkout
    /// # Ingress payments/checkout:     host shop.example.com, path /checkout
    /// ```
    ///
    /// ## How to fix
    /// Route each host from one namespace only; move the routes of a shared host into the owner's Ingress.
    /// To enforce it, restrict who may create Ingresses per host (an admission policy keyed on
    /// namespace and host). For a planned move, finish it and delete the old routes.
    ///
    /// ## References
    /// - Kyverno `restrict-ingress-host` (unique host cluster-wide), Gatekeeper
    ///   `K8sUniqueIngressHost` (exact match, no namespace ownership)
    /// - Requested as host-collision prevention in cruise-automation/k-rail#49; cert-manager's
    ///   solver false positive in sighupio/module-policy#5
    pub struct HostClaimedAcrossNamespaces {
        code: "TG302",
        name: "host-claimed-across-namespaces",
        category: Routing,
        severity: High,
        summary: "The same host is routed from more than one namespace",
        needs: [],
        since: "0.1.0",
    }
}

/// One Ingress routing a host.
struct Claim {
    object: usize,
    rule: usize,
    host: String,
}

impl Rule for HostClaimedAcrossNamespaces {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        let mut groups: BTreeMap<(Option<String>, String), Vec<Claim>> = BTreeMap::new();
        for entry in &inv.ingresses {
            let (object, ing) = inv.ingress(entry);
            if is_acme_solver(object) || is_nginx_canary(entry, object) {
                continue;
            }
            let mut seen = BTreeSet::new();
            let rules = ing.spec.iter().flat_map(|s| s.rules.iter().flatten());
            for (r, rule) in rules.enumerate() {
                let Some(host) = rule.host.as_deref().filter(|h| !h.is_empty()) else {
                    continue;
                };
                let key = host.to_ascii_lowercase();
                if !seen.insert(key.clone()) {
                    continue;
                }
                groups
                    .entry((entry.class.class.clone(), key))
                    .or_default()
                    .push(Claim {
                        object: entry.object,
                        rule: r,
                        host: host.to_owned(),
                    });
            }
        }
        for ((class, _), mut claims) in groups {
            let namespaces: BTreeSet<&str> =
                claims.iter().map(|c| inv.objects[c.object].ns()).collect();
            if namespaces.len() < 2 {
                continue;
            }
            let created = |c: &Claim| inv.objects[c.object].metadata().creation_timestamp.clone();
            let by_age = claims.iter().all(|c| created(c).is_some());
            if by_age {
                claims.sort_by_key(|c| created(c));
            }
            let owner = &inv.objects[claims[0].object];
            let class = class.map_or_else(
                || "with no IngressClass".to_owned(),
                |c| format!("of class `{c}`"),
            );
            let first = if by_age {
                format!("the oldest Ingress {class} routing it")
            } else {
                format!("the first Ingress {class} routing it, in input order")
            };
            let others = namespaces.len() - 1;
            for claim in &claims[1..] {
                let object = &inv.objects[claim.object];
                if object.ns() == owner.ns() {
                    continue;
                }
                let also = if others > 1 {
                    format!(" ({} namespaces route it)", namespaces.len())
                } else {
                    String::new()
                };
                out.report(
                    claim.object,
                    format!("/spec/rules/{}/host", claim.rule),
                    format!(
                        "host `{}` belongs to namespace `{}` (Ingress {}/{}, {first}), yet \
                         namespace `{}` routes it too{also}",
                        claim.host,
                        owner.ns(),
                        owner.ns(),
                        owner.name,
                        object.ns(),
                    ),
                )
                .host(claim.host.clone());
            }
        }
    }
}
