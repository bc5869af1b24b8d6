use crate::inventory::RefState;
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags a Gateway listener's `tls.certificateRefs` entry that cannot be used: the Secret
    /// does not exist (its namespace's Secrets were read, or listed from the cluster), it is in
    /// another namespace and no ReferenceGrant there lets Gateways of this namespace refer to
    /// it, it is not of type `kubernetes.io/tls` or lacks `tls.crt`/`tls.key`, or the reference
    /// names a kind other than a core Secret that Tollgate cannot check (reported at `info` in
    /// the message, since implementations support few such kinds).
    ///
    /// cert-manager: in manifests, a Secret that a cert-manager Certificate among the objects
    /// writes, or that gateway-shim makes from the Gateway's `cert-manager.io/issuer` or
    /// `cert-manager.io/cluster-issuer` annotation, is expected to be absent (as for
    /// `tls-secret-missing`). In a cluster it must exist.
    ///
    /// ## Why is this bad?
    /// A listener whose certificate cannot be resolved is not programmed (`ResolvedRefs:
    /// False`, reason `InvalidCertificateRef` or `RefNotPermitted`), so every host on it stops
    /// serving HTTPS. A cross-namespace reference without a grant is exactly what the
    /// ReferenceGrant exists to refuse: a Gateway owner must not be able to serve another
    /// team's private key without that team's consent.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Gateway
    /// metadata: {namespace: edge}
    /// spec:
    ///   listeners:
    ///     - name: https
    ///       protocol: HTTPS
    ///       port: 443
    ///       tls: {certificateRefs: [{name: shop-tls, namespace: shop}]}
    /// # and no ReferenceGrant in `shop` from Gateways in `edge` to Secrets
    /// ```
    ///
    /// ## How to fix
    /// Create the Secret (type `kubernetes.io/tls`), or move it next to the Gateway, or let the
    /// Gateway's namespace refer to it:
    /// ```yaml
    /// kind: ReferenceGrant
    /// metadata: {name: edge-gateway-certs, namespace: shop}
    /// spec:
    ///   from: [{group: gateway.networking.k8s.io, kind: Gateway, namespace: edge}]
    ///   to: [{group: "", kind: Secret, name: shop-tls}]
    /// ```
    ///
    /// ## References
    /// - Gateway API `Listener` status reasons `InvalidCertificateRef`, `RefNotPermitted`;
    ///   Gateway API "ReferenceGrant" security model; Popeye `POP-407`
    pub struct GatewayCertificateRefInvalid {
        code: "TG902",
        name: "gateway-certificate-ref-invalid",
        category: GatewayApi,
        severity: High,
        summary: "A listener's certificateRef names a Secret that is missing, unusable or not granted",
        needs: [Secret],
        since: "0.2.0",
    }
}

impl Rule for GatewayCertificateRefInvalid {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        for entry in &inv.gateways {
            let (object, gw) = inv.gateway(entry);
            for (l, listener) in entry.listeners.iter().enumerate() {
                let name = gw.spec.listeners.get(l).map_or("", |x| x.name.as_str());
                for c in &listener.certificates {
                    let secret = format!("{}/{}", c.namespace, c.name);
                    let why = match &c.state {
                        // cert-manager will write it: in manifests that is the normal state.
                        RefState::Missing
                            if !inv.scope.complete
                                && (gateway_shim(object)
                                    || inv
                                        .cert_manager_certificate(&c.namespace, &c.name)
                                        .is_some()) =>
                        {
                            continue;
                        }
                        RefState::Missing => format!("Secret `{secret}` does not exist"),
                        RefState::NotPermitted => format!(
                            "Secret `{secret}` is in another namespace and no ReferenceGrant \
                             in `{}` lets Gateways of `{}` refer to it",
                            c.namespace,
                            object.ns()
                        ),
                        RefState::Found(i) => match unusable(&inv.objects[*i]) {
                            Some(why) => format!("Secret `{secret}` {why}"),
                            None => continue,
                        },
                        RefState::OtherKind(kind) => format!(
                            "it names a `{kind}`, which Tollgate cannot check and few \
                             implementations accept"
                        ),
                        _ => continue,
                    };
                    let d = out.report(
                        entry.object,
                        c.pointer.clone(),
                        format!(
                            "listener `{name}` of Gateway `{}` cannot use its certificate: {why}",
                            object.name
                        ),
                    );
                    if matches!(c.state, RefState::OtherKind(_)) {
                        d.severity(Severity::Info);
                    }
                    if let Some(h) = gw.spec.listeners.get(l).and_then(|x| x.hostname.clone()) {
                        d.host(h);
                    }
                }
            }
        }
    }
}

/// Whether cert-manager's gateway-shim issues the listeners' certificates of this Gateway.
fn gateway_shim(o: &Object) -> bool {
    o.annotation("cert-manager.io/issuer").is_some()
        || o.annotation("cert-manager.io/cluster-issuer").is_some()
}

/// Why a Secret cannot serve as a listener certificate, if it cannot.
fn unusable(o: &Object) -> Option<String> {
    let Resource::Secret(s) = &o.resource else {
        return None;
    };
    if s.type_ != "kubernetes.io/tls" {
        return Some(format!("is of type `{}`, not `kubernetes.io/tls`", s.type_));
    }
    let missing: Vec<&str> = ["tls.crt", "tls.key"]
        .into_iter()
        .filter(|k| !s.keys.contains(*k))
        .collect();
    (!missing.is_empty()).then(|| format!("has no `{}`", missing.join("`, `")))
}
