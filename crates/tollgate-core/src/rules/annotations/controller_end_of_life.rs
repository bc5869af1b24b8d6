use crate::installation;
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags every ingress-nginx installation (a Deployment or DaemonSet running the
    /// `ingress-nginx/controller` image), at its image. The retirement facts come from
    /// `crates/tollgate-core/data/controller-eol.json`.
    ///
    /// ## Why is this bad?
    /// Kubernetes SIG Network and the Security Response Committee retired ingress-nginx:
    /// best-effort maintenance ended in March 2026, and there will be no more releases, bug
    /// fixes or security fixes. The controller keeps running, but the next CVE in it stays
    /// open, and it sits on the path of every request with read access to every Secret.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: controller
    ///     image: registry.k8s.io/ingress-nginx/controller:v1.15.1   # the last release, still retired
    /// ```
    ///
    /// ## How to fix
    /// Migrate to a maintained implementation of the Gateway API (Gateway + HTTPRoute); `tollgate migrate --to gateway-api` (planned) lists what each Ingress and annotation needs.
    ///
    /// ## References
    /// - ingress-nginx README "Ingress NGINX Retirement";
    ///   <https://kubernetes.io/blog/2025/11/11/ingress-nginx-retirement/>; kubescape C-0292
    pub struct ControllerEndOfLife {
        code: "TG404",
        name: "controller-end-of-life",
        category: Annotations,
        severity: Medium,
        summary: "The ingress controller is retired and gets no security fixes",
        needs: [],
        since: "0.1.0",
    }
}

impl Rule for ControllerEndOfLife {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        let Some(eol) = installation::end_of_life("ingress-nginx") else {
            return;
        };
        let (year, month) = eol
            .end_of_maintenance
            .split_once('-')
            .unwrap_or((eol.end_of_maintenance.as_str(), ""));
        let month = match month {
            "01" => "January",
            "02" => "February",
            "03" => "March",
            "04" => "April",
            "05" => "May",
            "06" => "June",
            "07" => "July",
            "08" => "August",
            "09" => "September",
            "10" => "October",
            "11" => "November",
            "12" => "December",
            other => other,
        };
        for inst in &inv.installations {
            let version = inst
                .version
                .as_ref()
                .map(|v| format!(" {v}"))
                .unwrap_or_default();
            out.report(
                inst.workload,
                inst.image_pointer(),
                format!(
                    "ingress-nginx{version} is retired since {month} {year}: no further \
                     releases, bug fixes or security fixes"
                ),
            )
            .help(format!("migrate to {}", eol.migrate_to));
        }
    }
}
