//! Problem details in plain words (issue 13): every lender endpoint that reads a body,
//! sent each kind of malformed body, answers a problem whose `detail` names the field and
//! the rule, with none of the parser's vocabulary. The endpoints come from the OpenAPI
//! document, so a new endpoint is covered the day it is added.

use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};

use finlock_core::b64;
use finlock_core::jws::typ;
use finlock_core::keys::DeviceKey;

use super::start;
use crate::common::{Lender, SimDevice, TestServer};

/// Words of the implementation that no answer may contain.
const INTERNAL: [&str; 9] = [
    "struct",
    "enum",
    "invalid type",
    "line 1",
    "serde",
    "Rust",
    "expected",
    "u32",
    "Failed to deserialize",
];

/// Asserts a problem+json answer with a clean detail; returns (status, detail).
async fn plain_problem(r: reqwest::Response, what: &str) -> (StatusCode, String) {
    let status = r.status();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert_eq!(ct, "application/problem+json", "{what}: {status}");
    let v: Value = r.json().await.expect("problem json");
    let detail = v["detail"].as_str().expect("detail").to_string();
    for word in INTERNAL {
        assert!(!detail.contains(word), "{what}: {word:?} in {detail:?}");
    }
    assert!(
        v["type"]
            .as_str()
            .unwrap()
            .starts_with("urn:finlock:problem:"),
        "{what}: {v}"
    );
    (status, detail)
}

/// A lender endpoint that reads a JSON body.
struct Endpoint {
    method: Method,
    path: String,
    /// The body's properties: name → schema.
    properties: Map<String, Value>,
    required: Vec<String>,
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap();
            &doc["components"]["schemas"][name]
        }
        None => schema,
    }
}

fn endpoints(doc: &Value) -> Vec<Endpoint> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/v1/lender") {
            continue;
        }
        for (method, op) in item.as_object().unwrap() {
            let Some(schema) = op["requestBody"]["content"]["application/json"].get("schema")
            else {
                continue;
            };
            let schema = resolve(doc, schema);
            out.push(Endpoint {
                method: method.to_uppercase().parse().unwrap(),
                path: path.clone(),
                properties: schema["properties"]
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
                required: schema["required"]
                    .as_array()
                    .map(|r| r.iter().map(|n| n.as_str().unwrap().to_string()).collect())
                    .unwrap_or_default(),
            });
        }
    }
    out
}

/// The JSON types a property schema allows (`"string"`, `["integer", "null"]`, …).
fn types(schema: &Value) -> Vec<String> {
    match &schema["type"] {
        Value::String(t) => vec![t.clone()],
        Value::Array(ts) => ts
            .iter()
            .filter_map(|t| t.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    }
}

/// A value of the wrong JSON type for a simple property, if it is one.
fn wrong_value(schema: &Value) -> Option<Value> {
    let t = types(schema);
    if t.iter().any(|t| t == "string") {
        Some(json!(5))
    } else if t.iter().any(|t| t == "integer" || t == "number") {
        Some(json!("five"))
    } else if t.iter().any(|t| t == "boolean") {
        Some(json!("yes"))
    } else {
        None
    }
}

/// The real ids the paths need: a device, a payment of it, the lender's key.
struct Ids {
    device: String,
    payment: String,
    key: String,
}

async fn ids(s: &TestServer, lender: &Lender) -> Ids {
    let (device, _code) = s.register(lender, json!({})).await;
    let r = s.pay(lender, &device, 500, "p1").await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let payment = r.json::<Value>().await.unwrap()["payment_id"]
        .as_str()
        .unwrap()
        .to_string();
    let keys: Value = s
        .get(lender, "/v1/lender/api-keys")
        .await
        .json()
        .await
        .unwrap();
    let key = keys["keys"][0]["key_id"].as_str().unwrap().to_string();
    Ids {
        device,
        payment,
        key,
    }
}

fn concrete(path: &str, ids: &Ids) -> String {
    let id = if path.starts_with("/v1/lender/api-keys/") {
        &ids.key
    } else {
        &ids.device
    };
    path.replace("{id}", id).replace("{rid}", &ids.payment)
}

async fn send(
    s: &TestServer,
    lender: &Lender,
    e: &Endpoint,
    ids: &Ids,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    s.http
        .request(
            e.method.clone(),
            format!("{}{}", s.url, concrete(&e.path, ids)),
        )
        .bearer_auth(&lender.api_key)
        .header("content-type", "application/json")
        .header("Idempotency-Key", "problems-test")
        .body(body)
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn every_malformed_body_gets_a_plain_problem_naming_the_field() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let ids = ids(&s, &lender).await;
    let doc = serde_json::to_value(finlock_server::http::openapi::document()).unwrap();
    let endpoints = endpoints(&doc);
    // The lender bodies known today are all covered (more may come).
    for known in [
        "/v1/lender/devices",
        "/v1/lender/devices/{id}",
        "/v1/lender/devices/{id}/cancel",
        "/v1/lender/devices/{id}/lock",
        "/v1/lender/devices/{id}/extension",
        "/v1/lender/devices/{id}/offline-code",
        "/v1/lender/devices/{id}/payments",
        "/v1/lender/api-keys",
    ] {
        assert!(endpoints.iter().any(|e| e.path == known), "{known}");
    }
    let mut wrong_types = Vec::new();
    for e in &endpoints {
        let what = format!("{} {}", e.method, e.path);

        // Not JSON, empty, cut short: 400, said plainly.
        for (body, words) in [
            ("{not json", "not valid JSON"),
            ("", "needs a JSON body"),
            ("{", "not complete JSON"),
        ] {
            let (status, detail) =
                plain_problem(send(&s, &lender, e, &ids, body).await, &what).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{what} {body:?}: {detail}");
            assert!(detail.contains(words), "{what} {body:?}: {detail}");
        }

        // Too large: 413.
        let big = format!("{{\"x\": \"{}\"}}", "a".repeat(17 * 1024));
        let (status, _) = plain_problem(send(&s, &lender, e, &ids, big).await, &what).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{what}");

        // An unknown field is named, with the fields there are.
        let (status, detail) = plain_problem(
            send(&s, &lender, e, &ids, r#"{"colour": "red"}"#).await,
            &what,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {detail}");
        assert!(
            detail.starts_with("colour: is not a field of this request"),
            "{what}: {detail}"
        );
        for name in e.properties.keys() {
            assert!(
                detail.contains(name.as_str()),
                "{what}: {name} not in {detail}"
            );
        }

        // A missing required field is named.
        if let Some(first) = e.required.first() {
            let (status, detail) =
                plain_problem(send(&s, &lender, e, &ids, "{}").await, &what).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {detail}");
            assert!(
                e.required
                    .iter()
                    .any(|r| detail == format!("{r}: is required")),
                "{what}: {detail} (first required: {first})"
            );
        }

        // Each simple property of the wrong type is named.
        for (name, schema) in &e.properties {
            let Some(wrong) = wrong_value(resolve(&doc, schema)) else {
                continue;
            };
            wrong_types.push(format!("{what} {name}"));
            let body = json!({ name.as_str(): wrong }).to_string();
            let (status, detail) =
                plain_problem(send(&s, &lender, e, &ids, body.clone()).await, &what).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{what} {body}: {detail}");
            assert!(
                detail.starts_with(&format!("{name}: must be ")),
                "{what} {body}: {detail}"
            );
        }

        // A name outside a listed set is answered with the set (no body has one today;
        // `?state=` below and the unit tests of http::rejection cover the rule).
        for (name, schema) in &e.properties {
            let schema = resolve(&doc, schema);
            if schema["enum"].is_array() {
                let body = json!({ name.as_str(): "no-such-name" }).to_string();
                let (_, detail) =
                    plain_problem(send(&s, &lender, e, &ids, body).await, &what).await;
                assert!(
                    detail.starts_with(&format!("{name}: must be one of ")),
                    "{what}: {detail}"
                );
            }
        }
    }
    // The loop above did reach the fields (18 simple ones when this was written).
    assert!(wrong_types.len() >= 15, "{wrong_types:?}");

    // Trailing data after a good body is refused, not ignored.
    let good = json!({ "plan": crate::common::plan() }).to_string();
    let r = s
        .http
        .post(format!("{}/v1/lender/devices", s.url))
        .bearer_auth(&lender.api_key)
        .body(format!("{good} {{\"plan\": 1}}"))
        .send()
        .await
        .unwrap();
    let (status, detail) = plain_problem(r, "trailing").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(detail.starts_with("the body is not valid JSON"), "{detail}");

    // A nested field is named by its path.
    let r = s
        .post(
            &lender,
            "/v1/lender/devices",
            json!({ "plan": { "currency": "KES", "grace_days": 1,
                    "installments": [{ "due": "tomorrow", "amount_minor": 1 }] } }),
        )
        .await;
    let (_, detail) = plain_problem(r, "nested").await;
    assert_eq!(
        detail,
        "plan.installments[0].due: must be a whole number, not text"
    );
}

#[tokio::test]
async fn query_strings_and_listed_names_are_answered_in_plain_words() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let (id, _) = s.register(&lender, json!({})).await;
    let cases = [
        (
            "/v1/lender/devices?limit=x",
            "query parameter limit: must be a whole number",
        ),
        (
            "/v1/lender/devices?limit=-1",
            "query parameter limit: must be a whole number",
        ),
        (
            "/v1/lender/devices?limit=99999999999",
            "query parameter limit: is too large",
        ),
        (
            "/v1/lender/devices?colour=red",
            "query parameter colour: is not a field of this request; its fields are state, limit, cursor",
        ),
        (
            "/v1/lender/devices?state=nope",
            "state: one of current, overdue, locked",
        ),
        ("/v1/lender/devices?limit=0", "limit: 1 to 500 per page"),
    ];
    for (path, want) in cases {
        let (status, detail) = plain_problem(s.get(&lender, path).await, path).await;
        assert!(status.is_client_error(), "{path}: {status}");
        assert!(detail.starts_with(want), "{path}: {detail}");
    }
    for path in [
        format!("/v1/lender/devices/{id}/audit?after=soon"),
        format!("/v1/lender/devices/{id}/payments?limit=many"),
        format!("/v1/lender/devices/{id}/provisioning?size=9"),
    ] {
        let (status, detail) = plain_problem(s.get(&lender, &path).await, &path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert!(detail.starts_with("query parameter "), "{path}: {detail}");
    }
    // The device API answers in the same words.
    let r = s.post_jose("/v1/checkin", "not-a-jws").await;
    plain_problem(r, "checkin").await;
}

/// A signed device message whose payload does not fit the protocol is described in the
/// same plain words, with the field's path.
#[tokio::test]
async fn a_device_payload_that_does_not_fit_is_described_plainly() {
    let s = start().await;
    let lender = s.lender("Acme").await;
    let (_, code) = s.register(&lender, json!({})).await;
    let mut phone = SimDevice::new(&s, &lender);
    phone.enroll(&s, &code).await;
    s.clock.advance(60);
    let out = phone.checkin_body(&s);
    let part = out.body.split('.').nth(1).unwrap();
    let mut payload: Value = serde_json::from_slice(&b64::decode(part).unwrap()).unwrap();
    payload["seq_seen"] = json!("many");
    let en = phone.state.enrolled().unwrap();
    let key = DeviceKey::from_pkcs8(&en.device_key.bytes().unwrap(), None).unwrap();
    let body = key.sign_as(
        &en.device_id,
        typ::CHECKIN,
        &serde_json::to_vec(&payload).unwrap(),
    );
    let (status, detail) = plain_problem(s.post_jose("/v1/checkin", body).await, "checkin").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        detail
            .starts_with("the payload does not fit the protocol: seq_seen: must be a whole number"),
        "{detail}"
    );
}
