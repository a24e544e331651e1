//! The CloudFront Functions in `infra/template.yaml`, run in Node (the language CloudFront
//! Functions are written in) against the events CloudFront would give them, and the
//! distribution's wiring of them.

use serde_norway::Value;

fn template() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/template.yaml");
    serde_norway::from_str(&std::fs::read_to_string(path).expect("template")).expect("yaml")
}

/// Runs a CloudFront Function's code on `event` (JSON) and returns what it returned.
fn run_function(code: &str, event: serde_json::Value) -> serde_json::Value {
    let script = format!("{code}\nprocess.stdout.write(JSON.stringify(handler({event})));");
    let out = std::process::Command::new("node")
        .arg("-e")
        .arg(script)
        .output()
        .expect("node (scripts/test.sh installs it with npm)");
    assert!(out.status.success(), "node: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("json from the function")
}

fn function_code(doc: &Value, name: &str) -> String {
    doc["Resources"][name]["Properties"]["FunctionCode"].as_str().expect("FunctionCode").to_owned()
}

fn request(uri: &str, headers: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "version": "1.0",
        "viewer": { "ip": "198.51.100.7" },
        "request": { "method": "POST", "uri": uri, "querystring": {}, "headers": headers, "cookies": {} }
    })
}

/// Finding 2 of the security review: the address the service throttles on is the one CloudFront
/// saw, whatever the client wrote in the header the service reads.
#[test]
fn the_viewer_address_header_is_cloudfronts_not_the_clients() {
    let doc = template();
    let code = function_code(&doc, "ViewerAddressFunction");
    let forged = serde_json::json!({
        "x-helpdesk-viewer-ip": { "value": "203.0.113.66" },
        "x-forwarded-for": { "value": "203.0.113.66" },
        "content-type": { "value": "application/x-www-form-urlencoded" }
    });
    let out = run_function(&code, request("/login", forged));
    assert_eq!(out["headers"]["x-helpdesk-viewer-ip"]["value"], "198.51.100.7");
    // Nothing else is touched (the URI, the other headers).
    assert_eq!(out["uri"], "/login");
    assert_eq!(out["headers"]["content-type"]["value"], "application/x-www-form-urlencoded");
    let plain = run_function(&code, request("/portal", serde_json::json!({})));
    assert_eq!(plain["headers"]["x-helpdesk-viewer-ip"]["value"], "198.51.100.7");
    assert_eq!(helpdesk::web::extract::VIEWER_IP_HEADER, "x-helpdesk-viewer-ip");
}

/// Every path that reaches the service runs the function (a path without it would fall back to
/// a coarser address), and the static site's paths do not.
#[test]
fn every_service_path_runs_the_viewer_address_function() {
    let doc = template();
    let config = &doc["Resources"]["Distribution"]["Properties"]["DistributionConfig"];
    let behaviors = config["CacheBehaviors"].as_sequence().expect("CacheBehaviors");
    let associated = |b: &Value, resource: &str| {
        b["FunctionAssociations"].as_sequence().into_iter().flatten().any(|a| {
            a["EventType"].as_str() == Some("viewer-request") && format!("{:?}", a["FunctionARN"]).contains(resource)
        })
    };
    let mut service_paths = 0;
    for b in behaviors {
        let path = b["PathPattern"].as_str().unwrap_or_default();
        if b["TargetOriginId"].as_str() == Some("service") {
            service_paths += 1;
            assert!(associated(b, "ViewerAddressFunction"), "{path}: no viewer address");
        }
    }
    assert!(service_paths >= 10, "{service_paths} service paths");
    assert!(!associated(&config["DefaultCacheBehavior"], "ViewerAddressFunction"));
    assert!(associated(&config["DefaultCacheBehavior"], "DirectoryIndexFunction"));
}

/// The static site's directory addresses: `/nl/` serves its index, `/nl` is sent to `/nl/`,
/// files are left alone.
#[test]
fn directory_addresses_get_their_index() {
    let code = function_code(&template(), "DirectoryIndexFunction");
    let out = run_function(&code, request("/nl/tickets/", serde_json::json!({})));
    assert_eq!(out["uri"], "/nl/tickets/index.html");
    let out = run_function(&code, request("/nl/tickets", serde_json::json!({})));
    assert_eq!(out["statusCode"], 301);
    assert_eq!(out["headers"]["location"]["value"], "/nl/tickets/");
    let out = run_function(&code, request("/static/css/site.css", serde_json::json!({})));
    assert_eq!(out["uri"], "/static/css/site.css");
}
