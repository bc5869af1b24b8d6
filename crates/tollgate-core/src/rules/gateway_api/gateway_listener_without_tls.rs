use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags a Gateway listener whose protocol is `HTTPS`, or `TLS` in `Terminate` mode, and
    /// which names no certificate: `tls` is absent or `tls.certificateRefs` is empty. A `TLS`
    /// listener in `Passthrough` mode needs no certificate (the backend terminates TLS) and is
    /// not reported. Certificates that are named but cannot be used are
    /// `gateway-certificate-ref-invalid`'s.
    ///
    /// ## Why is this bad?
    /// The Gateway API requires a certificate for a terminating listener; without one the
    /// implementation marks the listener `ResolvedRefs: False` and serves nothing on it, or, in
    /// some implementations, falls back to a default certificate that no client trusts. Either
    /// way the hosts meant to be served over HTTPS are not, and users are pushed to the plain
    /// HTTP listener or taught to click through certificate warnings.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Gateway
    /// spec:
    ///   listeners:
    ///     - name: https
    ///       port: 443
    ///       protocol: HTTPS
    ///       hostname: shop.example.com
    /// ```
    ///
    /// ## How to fix
    /// Name the Secret holding the certificate (cert-manager's gateway-shim writes it when the
    /// Gateway is annotated with an issuer).
    /// ```yaml
    ///       tls:
    ///         mode: Terminate
    ///         certificateRefs: [{kind: Secret, name: shop-tls}]
    /// ```
    ///
    /// ## References
    /// - Gateway API `GatewayTLSConfig`: "certificateRefs … must be specified when mode is
    ///   Terminate"; kube-linter issue #555 (Gateway API checks: TLS config iff HTTPS/TLS)
    pub struct GatewayListenerWithoutTls {
        code: "TG901",
        name: "gateway-listener-without-tls",
        category: GatewayApi,
        severity: High,
        summary: "An HTTPS or terminating TLS listener names no certificate",
        needs: [],
        since: "0.2.0",
    }
}

impl Rule for GatewayListenerWithoutTls {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        for entry in &inv.gateways {
            let (object, gw) = inv.gateway(entry);
            for (l, listener) in gw.spec.listeners.iter().enumerate() {
                let terminates = match listener.protocol.as_str() {
                    "HTTPS" => true,
                    "TLS" => !listener.tls.as_ref().is_some_and(|t| t.passthrough()),
                    _ => false,
                };
                let named = listener
                    .tls
                    .as_ref()
                    .is_some_and(|t| !t.certificate_refs.is_empty());
                if !terminates || named {
                    continue;
                }
                let pointer = if listener.tls.is_some() {
                    format!("/spec/listeners/{l}/tls")
                } else {
                    format!("/spec/listeners/{l}/protocol")
                };
                let d = out.report(
                    entry.object,
                    pointer,
                    format!(
                        "listener `{}` of Gateway `{}` is {} on port {} but names no certificate",
                        listener.name, object.name, listener.protocol, listener.port
                    ),
                );
                if let Some(h) = &listener.hostname {
                    d.host(h.clone());
                }
            }
        }
    }
}
