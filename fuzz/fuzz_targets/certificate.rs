//! Any bytes as a TLS Secret's `tls.crt`, `ca.crt` and `tls.key`: an analysis, never a panic.
//! The input is split in three at the first two NUL bytes; seed the corpus with the PEM files of
//! `crates/tollgate-core/tests/fixtures/certs/` (and their DER forms) to get past the PEM armour.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |b| *b == 0);
    let crt = parts.next().unwrap_or_default();
    let ca = parts.next();
    let key = parts.next();
    let chain = tollgate_core::cert::analyze(crt, ca, key);
    for c in &chain.certificates {
        let _ = c.covers("shop.example.com");
        let _ = c.weak_key();
    }
    let _ = tollgate_core::cert::describe_der(crt);
});
