//! The OpenAPI document: every operation's answers are typed, the error
//! answers are documented, and the operational routes are in it. The
//! document is made from the same list as the router (`shopshield_server::api`),
//! so a route cannot exist without its operation.

use serde_json::Value;

fn doc() -> Value {
    serde_json::to_value(shopshield_server::document()).unwrap()
}

/// Follows a `$ref` into `components.schemas`.
fn resolve<'a>(doc: &'a Value, s: &'a Value) -> &'a Value {
    match s.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.trim_start_matches("#/components/schemas/");
            doc["components"]["schemas"]
                .get(name)
                .unwrap_or_else(|| panic!("{r} is not in components.schemas"))
        }
        None => s,
    }
}

/// A schema says nothing about its value: `{}`, or an object without
/// properties, composition or item type.
fn untyped(doc: &Value, s: &Value) -> bool {
    let s = resolve(doc, s);
    let Some(o) = s.as_object() else {
        return true;
    };
    let has = |k: &str| o.contains_key(k);
    if has("allOf") || has("oneOf") || has("anyOf") || has("enum") || has("const") {
        return false;
    }
    match o.get("type") {
        None => true,
        Some(t) if t == "object" || t == &serde_json::json!(["object", "null"]) => {
            !(has("properties") || has("additionalProperties"))
        }
        Some(t) if t == "array" || t == &serde_json::json!(["array", "null"]) => {
            o.get("items").is_none_or(|i| untyped(doc, i))
        }
        Some(_) => false,
    }
}

fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if ["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                out.push((path.clone(), method.clone(), op.clone()));
            }
        }
    }
    out
}

#[test]
fn every_answer_of_every_operation_is_typed() {
    let doc = doc();
    let ops = operations(&doc);
    assert!(ops.len() >= 42, "{} operations", ops.len());
    let mut bad = Vec::new();
    for (path, method, op) in &ops {
        for (status, r) in op["responses"].as_object().unwrap() {
            let content = r["content"].as_object();
            match content {
                None if status == "204" => {}
                None => bad.push(format!("{method} {path} {status}: no content")),
                Some(c) => {
                    for (mime, media) in c {
                        if untyped(&doc, &media["schema"]) {
                            bad.push(format!("{method} {path} {status} {mime}: untyped"));
                        }
                    }
                }
            }
        }
        if let Some(body) = op.get("requestBody") {
            for (mime, media) in body["content"].as_object().unwrap() {
                if untyped(&doc, &media["schema"]) {
                    bad.push(format!("{method} {path} request {mime}: untyped"));
                }
            }
        }
    }
    assert!(bad.is_empty(), "untyped:\n{}", bad.join("\n"));
}

#[test]
fn error_answers_are_documented() {
    let doc = doc();
    for (path, method, op) in operations(&doc) {
        let r = op["responses"].as_object().unwrap();
        let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
        if secured {
            for code in ["401", "403"] {
                assert!(r.contains_key(code), "{method} {path}: no {code}");
            }
        }
        if path.contains('{') {
            assert!(r.contains_key("404"), "{method} {path}: no 404");
        }
        if op.get("requestBody").is_some() {
            assert!(r.contains_key("422"), "{method} {path}: no 422");
        }
        for (code, a) in r {
            if code.starts_with('4') {
                let s = &a["content"]["application/json"]["schema"];
                assert_eq!(
                    s["$ref"], "#/components/schemas/ErrorBody",
                    "{method} {path} {code}"
                );
            }
        }
    }
}

#[test]
fn operational_routes_and_new_routes_are_in_the_document() {
    let doc = doc();
    for (path, method) in [
        ("/healthz", "get"),
        ("/metrics", "get"),
        ("/openapi.json", "get"),
        ("/v1/appeals", "get"),
        ("/v1/reports/transparency", "get"),
        ("/v1/listings", "post"),
        ("/v1/notices", "post"),
        ("/v1/notices", "get"),
        ("/v1/notices/{id}", "get"),
        ("/v1/notices/queue", "get"),
        ("/v1/notices/{id}/items/{item_id}/decision", "post"),
        ("/v1/notices/{id}/items/{item_id}/counter-notice", "post"),
        ("/v1/notices/{id}/items/{item_id}/court-action", "post"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} missing"
        );
    }
    let metrics = &doc["paths"]["/metrics"]["get"]["responses"]["200"]["content"];
    assert!(metrics["text/plain"].is_object(), "{metrics}");
    let report = &doc["paths"]["/v1/reports/transparency"]["get"]["responses"]["200"]["content"];
    for mime in ["application/json", "text/markdown", "text/html"] {
        assert!(report[mime].is_object(), "{mime}: {report}");
    }
}

/// Every `$ref` anywhere in `v`, with where it stands.
fn refs(v: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(o) => {
            if let Some(r) = o.get("$ref").and_then(Value::as_str) {
                out.push((at.to_string(), r.to_string()));
            }
            for (k, x) in o {
                refs(x, &format!("{at}/{k}"), out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                refs(x, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn every_reference_names_a_schema_of_the_document() {
    // A dangling `$ref` (a parameter's enum left out of components) makes
    // clients and schemathesis skip that parameter.
    let doc = doc();
    let mut all = Vec::new();
    refs(&doc, "", &mut all);
    assert!(!all.is_empty());
    let missing: Vec<_> = all
        .iter()
        .filter(|(_, r)| {
            let name = r.trim_start_matches("#/components/schemas/");
            doc["components"]["schemas"].get(name).is_none()
        })
        .collect();
    assert!(missing.is_empty(), "dangling references: {missing:?}");
}
