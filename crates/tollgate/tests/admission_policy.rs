//! `tollgate generate admission-policy`: the output is valid Kubernetes (it deserializes into the
//! typed ValidatingAdmissionPolicy and binding), and every CEL expression, evaluated by a CEL
//! interpreter on its rule's fixtures, agrees with the webhook's verdict on each Ingress there.

use std::path::Path;
use std::process::Command;

use k8s_openapi::api::admissionregistration::v1::{
    ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding,
};
use serde_json::Value;
use tollgate_core::admission::{ActionPolicy, evaluate};
use tollgate_core::config::Config;
use tollgate_core::inventory::Scope;
use tollgate_core::object::Object;

fn generated() -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["generate", "admission-policy"])
        .env_remove("TOLLGATE_CONFIG")
        .current_dir(std::env::temp_dir())
        .output()
        .expect("tollgate generate admission-policy");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    documents(&String::from_utf8(out.stdout).expect("UTF-8"))
}

fn documents(text: &str) -> Vec<Value> {
    text.split("\n---\n")
        .filter_map(|doc| serde_saphyr::from_str::<Option<Value>>(doc).expect("YAML"))
        .collect()
}

/// Does `expression` pass for this object in this namespace?
fn cel(expression: &str, object: &Value, namespace: &str) -> bool {
    let program = cel_interpreter::Program::compile(expression)
        .unwrap_or_else(|e| panic!("{expression}: {e:?}"));
    let mut context = cel_interpreter::Context::default();
    context
        .add_variable("object", object.clone())
        .expect("object");
    context
        .add_variable(
            "request",
            serde_json::json!({"namespace": namespace, "operation": "CREATE"}),
        )
        .expect("request");
    match program.execute(&context) {
        Ok(cel_interpreter::Value::Bool(passes)) => passes,
        other => panic!("{expression} on {object}: {other:?}"),
    }
}

#[test]
fn the_policies_are_kubernetes_objects_and_their_cel_agrees_with_the_webhook() {
    let docs = generated();
    let mut validations = Vec::new();
    for doc in &docs {
        match doc["kind"].as_str() {
            Some("ValidatingAdmissionPolicy") => {
                let policy: ValidatingAdmissionPolicy =
                    serde_json::from_value(doc.clone()).expect("a ValidatingAdmissionPolicy");
                for v in policy.spec.and_then(|s| s.validations).unwrap_or_default() {
                    validations.push((v.expression, v.message.unwrap_or_default()));
                }
            }
            Some("ValidatingAdmissionPolicyBinding") => {
                let binding: ValidatingAdmissionPolicyBinding =
                    serde_json::from_value(doc.clone()).expect("a binding");
                let spec = binding.spec.expect("spec");
                assert!(spec.policy_name.is_some_and(|p| p.starts_with("tollgate-")));
                assert!(!spec.validation_actions.unwrap_or_default().is_empty());
            }
            other => panic!("unexpected document {other:?}"),
        }
    }
    assert_eq!(
        validations.len(),
        tollgate_core::admission_policy::CEL_RULES.len()
    );

    let fixtures =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tollgate-core/tests/fixtures/rules");
    for (expression, message) in validations {
        let rule = message
            .split_whitespace()
            .nth(1)
            .expect("the rule name")
            .to_owned();
        let text = std::fs::read_to_string(fixtures.join(format!("{rule}.yaml"))).expect("fixture");
        let mut values = documents(&text);
        // The API server fills the namespace of a namespaced object it admits.
        for value in &mut values {
            if value["metadata"]["namespace"].is_null() && value["kind"] != "IngressClass" {
                value["metadata"]["namespace"] = Value::String("default".into());
            }
        }
        let objects: Vec<Object> = values
            .iter()
            .filter_map(|v| Object::from_value(v.clone(), None).ok().flatten())
            .collect();
        let scope = Scope {
            present: objects.iter().map(|o| o.kind).collect(),
            ..Scope::default()
        };
        let (mut violating, mut passing) = (0, 0);
        // The policies match networking.k8s.io/v1; the API server converts older versions to it
        // before CEL sees them, so the legacy shapes of the fixtures are not CEL's input.
        for value in values
            .iter()
            .filter(|v| v["kind"] == "Ingress" && v["apiVersion"] == "networking.k8s.io/v1")
        {
            let incoming = Object::from_value(value.clone(), None)
                .expect("object")
                .expect("Ingress");
            let verdict = evaluate(
                &objects,
                &scope,
                &incoming,
                &Config::default(),
                &ActionPolicy::default(),
                jiff::Timestamp::now(),
            );
            let webhook_violates = verdict.violations.iter().any(|v| v.rule == rule);
            let namespace = value["metadata"]["namespace"].as_str().unwrap_or("default");
            let cel_passes = cel(&expression, value, namespace);
            assert_eq!(
                cel_passes, !webhook_violates,
                "{rule}: CEL and the webhook disagree on {}",
                value["metadata"]
            );
            if webhook_violates {
                violating += 1;
            } else {
                passing += 1;
            }
        }
        assert!(
            violating > 0 && passing > 0,
            "{rule}: the fixture has both cases ({violating}, {passing})"
        );
    }
}

#[test]
fn the_annotation_waives_a_rule_in_cel_as_in_the_engine() {
    let docs = generated();
    let expression = docs
        .iter()
        .flat_map(|d| {
            d["spec"]["validations"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .find(|v| {
            v["message"]
                .as_str()
                .is_some_and(|m| m.contains("wildcard-host"))
        })
        .and_then(|v| v["expression"].as_str().map(str::to_owned))
        .expect("the wildcard-host validation");
    let mut object = serde_json::json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "w", "namespace": "shop"},
        "spec": {"rules": [{"host": "*.example.com"}]}
    });
    assert!(!cel(&expression, &object, "shop"));
    for selector in [
        "wildcard-host",
        "tg101",
        "exposure",
        "all",
        "tls-missing, wildcard-host",
    ] {
        object["metadata"]["annotations"] = serde_json::json!({"tollgate.io/ignore": selector});
        assert!(cel(&expression, &object, "shop"), "{selector}");
    }
    object["metadata"]["annotations"] = serde_json::json!({"tollgate.io/ignore": "wildcard-hosts"});
    assert!(
        !cel(&expression, &object, "shop"),
        "a near miss does not waive"
    );
}
