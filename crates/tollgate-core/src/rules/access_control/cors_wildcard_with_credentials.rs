use super::{annotation_pointer, is_nginx_canary};
use crate::controller::Controller;
use crate::inventory::go_bool;
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags an ingress-nginx Ingress that enables CORS (`enable-cors: "true"`) for any origin
    /// while allowing credentials. ingress-nginx reads these annotations as follows:
    /// - `cors-allow-origin` absent or empty means `*`, and a list that contains `*` is `*`;
    /// - `cors-allow-credentials` absent (or not a boolean) means **true**: with CORS enabled,
    ///   credentials are allowed unless the Ingress says `"false"`.
    ///
    /// So `enable-cors: "true"` alone is reported. An origin with a subdomain wildcard
    /// (`https://*.example.com`) with credentials is reported at low: ingress-nginx answers it
    /// with the caller's own origin, which browsers accept with credentials. An Ingress whose
    /// controller is unknown is judged as if it were ingress-nginx; one served by another
    /// controller, or a canary (whose CORS comes from its main Ingress), is not.
    ///
    /// ## Why is this bad?
    /// For `*` ingress-nginx sends `Access-Control-Allow-Origin: *` together with
    /// `Access-Control-Allow-Credentials: true`. Browsers refuse to hand a credentialed response
    /// to a page under that pair, so it does not leak cookies by itself, but: every web page
    /// can read the route's responses to requests without credentials, which exposes anything
    /// gated only by network position (an allow-list, a VPN) to any site a user inside visits;
    /// and when credentialed calls then fail, the usual fix is to echo the request's `Origin`,
    /// which lets every site read authenticated responses. With a subdomain wildcard the
    /// browser does send credentials, so any subdomain (a forgotten one, a taken-over one, one
    /// serving user content) can read authenticated responses.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   annotations:
    ///     nginx.ingress.kubernetes.io/enable-cors: "true"
    ///     nginx.ingress.kubernetes.io/cors-allow-origin: "*"
    ///     nginx.ingress.kubernetes.io/cors-allow-credentials: "true"
    /// ```
    ///
    /// ## How to fix
    /// List the origins that may call with credentials in `cors-allow-origin` (`https://app.example.com, https://admin.example.com`), or set `cors-allow-credentials: "false"` for an API meant for any origin.
    ///
    /// ## References
    /// - ingress-nginx annotations: Enable CORS (defaults of `cors-allow-origin` and
    ///   `cors-allow-credentials`); `internal/ingress/annotations/cors/main.go`
    /// - Fetch Standard, CORS protocol and credentials; OWASP WSTG-CLNT-07; CWE-942
    pub struct CorsWildcardWithCredentials {
        code: "TG506",
        name: "cors-wildcard-with-credentials",
        category: AccessControl,
        severity: Medium,
        summary: "CORS allows any origin together with credentials",
        needs: [],
        since: "0.1.0",
    }
}

const PREFIX: &str = "nginx.ingress.kubernetes.io/";

/// What ingress-nginx makes of `cors-allow-origin`.
#[derive(Debug, PartialEq, Eq)]
enum Origins<'a> {
    /// `*`: every origin.
    Any,
    /// Origins of which the first with a subdomain wildcard is given.
    SubdomainWildcard(&'a str),
    /// Named origins only.
    Named,
}

fn origins(value: Option<&str>) -> Origins<'_> {
    let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
        return Origins::Any;
    };
    let list: Vec<&str> = value.split(',').map(str::trim).collect();
    if list.contains(&"*") {
        return Origins::Any;
    }
    list.into_iter()
        .find(|o| o.contains("://*."))
        .map_or(Origins::Named, Origins::SubdomainWildcard)
}

impl Rule for CorsWildcardWithCredentials {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        for entry in &cx.inventory.ingresses {
            if !matches!(
                entry.class.controller,
                None | Some(Controller::IngressNginx)
            ) {
                continue;
            }
            let object = &cx.inventory.objects[entry.object];
            let a = |k: &str| object.annotation(&format!("{PREFIX}{k}"));
            if a("enable-cors").and_then(go_bool) != Some(true) || is_nginx_canary(object) {
                continue;
            }
            let credentials = a("cors-allow-credentials").and_then(go_bool);
            if credentials == Some(false) {
                continue;
            }
            let by_default = if credentials.is_none() {
                " (`cors-allow-credentials` defaults to true)"
            } else {
                ""
            };
            let origin = a("cors-allow-origin");
            let pointer = annotation_pointer(&format!(
                "{PREFIX}{}",
                if origin.is_some() {
                    "cors-allow-origin"
                } else {
                    "enable-cors"
                }
            ));
            match origins(origin) {
                Origins::Any => {
                    let which = if origin.is_some_and(|o| !o.trim().is_empty()) {
                        "`*`"
                    } else {
                        "`*` (the default of `cors-allow-origin`)"
                    };
                    out.report(
                        entry.object,
                        pointer,
                        format!("CORS allows every origin, {which}, with credentials{by_default}"),
                    );
                }
                Origins::SubdomainWildcard(o) => {
                    out.report(
                        entry.object,
                        pointer,
                        format!(
                            "CORS echoes any origin matching `{o}` with credentials{by_default}: every such subdomain can read authenticated responses"
                        ),
                    )
                    .severity(Severity::Low);
                }
                Origins::Named => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_read_as_ingress_nginx_reads_them() {
        assert_eq!(origins(None), Origins::Any);
        assert_eq!(origins(Some("  ")), Origins::Any);
        assert_eq!(origins(Some("https://a.example.com, *")), Origins::Any);
        assert_eq!(
            origins(Some("https://a.example.com, https://*.example.com")),
            Origins::SubdomainWildcard("https://*.example.com")
        );
        assert_eq!(origins(Some("https://a.example.com")), Origins::Named);
    }
}
