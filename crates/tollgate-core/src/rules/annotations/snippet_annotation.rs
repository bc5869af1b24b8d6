use crate::controller::Controller;
use crate::rules::prelude::*;
use crate::yaml::escape_segment;

declare_rule! {
    /// ## What it does
    /// Flags configuration-snippet annotations on Ingresses served by a controller that reads
    /// them: ingress-nginx `nginx.ingress.kubernetes.io/*-snippet` (`configuration-snippet`,
    /// `server-snippet`, `auth-snippet`, `modsecurity-snippet`, `stream-snippet`) and NGINX Inc
    /// `nginx.org/*-snippets`. An Ingress whose controller is unknown is judged as if it were
    /// ingress-nginx; one known to belong to another controller is not (that annotation is
    /// ignored there, which `foreign-controller-annotation` reports).
    ///
    /// ## Why is this bad?
    /// A snippet is raw NGINX configuration written by whoever may edit the Ingress. It can read
    /// files from the controller's filesystem, including its service account token, which can
    /// read every Secret in the cluster (CVE-2021-25742, CVE-2023-5043). ingress-nginx disables
    /// snippets by default since v1.9 and rates them Critical risk; ingress-nginx is retired and
    /// gets no more fixes.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   annotations:
    ///     nginx.ingress.kubernetes.io/configuration-snippet: |
    ///       more_set_headers "X-Frame-Options: DENY";
    /// ```
    ///
    /// ## How to fix
    /// Use the dedicated annotation or controller ConfigMap setting for the behaviour (e.g. `custom-headers`), and keep `allow-snippet-annotations: "false"`.
    ///
    /// ## References
    /// - CVE-2021-25742, CVE-2023-5043; Checkov CKV_K8S_153; ingress-nginx annotations-risk (Critical)
    pub struct SnippetAnnotation {
        code: "TG401",
        name: "snippet-annotation",
        category: Annotations,
        severity: High,
        summary: "An Ingress injects raw NGINX configuration through a snippet annotation",
        needs: [],
        since: "0.1.0",
    }
}

/// The snippet annotations, by the controller that reads them.
fn is_snippet(controller: Option<&Controller>, key: &str) -> bool {
    let nginx = || {
        key.strip_prefix("nginx.ingress.kubernetes.io/")
            .is_some_and(|k| k.ends_with("-snippet"))
    };
    let nginx_inc = || {
        key.strip_prefix("nginx.org/")
            .is_some_and(|k| k.ends_with("-snippets"))
    };
    match controller {
        Some(Controller::IngressNginx) => nginx(),
        Some(Controller::NginxInc) => nginx_inc(),
        None => nginx() || nginx_inc(),
        Some(_) => false,
    }
}

impl Rule for SnippetAnnotation {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        for entry in &cx.inventory.ingresses {
            let object = &cx.inventory.objects[entry.object];
            let controller = entry.class.controller.as_ref();
            let Some(annotations) = &object.metadata().annotations else {
                continue;
            };
            for key in annotations.keys().filter(|k| is_snippet(controller, k)) {
                let who = controller.map_or("the controller", Controller::name);
                out.report(
                    entry.object,
                    format!("/metadata/annotations/{}", escape_segment(key)),
                    format!("`{key}` injects raw configuration into {who}"),
                );
            }
        }
    }
}
