//! Any bytes as a Kubernetes audit log (JSON lines, an EventList, GKE or AKS exports): events and
//! errors, never a panic, and every helper callable on every event read.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let (events, _errors) = tollgate_core::audit::read_events(text, "fuzz.log");
        for event in &events {
            let _ = event.is_mutating();
            let _ = event.denied();
            let _ = event.field_manager();
            let _ = event.impersonated_by();
            let _ = event.response_resource_version();
            let _ = event.stage_time_ms();
            let _ = event.to_json_without_secrets();
        }
    }
});
