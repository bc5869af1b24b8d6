use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags `spec.tls[].secretName` references to a Secret that does not exist in the
    /// Ingress's namespace, is not of type `kubernetes.io/tls`, or lacks `tls.crt` or
    /// `tls.key`. An entry without `secretName` is not flagged: some controllers use it to
    /// select their default certificate on purpose. A Secret of a namespace none of whose Secrets
    /// were scanned is reported as "not in scope", at `info`.
    ///
    /// ## Why is this bad?
    /// The controller cannot load the certificate and silently serves its default one (usually
    /// self-signed, "Kubernetes Ingress Controller Fake Certificate"): every client sees a
    /// certificate error, or worse, learns to click through them.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   tls:
    ///     - hosts: [shop.example.com]
    ///       secretName: shop-tls      # no such Secret
    /// ```
    ///
    /// ## How to fix
    /// Create the Secret (type `kubernetes.io/tls` with `tls.crt` and `tls.key`), or fix the name.
    /// ```shell
    /// kubectl -n shop create secret tls shop-tls --cert=shop.crt --key=shop.key
    /// ```
    pub struct TlsSecretMissing {
        code: "TG204",
        name: "tls-secret-missing",
        category: Tls,
        severity: High,
        summary: "A TLS secret is missing, of the wrong type, or lacks its keys",
        needs: [Secret],
        since: "0.1.0",
    }
}

impl Rule for TlsSecretMissing {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        for entry in &cx.inventory.ingresses {
            let (object, ing) = cx.inventory.ingress(entry);
            let tls = ing.spec.iter().flat_map(|s| s.tls.iter().flatten());
            for (i, t) in tls.enumerate() {
                let Some(name) = t.secret_name.as_deref().filter(|n| !n.is_empty()) else {
                    continue;
                };
                let pointer = format!("/spec/tls/{i}/secretName");
                let ns = object.ns();
                let problem = match cx.inventory.secret(ns, name) {
                    None if !cx.inventory.in_scope(Kind::Secret, ns) => {
                        out.report(entry.object, pointer, not_in_scope(Kind::Secret, name, ns))
                            .severity(Severity::Info);
                        continue;
                    }
                    None => format!("TLS secret `{name}` does not exist in namespace `{ns}`"),
                    Some(s) if s.type_ != "kubernetes.io/tls" => {
                        format!(
                            "secret `{name}` is of type `{}`, not `kubernetes.io/tls`",
                            s.type_
                        )
                    }
                    Some(s) => {
                        let missing: Vec<&str> = ["tls.crt", "tls.key"]
                            .into_iter()
                            .filter(|k| !s.keys.contains(*k))
                            .collect();
                        if missing.is_empty() {
                            continue;
                        }
                        format!("secret `{name}` has no {}", missing.join(" or "))
                    }
                };
                let d = out.report(entry.object, pointer, problem);
                if let Some(host) = t.hosts.iter().flatten().next() {
                    d.host(host.clone());
                }
            }
        }
    }
}
