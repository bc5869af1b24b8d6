//! Baseline drift: what changed in the tracked objects since a saved baseline, field by field,
//! and what each change does to the findings.
//!
//! Both sides are compared in their normalized form ([`crate::change::normalize`]), in full: a
//! field someone added by hand (a `configuration-snippet` annotation) is drift, even though a
//! GitOps tool that compares only the fields it owns would call the object in sync. Because a
//! baseline Secret holds no values, a Secret counts as unchanged when its normalized form (key
//! names, type, metadata, certificate facts) is.
//!
//! [`baseline_files`] writes a baseline: one normalized YAML file per object.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use crate::change::{self, ChangeRisk};
use crate::config::Config;
use crate::object::{Kind, Object};
use crate::yaml::escape_segment;

/// Everything that differs between a baseline and the current objects.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DriftReport {
    /// Objects that exist now but not in the baseline.
    pub added: Vec<ObjectDrift>,
    /// Objects of the baseline that no longer exist.
    pub removed: Vec<ObjectDrift>,
    /// Objects that exist on both sides with different normalized forms.
    pub changed: Vec<ObjectDrift>,
}

impl DriftReport {
    /// Whether nothing drifted.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// One object that drifted. The lists of [`DriftReport`] are sorted by kind (in
/// [`Kind::ALL`] order), namespace and name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectDrift {
    /// `apiVersion` (the current one, or the baseline's for a removed object).
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// The namespace (`default` when a namespaced object names none); absent when cluster-scoped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
    /// The fields that differ, for a changed object; empty for an added or removed one, whose
    /// whole body is the difference.
    pub fields: Vec<FieldDrift>,
    /// The rules the drift newly violates or fixes, judged among the current objects.
    pub risk: ChangeRisk,
}

/// How a field differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldChange {
    /// Present now, absent in the baseline.
    Added,
    /// Present in the baseline, absent now.
    Removed,
    /// Present on both sides with different values.
    Changed,
}

/// One field that differs. Maps present on one side only are expanded to their leaves, so an
/// annotation added to an object that had none shows as that annotation's own path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldDrift {
    /// Added, removed or changed.
    pub change: FieldChange,
    /// JSON pointer to the field.
    pub path: String,
    /// The baseline's value, when it had the field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Value>,
    /// The current value, when the field exists now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<Value>,
}

/// Kind, namespace (`""` when cluster-scoped) and name.
type Identity = (Kind, String, String);

/// A tracked object in its normalized form.
struct Tracked {
    kind: Kind,
    api_version: String,
    namespace: Option<String>,
    name: String,
    normalized: Value,
}

impl Tracked {
    fn from_value(value: &Value) -> Option<Tracked> {
        let kind = change::tracked_kind(value)?;
        let normalized = change::normalize(value)?;
        let text = |pointer: &str| normalized.pointer(pointer).and_then(Value::as_str);
        let name = text("/metadata/name").unwrap_or("").to_owned();
        let namespace = kind.namespaced().then(|| {
            text("/metadata/namespace")
                .filter(|ns| !ns.is_empty())
                .unwrap_or("default")
                .to_owned()
        });
        Some(Tracked {
            kind,
            api_version: text("/apiVersion").unwrap_or("").to_owned(),
            namespace,
            name,
            normalized,
        })
    }

    fn identity(&self) -> Identity {
        (
            self.kind,
            self.namespace.clone().unwrap_or_default(),
            self.name.clone(),
        )
    }

    /// The object as the rules read it, built from the normalized form so that both sides of a
    /// comparison lose the same things (a Secret's values).
    fn object(&self) -> Option<Object> {
        Object::from_value(self.normalized.clone(), None)
            .ok()
            .flatten()
    }
}

/// Indexes tracked objects by identity; the first of duplicates wins, as in the inventory.
fn index(values: &[Value]) -> BTreeMap<Identity, Tracked> {
    let mut out = BTreeMap::new();
    for tracked in values.iter().filter_map(Tracked::from_value) {
        out.entry(tracked.identity()).or_insert(tracked);
    }
    out
}

/// Compares the current objects with a baseline. Both may be raw (as listed from a cluster) or
/// already normalized; objects of kinds that are not tracked are ignored.
///
/// The risk of each drift is judged as a change from the baseline object to the current one
/// with every other current object as context ([`change::risk`]), over the kinds found on
/// either side.
#[must_use]
pub fn drift(
    baseline: &[Value],
    current: &[Value],
    config: &Config,
    now: Timestamp,
) -> DriftReport {
    let old = index(baseline);
    let new = index(current);
    // The context is built from the current objects as given: raw Secrets keep their
    // certificates there, so an Ingress's drift is judged against the real certificate.
    // `change::risk` leaves out the context object with the changed object's identity, so the
    // whole current state serves as every drift's context.
    let mut seen: BTreeSet<Identity> = BTreeSet::new();
    let mut context: Vec<Object> = Vec::new();
    for value in current {
        let Some(tracked) = Tracked::from_value(value) else {
            continue;
        };
        if !seen.insert(tracked.identity()) {
            continue;
        }
        if let Ok(Some(object)) = Object::from_value(value.clone(), None) {
            context.push(object);
        }
    }
    let present: BTreeSet<Kind> = old.keys().chain(new.keys()).map(|id| id.0).collect();
    let ids: BTreeSet<&Identity> = old.keys().chain(new.keys()).collect();
    let mut report = DriftReport::default();
    for id in ids {
        let (before, after) = (old.get(id), new.get(id));
        let fields = match (before, after) {
            (Some(b), Some(a)) if b.normalized == a.normalized => continue,
            (Some(b), Some(a)) => {
                let mut fields = Vec::new();
                field_drift(
                    Some(&b.normalized),
                    Some(&a.normalized),
                    &mut String::new(),
                    &mut fields,
                );
                fields
            }
            _ => Vec::new(),
        };
        let Some(shown) = after.or(before) else {
            continue;
        };
        let before_object = before.and_then(Tracked::object);
        let after_object = after.and_then(Tracked::object);
        let risk = change::risk(
            &context,
            before_object.as_ref(),
            after_object.as_ref(),
            &present,
            config,
            now,
        );
        let drift = ObjectDrift {
            api_version: shown.api_version.clone(),
            kind: shown.kind.as_str().to_owned(),
            namespace: shown.namespace.clone(),
            name: shown.name.clone(),
            fields,
            risk,
        };
        match (before, after) {
            (Some(_), Some(_)) => report.changed.push(drift),
            (Some(_), None) => report.removed.push(drift),
            _ => report.added.push(drift),
        }
    }
    report
}

/// Lists the differing leaves between two values at `path`.
fn field_drift(
    baseline: Option<&Value>,
    current: Option<&Value>,
    path: &mut String,
    out: &mut Vec<FieldDrift>,
) {
    let len = path.len();
    match (baseline, current) {
        (Some(Value::Object(b)), Some(Value::Object(c))) => {
            let keys: BTreeSet<&String> = b.keys().chain(c.keys()).collect();
            for key in keys {
                push_segment(path, key);
                field_drift(b.get(key.as_str()), c.get(key.as_str()), path, out);
                path.truncate(len);
            }
        }
        (Some(Value::Array(b)), Some(Value::Array(c))) => {
            for i in 0..b.len().max(c.len()) {
                path.push('/');
                path.push_str(&i.to_string());
                field_drift(b.get(i), c.get(i), path, out);
                path.truncate(len);
            }
        }
        // A map on one side only is listed leaf by leaf.
        (Some(Value::Object(b)), None) if !b.is_empty() => {
            for (key, value) in sorted_entries(b) {
                push_segment(path, key);
                field_drift(Some(value), None, path, out);
                path.truncate(len);
            }
        }
        (None, Some(Value::Object(c))) if !c.is_empty() => {
            for (key, value) in sorted_entries(c) {
                push_segment(path, key);
                field_drift(None, Some(value), path, out);
                path.truncate(len);
            }
        }
        (Some(b), Some(c)) if b == c => {}
        (None, None) => {}
        (b, c) => out.push(FieldDrift {
            change: match (b, c) {
                (None, _) => FieldChange::Added,
                (_, None) => FieldChange::Removed,
                _ => FieldChange::Changed,
            },
            path: path.clone(),
            baseline: b.cloned(),
            current: c.cloned(),
        }),
    }
}

fn sorted_entries(map: &serde_json::Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries
}

fn push_segment(path: &mut String, key: &str) {
    path.push('/');
    path.push_str(&escape_segment(key));
}

/// A baseline to save: one file per tracked object, as `(relative path, YAML)` sorted by path.
///
/// The path is `<namespace or _cluster>/<kind in lowercase>-<name>.yaml`, with every character
/// outside `[a-z0-9.-]` replaced by `_` (RBAC names such as `system:controller:x` have colons);
/// should two objects still map to one path, the later gets a `_2`, `_3`, … suffix. Each file
/// starts with a comment line `# tollgate baseline: <Kind> <namespace>/<name>` (`<Kind> <name>`
/// for cluster-scoped objects) followed by the normalized object. Secrets are written without
/// their values, like everything Tollgate stores.
#[must_use]
pub fn baseline_files(objects: &[Value]) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = Vec::new();
    let mut used: BTreeSet<String> = BTreeSet::new();
    for tracked in objects.iter().filter_map(Tracked::from_value) {
        let dir = tracked
            .namespace
            .as_deref()
            .map_or_else(|| "_cluster".to_owned(), sanitize);
        let stem = format!(
            "{dir}/{}-{}",
            tracked.kind.as_str().to_ascii_lowercase(),
            sanitize(&tracked.name)
        );
        let mut path = format!("{stem}.yaml");
        let mut n = 1;
        while used.contains(&path) {
            n += 1;
            path = format!("{stem}_{n}.yaml");
        }
        used.insert(path.clone());
        let shown = match &tracked.namespace {
            Some(ns) => format!("{} {ns}/{}", tracked.kind, tracked.name),
            None => format!("{} {}", tracked.kind, tracked.name),
        };
        // A line break in a (hostile) name would end the comment and inject YAML.
        let shown: String = shown
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect();
        let text = format!(
            "# tollgate baseline: {shown}\n{}",
            change::to_yaml(&tracked.normalized)
        );
        files.push((path, text));
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    files
}

/// A name as a file name: `[a-z0-9.-]` kept, anything else `_`; never empty, `.` or `..`.
fn sanitize(name: &str) -> String {
    let out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() {
        "_".to_owned()
    } else if out.bytes().all(|b| b == b'.') {
        out.replace('.', "_")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{DocumentText, parse_document, split_documents};
    use serde_json::json;

    fn at() -> Timestamp {
        "2026-06-01T00:00:00Z".parse().unwrap()
    }

    fn ingress() -> Value {
        json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": "shop", "namespace": "shop", "resourceVersion": "7"},
            "spec": {
                "ingressClassName": "nginx",
                "tls": [{"hosts": ["shop.example.com"], "secretName": "shop-tls"}],
                "rules": [{"host": "shop.example.com", "http": {"paths": [
                    {"path": "/", "pathType": "Prefix",
                     "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]
            },
            "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}]}}
        })
    }

    fn cluster() -> Vec<Value> {
        vec![
            ingress(),
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
                   "metadata": {"name": "nginx"}, "spec": {"controller": "k8s.io/ingress-nginx"}}),
            json!({"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": "web", "namespace": "shop"},
                   "spec": {"ports": [{"port": 80}]}}),
            json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                   "metadata": {"name": "shop-tls", "namespace": "shop"},
                   "data": {"tls.crt": "c2VjcmV0LWNydA==", "tls.key": "c2VjcmV0LWtleQ=="}}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": "web", "namespace": "shop"}}),
        ]
    }

    /// The baseline as `baseline_files` writes it, read back.
    fn saved_baseline() -> Vec<Value> {
        baseline_files(&cluster())
            .iter()
            .map(|(_, text)| {
                let doc = split_documents(text).remove(0);
                parse_document(DocumentText { ..doc }).unwrap().unwrap()
            })
            .collect()
    }

    #[test]
    fn identical_objects_do_not_drift() {
        let report = drift(&cluster(), &cluster(), &Config::default(), at());
        assert!(report.is_empty(), "{report:?}");
        // A saved (normalized) baseline against the raw cluster: the Secret's missing values
        // and the server's fields are no drift.
        let report = drift(&saved_baseline(), &cluster(), &Config::default(), at());
        assert!(report.is_empty(), "{report:?}");
    }

    #[test]
    fn a_hand_added_snippet_is_one_added_field_with_its_risk() {
        let mut current = cluster();
        current[0]["metadata"]["annotations"] =
            json!({"nginx.ingress.kubernetes.io/configuration-snippet": "return 200;"});
        current[0]["metadata"]["resourceVersion"] = json!("8");
        let report = drift(&saved_baseline(), &current, &Config::default(), at());
        assert!(
            report.added.is_empty() && report.removed.is_empty(),
            "{report:?}"
        );
        assert_eq!(report.changed.len(), 1, "{report:?}");
        let changed = &report.changed[0];
        assert_eq!(
            (
                changed.kind.as_str(),
                changed.namespace.as_deref(),
                changed.name.as_str()
            ),
            ("Ingress", Some("shop"), "shop")
        );
        assert_eq!(
            changed.fields,
            [FieldDrift {
                change: FieldChange::Added,
                path: "/metadata/annotations/nginx.ingress.kubernetes.io~1configuration-snippet"
                    .into(),
                baseline: None,
                current: Some(json!("return 200;")),
            }]
        );
        assert_eq!(changed.risk.introduced, ["snippet-annotation"]);
        assert!(changed.risk.fixed.is_empty());
        assert_eq!(
            serde_json::to_value(&changed.fields[0]).unwrap(),
            json!({"change": "added",
                   "path": "/metadata/annotations/nginx.ingress.kubernetes.io~1configuration-snippet",
                   "current": "return 200;"})
        );
    }

    #[test]
    fn changed_and_removed_leaves_are_listed_with_both_values() {
        let mut current = cluster();
        current[0]["spec"]["rules"][0]["host"] = json!("*.example.com");
        current[0]["spec"].as_object_mut().unwrap().remove("tls");
        let report = drift(&cluster(), &current, &Config::default(), at());
        let changed = &report.changed[0];
        assert_eq!(
            changed.fields,
            [
                FieldDrift {
                    change: FieldChange::Changed,
                    path: "/spec/rules/0/host".into(),
                    baseline: Some(json!("shop.example.com")),
                    current: Some(json!("*.example.com")),
                },
                FieldDrift {
                    change: FieldChange::Removed,
                    path: "/spec/tls".into(),
                    baseline: Some(
                        json!([{"hosts": ["shop.example.com"], "secretName": "shop-tls"}])
                    ),
                    current: None,
                },
            ]
        );
        assert!(
            changed
                .risk
                .introduced
                .contains(&"wildcard-host".to_owned()),
            "{:?}",
            changed.risk
        );
        assert!(
            changed.risk.introduced.contains(&"tls-missing".to_owned()),
            "{:?}",
            changed.risk
        );
    }

    #[test]
    fn added_and_removed_objects_are_reported_in_order() {
        let mut current = cluster();
        current.remove(2); // the Service
        current.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "system:edit-ingress"},
            "rules": [{"apiGroups": ["networking.k8s.io"], "resources": ["ingresses"], "verbs": ["*"]}]}));
        current.push(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a"}, "data": {"k": "v"}}));
        let report = drift(&cluster(), &current, &Config::default(), at());
        assert!(report.changed.is_empty(), "{report:?}");
        let added: Vec<(&str, Option<&str>, &str)> = report
            .added
            .iter()
            .map(|d| (d.kind.as_str(), d.namespace.as_deref(), d.name.as_str()))
            .collect();
        assert_eq!(
            added,
            [
                ("ConfigMap", Some("default"), "a"),
                ("ClusterRole", None, "system:edit-ingress")
            ]
        );
        assert_eq!(report.removed.len(), 1);
        let removed = &report.removed[0];
        assert_eq!(
            (removed.kind.as_str(), removed.name.as_str()),
            ("Service", "web")
        );
        assert!(removed.fields.is_empty());
        assert_eq!(removed.risk.introduced, ["backend-service-missing"]);
    }

    #[test]
    fn secret_values_never_appear_in_a_report() {
        let mut current = cluster();
        current[3]["data"]["password"] = json!("aHVudGVyMg==");
        current[3]["stringData"] = json!({"token": "plain-token"});
        let report = drift(&cluster(), &current, &Config::default(), at());
        assert_eq!(report.changed.len(), 1, "{report:?}");
        assert_eq!(
            report.changed[0].fields,
            [
                FieldDrift {
                    change: FieldChange::Changed,
                    path: "/dataKeys/0".into(),
                    baseline: Some(json!("tls.crt")),
                    current: Some(json!("password")),
                },
                FieldDrift {
                    change: FieldChange::Changed,
                    path: "/dataKeys/1".into(),
                    baseline: Some(json!("tls.key")),
                    current: Some(json!("tls.crt")),
                },
                FieldDrift {
                    change: FieldChange::Added,
                    path: "/dataKeys/2".into(),
                    baseline: None,
                    current: Some(json!("tls.key")),
                },
                FieldDrift {
                    change: FieldChange::Added,
                    path: "/dataKeys/3".into(),
                    baseline: None,
                    current: Some(json!("token")),
                },
            ]
        );
        let text = serde_json::to_string(&report).unwrap();
        for secret in ["aHVudGVyMg", "plain-token", "c2VjcmV0"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        for (_, file) in baseline_files(&current) {
            for secret in ["aHVudGVyMg", "plain-token", "c2VjcmV0"] {
                assert!(!file.contains(secret), "{secret} leaked: {file}");
            }
        }
    }

    #[test]
    fn baseline_files_are_one_normalized_object_per_file() {
        let mut objects = cluster();
        objects.push(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "system:Edit"}}),
        );
        objects.push(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": ".."}}));
        let files = baseline_files(&objects);
        let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "_cluster/clusterrole-system__dit.yaml",
                "_cluster/ingressclass-nginx.yaml",
                "default/configmap-__.yaml",
                "shop/ingress-shop.yaml",
                "shop/secret-shop-tls.yaml",
                "shop/service-web.yaml",
            ]
        );
        let (_, service) = &files[5];
        assert_eq!(
            service,
            "# tollgate baseline: Service shop/web\napiVersion: v1\nkind: Service\nmetadata:\n  \
             name: web\n  namespace: shop\nspec:\n  ports:\n  - port: 80\n"
        );
        let (_, secret) = &files[4];
        assert!(
            secret.contains("dataKeys:\n- tls.crt\n- tls.key\n"),
            "{secret}"
        );
        assert!(
            files[1]
                .1
                .starts_with("# tollgate baseline: IngressClass nginx\n")
        );
        let (_, ingress) = &files[3];
        assert!(!ingress.contains("status") && !ingress.contains("resourceVersion"));
    }

    #[test]
    fn colliding_file_names_get_a_suffix() {
        let objects = [
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                   "metadata": {"name": "a:b"}}),
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                   "metadata": {"name": "a@b"}}),
        ];
        let paths: Vec<String> = baseline_files(&objects)
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        assert_eq!(
            paths,
            [
                "_cluster/clusterrole-a_b.yaml",
                "_cluster/clusterrole-a_b_2.yaml"
            ]
        );
    }
}
