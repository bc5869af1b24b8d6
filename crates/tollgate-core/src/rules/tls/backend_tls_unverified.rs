use crate::controller::Controller;
use crate::rules::prelude::*;
use crate::yaml::escape_segment;

declare_rule! {
    /// ## What it does
    /// Flags ingress-nginx Ingresses that talk TLS to their backend
    /// (`nginx.ingress.kubernetes.io/backend-protocol: HTTPS` or `GRPCS`) without verifying the
    /// backend's certificate. Verification is in force only when all of these hold, as the
    /// controller parses them:
    /// - `proxy-ssl-verify` is exactly `"on"` (`"true"` or `"On"` are invalid values and leave
    ///   it at its default, `off`);
    /// - `proxy-ssl-secret` names a Secret as `namespace/name` (without it the controller drops
    ///   every `proxy-ssl-*` setting of the Ingress);
    /// - that Secret, when it is in scope, has a `ca.crt` to verify against (a TLS Secret with
    ///   only `tls.crt`/`tls.key` is a client certificate, not a CA).
    ///
    /// Only ingress-nginx is judged. Traefik verifies backend certificates by default (unless its
    /// ServersTransport says `insecureSkipVerify`, a CRD Tollgate does not read); AWS ALB and
    /// GKE load balancers never verify backend certificates, so there is nothing to configure.
    ///
    /// ## Why is this bad?
    /// `backend-protocol: HTTPS` looks like end-to-end encryption, but without verification any
    /// pod or node on the path that answers TLS with any certificate receives the decrypted
    /// traffic, credentials included: the encryption stops passive sniffing and nothing else.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   annotations:
    ///     nginx.ingress.kubernetes.io/backend-protocol: HTTPS
    /// ```
    ///
    /// ## How to fix
    /// Give the controller the CA that signed the backend's certificate and turn verification on.
    /// ```yaml
    /// metadata:
    ///   annotations:
    ///     nginx.ingress.kubernetes.io/backend-protocol: HTTPS
    ///     nginx.ingress.kubernetes.io/proxy-ssl-verify: "on"
    ///     nginx.ingress.kubernetes.io/proxy-ssl-secret: shop/backend-ca   # holds ca.crt
    ///     nginx.ingress.kubernetes.io/proxy-ssl-name: api.shop.svc        # the name in the certificate
    /// ```
    ///
    /// ## References
    /// - ingress-nginx annotations `backend-protocol`, `proxy-ssl-verify` (default `off`),
    ///   `proxy-ssl-secret` (`internal/ingress/annotations/proxyssl/main.go`)
    /// - No peer checks this (research gap TLS-06).
    pub struct BackendTlsUnverified {
        code: "TG212",
        name: "backend-tls-unverified",
        category: Tls,
        severity: Low,
        summary: "An Ingress talks TLS to its backend without verifying the backend's certificate",
        needs: [],
        since: "0.1.0",
    }
}

const NGINX: &str = "nginx.ingress.kubernetes.io/";

fn pointer(key: &str) -> String {
    format!("/metadata/annotations/{}", escape_segment(key))
}

impl Rule for BackendTlsUnverified {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        for entry in &cx.inventory.ingresses {
            if entry.class.controller != Some(Controller::IngressNginx) {
                continue;
            }
            let object = &cx.inventory.objects[entry.object];
            let key = |k: &str| format!("{NGINX}{k}");
            let Some(protocol) = object
                .annotation(&key("backend-protocol"))
                .map(|p| p.trim().to_ascii_uppercase())
                .filter(|p| p == "HTTPS" || p == "GRPCS")
            else {
                continue;
            };
            let verify_key = key("proxy-ssl-verify");
            let secret_key = key("proxy-ssl-secret");
            let (pointer, message) = match object.annotation(&verify_key).map(str::trim) {
                None => (
                    pointer(&key("backend-protocol")),
                    format!(
                        "`backend-protocol: {protocol}` without `proxy-ssl-verify: \"on\"`: \
                         ingress-nginx accepts any certificate from the backend"
                    ),
                ),
                Some("on") => match object.annotation(&secret_key).map(str::trim) {
                    Some(s) if namespace_name(s).is_some() => {
                        let (ns, name) = namespace_name(s).expect("checked");
                        match cx.inventory.secret(ns, name) {
                            Some(secret) if !secret.keys.contains("ca.crt") => (
                                pointer(&secret_key),
                                format!(
                                    "Secret `{s}` has no `ca.crt`: ingress-nginx has no CA to \
                                     check the backend's certificate against, so verification \
                                     cannot work"
                                ),
                            ),
                            _ => continue,
                        }
                    }
                    Some(s) => (
                        pointer(&secret_key),
                        format!(
                            "`proxy-ssl-secret: \"{s}\"` is not `namespace/name`: ingress-nginx \
                             drops the Ingress's `proxy-ssl-*` settings, verification included"
                        ),
                    ),
                    None => (
                        pointer(&verify_key),
                        "`proxy-ssl-verify: \"on\"` without `proxy-ssl-secret`: ingress-nginx \
                         ignores every `proxy-ssl-*` setting without the CA secret, so the \
                         backend's certificate is not verified"
                            .to_owned(),
                    ),
                },
                Some("off") => (
                    pointer(&verify_key),
                    format!(
                        "`backend-protocol: {protocol}` with `proxy-ssl-verify: \"off\"`: \
                         ingress-nginx accepts any certificate from the backend"
                    ),
                ),
                Some(other) => (
                    pointer(&verify_key),
                    format!(
                        "`proxy-ssl-verify: \"{other}\"` is not verification: ingress-nginx \
                         accepts only `on` or `off`, and anything else means `off`"
                    ),
                ),
            };
            out.report(entry.object, pointer, message);
        }
    }
}

/// `namespace/name`, as ingress-nginx's `ParseNameNS` requires (exactly one `/`).
fn namespace_name(s: &str) -> Option<(&str, &str)> {
    let (ns, name) = s.split_once('/')?;
    (!ns.is_empty() && !name.is_empty() && !name.contains('/')).then_some((ns, name))
}
