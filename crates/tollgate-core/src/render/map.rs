//! `tollgate map`: the route inventory as a table, JSON, Graphviz DOT or a Mermaid flowchart.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde::Serialize;

use crate::inventory::{Backend, Inventory, PathType, Posture, Route};
use crate::object::Resource;

/// One route as `map --format json` prints it.
#[derive(Debug, Serialize)]
pub struct MapRoute {
    /// The host; absent when the rule has none (any Host header).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The path; absent for a default backend.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// `Exact`, `Prefix` or `ImplementationSpecific`.
    pub path_type: PathType,
    /// Whether this is the Ingress's default backend (or a TLS/TCP route, which has no path).
    pub default_backend: bool,
    /// The object defining the route: an Ingress, HTTPRoute, GRPCRoute, TLSRoute or TCPRoute.
    pub route: MapRef,
    /// The Ingress, for a route of an Ingress.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ingress: Option<MapRef>,
    /// The Gateway listeners serving a Gateway API route (empty when its Gateway is not in the
    /// input).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub listeners: Vec<MapListener>,
    /// The IngressClass, or the GatewayClass, in force.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// The controller, when known (`ingress-nginx`; a GatewayClass's `controllerName`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controller: Option<String>,
    /// Where the route goes.
    pub backend: Backend,
    /// The backend's namespace.
    pub backend_namespace: String,
    /// Whether the backend Service is in the inventory.
    pub service_found: bool,
    /// The Service port it resolves to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_port: Option<MapPort>,
    /// Ready endpoints on that port; absent when endpoints are not in scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready_endpoints: Option<usize>,
    /// The workloads behind the Service.
    pub workloads: Vec<MapRef>,
    /// NetworkPolicies that govern ingress to those workloads.
    pub network_policies: Vec<MapRef>,
    /// The TLS secret covering the host; absent when the host has no TLS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_secret: Option<String>,
    /// Access controls.
    pub posture: Posture,
}

/// An object named by kind, namespace and name.
#[derive(Debug, Serialize)]
pub struct MapRef {
    /// Kind.
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
}

/// A Gateway listener serving a route.
#[derive(Debug, Serialize)]
pub struct MapListener {
    /// The Gateway.
    pub gateway: MapRef,
    /// The listener's name.
    pub listener: String,
    /// Its protocol.
    pub protocol: String,
    /// Its port.
    pub port: i32,
}

/// A resolved Service port.
#[derive(Debug, Serialize)]
pub struct MapPort {
    /// `spec.ports[].port`.
    pub port: i32,
    /// `spec.ports[].name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `spec.ports[].targetPort`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_port: Option<String>,
}

fn map_ref(inv: &Inventory, i: usize) -> MapRef {
    let o = &inv.objects[i];
    MapRef {
        kind: o.kind.as_str().to_owned(),
        namespace: o.ns().to_owned(),
        name: o.name.clone(),
    }
}

/// Every route in the shape of `map --format json`.
#[must_use]
pub fn routes(inv: &Inventory) -> Vec<MapRoute> {
    inv.routes.iter().map(|r| map_route(inv, r)).collect()
}

fn map_route(inv: &Inventory, r: &Route) -> MapRoute {
    let (class, controller) = match (r.ingress, &r.gateway) {
        (Some(i), _) => {
            let class = &inv.ingresses[i].class;
            (
                class.class.clone(),
                class.controller.as_ref().map(|c| c.name().to_owned()),
            )
        }
        (None, Some(g)) => match g.listeners.first() {
            Some(&(gw, _)) => {
                let entry = &inv.gateways[gw];
                let (_, body) = inv.gateway(entry);
                (
                    Some(body.spec.gateway_class_name.clone()),
                    entry.controller.as_deref().map(|c| {
                        crate::inventory::implementation_name(c)
                            .map_or_else(|| c.to_owned(), str::to_owned)
                    }),
                )
            }
            None => (None, None),
        },
        (None, None) => (None, None),
    };
    let listeners = r
        .gateway
        .iter()
        .flat_map(|g| &g.listeners)
        .filter_map(|&(gw, l)| {
            let entry = &inv.gateways[gw];
            let (_, body) = inv.gateway(entry);
            let listener = body.spec.listeners.get(l)?;
            Some(MapListener {
                gateway: map_ref(inv, entry.object),
                listener: listener.name.clone(),
                protocol: listener.protocol.clone(),
                port: listener.port,
            })
        })
        .collect();
    let service_port = r.service.zip(r.service_port).and_then(|(s, p)| {
        let Resource::Service(svc) = &inv.objects[s].resource else {
            return None;
        };
        let port = svc.spec.as_ref()?.ports.as_ref()?.get(p)?;
        Some(MapPort {
            port: port.port,
            name: port.name.clone(),
            target_port: port.target_port.as_ref().map(|t| match t {
                k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(i) => i.to_string(),
                k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(s) => s.clone(),
            }),
        })
    });
    MapRoute {
        host: r.host.clone(),
        path: r.path.clone(),
        path_type: r.path_type,
        default_backend: r.path.is_none(),
        route: map_ref(inv, r.object),
        ingress: r.ingress.map(|i| map_ref(inv, inv.ingresses[i].object)),
        listeners,
        class,
        controller,
        backend: r.backend.clone(),
        backend_namespace: r.namespace.clone(),
        service_found: r.service.is_some(),
        service_port,
        ready_endpoints: r.ready_endpoints,
        workloads: r.workloads.iter().map(|&w| map_ref(inv, w)).collect(),
        network_policies: r
            .network_policies
            .iter()
            .map(|&n| map_ref(inv, n))
            .collect(),
        tls_secret: r.tls_secret.clone(),
        posture: r.posture.clone(),
    }
}

/// `{"routes": [...]}` as pretty JSON.
#[must_use]
pub fn json(inv: &Inventory) -> String {
    // Serialized straight from the structs: an intermediate `Value` tree would double the
    // memory of a large map.
    #[derive(Serialize)]
    struct Doc {
        routes: Vec<MapRoute>,
    }
    let doc = Doc {
        routes: routes(inv),
    };
    serde_json::to_string_pretty(&doc).expect("routes serialize") + "\n"
}

/// The backend as `service:port`, marked `(missing)` when the Service is not in the inventory.
#[must_use]
pub fn backend_text(r: &MapRoute) -> String {
    match &r.backend {
        Backend::Service { name, port } => {
            let port = port
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_else(|| "?".into());
            let missing = if r.service_found { "" } else { " (missing)" };
            format!("{name}:{port}{missing}")
        }
        Backend::Resource { kind, name } => format!("{kind}/{name}"),
        Backend::None => "-".into(),
    }
}

/// One row per route, columns aligned. Colour marks what is missing.
#[must_use]
pub fn table(inv: &Inventory, color: bool) -> String {
    let header = [
        "HOST", "PATH", "TYPE", "ROUTE", "CLASS", "BACKEND", "READY", "TLS", "AUTH", "ALLOW",
        "RATE", "WAF",
    ];
    let mut rows: Vec<[String; 12]> = Vec::new();
    for r in routes(inv) {
        rows.push([
            r.host.clone().unwrap_or_else(|| "*".into()),
            r.path.clone().unwrap_or_else(|| "(default)".into()),
            match r.path_type {
                PathType::Exact => "Exact",
                PathType::Prefix => "Prefix",
                PathType::ImplementationSpecific => "Impl",
            }
            .into(),
            route_label(&r.route),
            match (&r.class, &r.controller) {
                (Some(c), Some(ctl)) if c != ctl => format!("{c} ({ctl})"),
                (Some(c), _) => c.clone(),
                (None, _) => "-".into(),
            },
            backend_text(&r),
            r.ready_endpoints
                .map_or_else(|| "?".into(), |n| n.to_string()),
            match &r.tls_secret {
                Some(s) if s.is_empty() => "default".into(),
                Some(s) => s.clone(),
                None => "-".into(),
            },
            r.posture.auth.short().to_owned(),
            r.posture.allowlist.short().to_owned(),
            r.posture.rate_limit.short().to_owned(),
            r.posture.waf.short().to_owned(),
        ]);
    }
    let mut lines = vec![header.map(str::to_owned)];
    lines.extend(rows);
    let mut out = String::new();
    let style = |row: usize, col: usize, cell: &str| {
        if row == 0 {
            Some("1")
        } else if cell.ends_with("(missing)") || (col == 6 && cell == "0") {
            Some("31")
        } else {
            None
        }
    };
    for line in super::columns(&lines, color, style) {
        out.push_str(&line);
        out.push('\n');
    }
    let hosts: BTreeSet<&str> = inv
        .routes
        .iter()
        .filter_map(|r| r.host.as_deref())
        .collect();
    let _ = writeln!(
        out,
        "\n{} routes, {} hosts, {} Ingresses, {} Gateway API routes. READY ? = endpoints not in the input; AUTH/ALLOW/RATE/WAF ? = cannot be known from the objects (controller not modelled, or set elsewhere).",
        inv.routes.len(),
        hosts.len(),
        inv.ingresses.len(),
        inv.gateway_routes.len()
    );
    out
}

/// How reports name a route's object: `ns/name` for an Ingress (the column's long-standing form), `Kind ns/name` for the others.
pub fn route_label(r: &MapRef) -> String {
    if r.kind == "Ingress" {
        format!("{}/{}", r.namespace, r.name)
    } else {
        format!("{} {}/{}", r.kind, r.namespace, r.name)
    }
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Graphviz: host → Ingress → Service → workloads, one edge per path.
#[must_use]
pub fn dot(inv: &Inventory) -> String {
    let mut out = String::from(
        "digraph routes {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n",
    );
    let mut nodes = BTreeSet::new();
    let mut edges = BTreeSet::new();
    for r in routes(inv) {
        let host = format!("host:{}", r.host.as_deref().unwrap_or("*"));
        let ing = format!(
            "ing:{}/{}/{}",
            r.route.kind, r.route.namespace, r.route.name
        );
        let svc = format!("svc:{}/{}", r.backend_namespace, backend_text(&r));
        nodes.insert((
            host.clone(),
            r.host.clone().unwrap_or_else(|| "* (any host)".into()),
            "ellipse",
        ));
        nodes.insert((
            ing.clone(),
            format!("{} {}/{}", r.route.kind, r.route.namespace, r.route.name),
            "box",
        ));
        nodes.insert((
            svc.clone(),
            format!("Service {}", backend_text(&r)),
            if r.service_found { "box" } else { "octagon" },
        ));
        let label = format!(
            "{} {}{}",
            r.path.as_deref().unwrap_or("(default)"),
            r.path_type.as_str(),
            if r.tls_secret.is_some() { " 🔒" } else { "" }
        );
        edges.insert((host.clone(), ing.clone(), label));
        for l in &r.listeners {
            let gw = format!("gw:{}/{}", l.gateway.namespace, l.gateway.name);
            nodes.insert((
                gw.clone(),
                format!("Gateway {}/{}", l.gateway.namespace, l.gateway.name),
                "house",
            ));
            edges.insert((
                gw,
                host.clone(),
                format!("{} {}:{}", l.listener, l.protocol, l.port),
            ));
        }
        edges.insert((ing, svc.clone(), String::new()));
        for w in &r.workloads {
            let wl = format!("wl:{}/{}/{}", w.kind, w.namespace, w.name);
            nodes.insert((
                wl.clone(),
                format!("{} {}/{}", w.kind, w.namespace, w.name),
                "component",
            ));
            edges.insert((svc.clone(), wl, String::new()));
        }
    }
    for (id, label, shape) in &nodes {
        let _ = writeln!(
            out,
            "  \"{}\" [label=\"{}\", shape={shape}];",
            dot_escape(id),
            dot_escape(label)
        );
    }
    for (from, to, label) in &edges {
        let _ = writeln!(
            out,
            "  \"{}\" -> \"{}\" [label=\"{}\"];",
            dot_escape(from),
            dot_escape(to),
            dot_escape(label)
        );
    }
    out.push_str("}\n");
    out
}

/// A Mermaid flowchart of the same graph (GitHub renders it in Markdown).
#[must_use]
pub fn mermaid(inv: &Inventory) -> String {
    let mut ids: Vec<String> = Vec::new();
    let mut id_of = |key: &str| -> String {
        let i = ids.iter().position(|k| k == key).unwrap_or_else(|| {
            ids.push(key.to_owned());
            ids.len() - 1
        });
        format!("n{i}")
    };
    let mut lines = BTreeSet::new();
    let esc = |s: &str| s.replace('"', "#quot;");
    for r in routes(inv) {
        let host_label = r.host.clone().unwrap_or_else(|| "* any host".into());
        let host = id_of(&format!("host:{host_label}"));
        let ing_label = format!("{} {}/{}", r.route.kind, r.route.namespace, r.route.name);
        let ing = id_of(&ing_label);
        let svc_label = format!("Service {}/{}", r.backend_namespace, backend_text(&r));
        let svc = id_of(&svc_label);
        lines.insert(format!("  {host}([\"{}\"])", esc(&host_label)));
        lines.insert(format!("  {ing}[\"{}\"]", esc(&ing_label)));
        if r.service_found {
            lines.insert(format!("  {svc}[\"{}\"]", esc(&svc_label)));
        } else {
            lines.insert(format!("  {svc}{{{{\"{}\"}}}}", esc(&svc_label)));
        }
        let label = format!(
            "{} {}{}",
            r.path.as_deref().unwrap_or("(default)"),
            r.path_type.as_str(),
            if r.tls_secret.is_some() { " TLS" } else { "" }
        );
        lines.insert(format!("  {host} -->|\"{}\"| {ing}", esc(&label)));
        for l in &r.listeners {
            let gw_label = format!("Gateway {}/{}", l.gateway.namespace, l.gateway.name);
            let gw = id_of(&gw_label);
            lines.insert(format!("  {gw}[/\"{}\"\\]", esc(&gw_label)));
            lines.insert(format!(
                "  {gw} -->|\"{}\"| {host}",
                esc(&format!("{} {}:{}", l.listener, l.protocol, l.port))
            ));
        }
        lines.insert(format!("  {ing} --> {svc}"));
        for w in &r.workloads {
            let wl_label = format!("{} {}/{}", w.kind, w.namespace, w.name);
            let wl = id_of(&wl_label);
            lines.insert(format!("  {wl}[/\"{}\"/]", esc(&wl_label)));
            lines.insert(format!("  {svc} --> {wl}"));
        }
    }
    let mut out = String::from("flowchart LR\n");
    for l in lines {
        out.push_str(&l);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Manifests;

    fn inv() -> Inventory {
        let mut m = Manifests::default();
        m.add_text(
            "m.yaml",
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web, namespace: shop}\nspec:\n  ingressClassName: nginx\n  tls: [{hosts: [shop.example.com], secretName: shop-tls}]\n  rules:\n  - host: shop.example.com\n    http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}\n      - {path: /old, pathType: Exact, backend: {service: {name: gone, port: {number: 80}}}}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {ports: [{port: 80, targetPort: 8080}]}\n".into(),
        );
        Inventory::build(m.objects, m.sources, None)
    }

    #[test]
    fn json_routes_carry_the_resolved_graph() {
        let v: serde_json::Value = serde_json::from_str(&json(&inv())).unwrap();
        let routes = v["routes"].as_array().unwrap();
        assert_eq!(routes.len(), 2);
        assert_eq!(routes[0]["service_port"]["target_port"], "8080");
        assert_eq!(routes[0]["tls_secret"], "shop-tls");
        assert_eq!(routes[1]["service_found"], false);
        assert_eq!(routes[0]["controller"], "ingress-nginx");
    }

    #[test]
    fn table_marks_missing_services() {
        let t = table(&inv(), false);
        assert!(t.contains("gone:80 (missing)"), "{t}");
        assert!(t.contains("2 routes, 1 hosts, 1 Ingresses"));
    }

    #[test]
    fn dot_and_mermaid_draw_every_edge_once() {
        let d = dot(&inv());
        assert_eq!(d.matches("->").count(), 4, "{d}");
        let m = mermaid(&inv());
        assert!(m.starts_with("flowchart LR"));
        assert_eq!(m.matches("-->").count(), 4, "{m}");
    }
}
