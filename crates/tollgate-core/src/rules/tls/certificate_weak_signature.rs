use crate::rules::prelude::*;
use crate::rules::tls::{describe, served};

declare_rule! {
    /// ## What it does
    /// Flags a TLS Secret that a route serves whose leaf or intermediate certificate is signed
    /// with a broken hash: SHA-1, MD5 or MD2. A root's own signature is not judged (clients
    /// trust a root by its key, not its signature).
    ///
    /// ## Why is this bad?
    /// Chosen-prefix collisions for SHA-1 (SHAmbles, 2020) and MD5 (the 2008 rogue CA) let an
    /// attacker forge a certificate with the same signature. Browsers have refused SHA-1
    /// certificates since 2017, so the route also fails for them.
    ///
    /// ## Example
    /// ```text
    /// $ openssl x509 -noout -text < tls.crt | grep 'Signature Algorithm'
    ///     Signature Algorithm: sha1WithRSAEncryption
    /// ```
    ///
    /// ## How to fix
    /// Reissue the certificate (and any intermediate) signed with SHA-256 or better.
    ///
    /// ## References
    /// - sslyze `verified_chain_has_sha1_signature`; testssl.sh `cert_signatureAlgorithm`
    pub struct CertificateWeakSignature {
        code: "TG209",
        name: "certificate-weak-signature",
        category: Tls,
        severity: High,
        summary: "A served certificate is signed with SHA-1 or MD5",
        needs: [Secret],
        since: "0.1.0",
    }
}

impl Rule for CertificateWeakSignature {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        for s in served(cx.inventory) {
            let problems: Vec<String> = s
                .judged()
                .filter(|(_, c)| c.weak_signature())
                .map(|(i, c)| {
                    format!(
                        "{} is signed with {}",
                        describe(i, c),
                        c.signature_algorithm
                    )
                })
                .collect();
            s.report(cx, out, &problems);
        }
    }
}
