//! /healthz, /metrics, /openapi.json, and problem+json for unknown routes.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::start;
use crate::common::{SimDevice, problem};

#[tokio::test]
async fn healthz_metrics_and_unknown_routes() {
    let s = start().await;
    let r = s
        .http
        .get(format!("{}/healthz", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "ok");

    let lender = s.lender("Acme").await;
    let (_, code) = s.register(&lender, json!({})).await;
    let mut phone = SimDevice::new(&s, &lender);
    phone.enroll(&s, &code).await;
    phone.checkin(&s).await;
    let _ = s.post_jose("/v1/checkin", "garbage").await;

    let r = s
        .http
        .get(format!("{}/metrics", s.url))
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = r.text().await.unwrap();
    assert!(
        text.contains("finlock_checkins_total{result=\"ok\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("finlock_checkins_total{result=\"malformed\"} 1"),
        "{text}"
    );
    assert!(text.contains("finlock_http_requests_total{route=\"/v1/checkin\",status=\"200\"} 1"));
    assert!(text.contains("finlock_http_request_duration_seconds_count{route=\"/v1/checkin\"} 2"));
    assert!(text.contains("finlock_http_errors_total{route=\"/v1/checkin\"} 1"));

    let r = s.http.get(format!("{}/nope", s.url)).send().await.unwrap();
    problem(r, StatusCode::NOT_FOUND, "not-found").await;
    let r = s
        .http
        .delete(format!("{}/v1/checkin", s.url))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed").await;
}

#[tokio::test]
async fn every_route_is_in_the_openapi_document() {
    let s = start().await;
    let r = s
        .http
        .get(format!("{}/openapi.json", s.url))
        .send()
        .await
        .unwrap();
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(|m| (m.clone(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let served: BTreeSet<(String, String)> = finlock_server::http::route_list()
        .into_iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(documented, served);
    // And every served route answers something other than "no such route".
    for (method, path) in &served {
        let url = format!("{}{}", s.url, path.replace("{id}", "dev-x"));
        let r = match method.as_str() {
            "get" => s.http.get(url),
            _ => s.http.post(url),
        }
        .send()
        .await
        .unwrap();
        let ok = r.status() != StatusCode::NOT_FOUND
            && r.status() != StatusCode::METHOD_NOT_ALLOWED
            || path.contains("{id}");
        assert!(ok, "{method} {path}: {}", r.status());
    }
}

/// Every `$ref` in the generated document names a schema it defines, and the lender
/// routes say they need the API key.
#[tokio::test]
async fn the_openapi_document_is_self_contained() {
    let doc = serde_json::to_value(finlock_server::http::openapi::document()).unwrap();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(refs.len() > 20, "{refs:?}");
    for r in &refs {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected ref {r}"));
        assert!(schemas.contains_key(name), "{r} is not defined");
    }
    for name in [
        "Problem",
        "Device",
        "DeviceList",
        "Payment",
        "PaymentRequest",
        "Registration",
    ] {
        assert!(schemas.contains_key(name), "{name} missing");
    }
    let create = &doc["paths"]["/v1/lender/devices"]["post"];
    assert_eq!(create["security"], json!([{ "apiKey": [] }]));
    assert!(create["responses"]["422"].is_object());
    assert_eq!(
        doc["components"]["securitySchemes"]["apiKey"]["scheme"],
        "bearer"
    );
    let checkin = &doc["paths"]["/v1/checkin"]["post"];
    assert!(checkin["requestBody"]["content"]["application/jose"].is_object());
    assert!(checkin["responses"]["429"].is_object());
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("$ref", Value::String(s)) => out.push(s.clone()),
                    _ => collect_refs(v, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}
