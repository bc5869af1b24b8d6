use crate::cert::KeyCheck;
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags `spec.tls[].secretName` references to a Secret that does not exist in the
    /// Ingress's namespace, is not of type `kubernetes.io/tls`, lacks `tls.crt` or `tls.key`,
    /// holds no readable certificate in `tls.crt`, or whose `tls.key` is not the key of the
    /// certificate (or not a private key at all). An entry without `secretName` is not flagged:
    /// some controllers use it to select their default certificate on purpose. A Secret of a
    /// namespace none of whose Secrets were scanned is reported as "not in scope", at `info`.
    /// In manifests, a `tls.key` with no PEM in it at all is taken for a placeholder or an
    /// encrypted value (SOPS) that deployment replaces; a cluster's must be a key.
    ///
    /// cert-manager: in manifests, a Secret that a cert-manager Certificate writes (one among
    /// the scanned objects, or one ingress-shim makes from the Ingress's
    /// `cert-manager.io/issuer`, `cert-manager.io/cluster-issuer` or `kubernetes.io/tls-acme`
    /// annotation) is expected to be absent. In a cluster it must exist, and when its
    /// Certificate is not Ready, cert-manager's reason is quoted.
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
                let note = match cx.inventory.cert_manager_certificate(ns, name) {
                    Some(i) => match &cx.inventory.objects[i].resource {
                        Resource::Certificate(c) => {
                            Some(super::not_ready_note(&cx.inventory.objects[i].name, c))
                        }
                        _ => None,
                    },
                    None => None,
                };
                let problem = match cx.inventory.secret(ns, name) {
                    // cert-manager will write it: in manifests that is the normal state.
                    None if !cx.inventory.scope.complete
                        && (note.is_some() || ingress_shim(object)) =>
                    {
                        continue;
                    }
                    None if !cx.inventory.in_scope(Kind::Secret, ns) => {
                        out.report(entry.object, pointer, not_in_scope(Kind::Secret, name, ns))
                            .severity(Severity::Info);
                        continue;
                    }
                    None => format!(
                        "TLS secret `{name}` does not exist in namespace `{ns}`{}",
                        note.clone().flatten().unwrap_or_default()
                    ),
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
                        if !missing.is_empty() {
                            format!("secret `{name}` has no {}", missing.join(" or "))
                        } else if let Some(problem) =
                            content_problem(s, cx.inventory.scope.complete)
                        {
                            let d = out.report(
                                entry.object,
                                pointer,
                                format!("secret `{name}`: {problem}"),
                            );
                            d.help(format!(
                                "recreate the Secret from a certificate chain and its own key: \
                                 `kubectl -n {ns} create secret tls {name} --cert=fullchain.pem \
                                 --key=key.pem --dry-run=client -o yaml | kubectl apply -f -`"
                            ));
                            if let Some(host) = t.hosts.iter().flatten().next() {
                                d.host(host.clone());
                            }
                            continue;
                        } else {
                            continue;
                        }
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

/// What is wrong with a TLS Secret's contents: no certificate in `tls.crt`, or a `tls.key` that
/// is unreadable or belongs to another certificate.
/// In manifests (`live` false), a `tls.key` without any PEM is taken for a placeholder or an
/// encrypted value.
fn content_problem(s: &crate::object::SecretInfo, live: bool) -> Option<String> {
    let chain = s.tls.as_deref()?;
    if let Some(unusable) = chain.unusable() {
        return Some(unusable);
    }
    match &chain.key {
        KeyCheck::Mismatch => Some(
            "`tls.key` is not the private key of the certificate in `tls.crt` (the controller \
             refuses the pair and serves its default certificate)"
                .to_owned(),
        ),
        KeyCheck::Unreadable(why) => Some(why.clone()),
        KeyCheck::NotPem if live => Some("`tls.key` holds no PEM private key".to_owned()),
        KeyCheck::NotPem | KeyCheck::Matches | KeyCheck::Absent | KeyCheck::Unknown(_) => None,
    }
}

/// Whether cert-manager's ingress-shim makes a Certificate for this Ingress's TLS entries.
fn ingress_shim(o: &Object) -> bool {
    o.annotation("cert-manager.io/issuer").is_some()
        || o.annotation("cert-manager.io/cluster-issuer").is_some()
        || o.annotation("kubernetes.io/tls-acme") == Some("true")
}
