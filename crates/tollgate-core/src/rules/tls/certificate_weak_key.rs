use crate::rules::prelude::*;
use crate::rules::tls::{describe, served};

declare_rule! {
    /// ## What it does
    /// Flags a TLS Secret that a route serves whose leaf or intermediate certificate has a weak
    /// public key: RSA or DSA under 2048 bits, or an elliptic curve under 256 bits (P-192,
    /// P-224).
    ///
    /// ## Why is this bad?
    /// RSA-1024 has been within reach of well-funded attackers for a decade; the CA/Browser
    /// Forum forbids it and modern clients refuse it, so the route breaks for some clients while
    /// being weakly protected for the others.
    ///
    /// ## Example
    /// ```text
    /// $ openssl x509 -noout -text < tls.crt | grep 'Public-Key'
    ///         Public-Key: (1024 bit)
    /// ```
    ///
    /// ## How to fix
    /// Reissue the certificate with an RSA-2048 (or larger) or ECDSA P-256 key. With
    /// cert-manager: `spec.privateKey: {algorithm: ECDSA, size: 256, rotationPolicy: Always}`.
    ///
    /// ## References
    /// - zlint `e_rsa_mod_less_than_2048_bits`, `e_dsa_shorter_than_2048_bits`
    /// - testssl.sh `cert_keySize`
    pub struct CertificateWeakKey {
        code: "TG208",
        name: "certificate-weak-key",
        category: Tls,
        severity: Medium,
        summary: "A served certificate has a key that is too short",
        needs: [Secret],
        since: "0.1.0",
    }
}

impl Rule for CertificateWeakKey {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        for s in served(cx.inventory) {
            let problems: Vec<String> = s
                .judged()
                .filter_map(|(i, c)| Some(format!("{}: {}", describe(i, c), c.weak_key()?)))
                .collect();
            s.report(cx, out, &problems);
        }
    }
}
