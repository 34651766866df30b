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
            "put" => s.http.put(url),
            "patch" => s.http.patch(url),
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

/// Reads from `stream` until the server closes it; how the server answered, if it did.
async fn read_until_closed(stream: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&seen).to_string()
}

/// Half-sent requests and idle connections are closed by the header-read timeout, and a
/// request whose body never arrives gets a 503 problem within the request timeout (issue
/// 13: five half-sent requests used to stay open for minutes).
#[tokio::test]
async fn slow_and_silent_clients_are_cut_off() {
    use std::time::Duration;
    use tokio::io::AsyncWriteExt;
    let s = super::start_with(|c| {
        c.limits.header_read = Duration::from_secs(1);
        c.limits.request = Duration::from_secs(1);
    })
    .await;
    let addr = s.handle.addr();
    // Five clients that stop in the middle of their headers.
    let mut half = Vec::new();
    for _ in 0..5 {
        let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
        c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        half.push(c);
    }
    // An idle keep-alive connection after one full request.
    let mut idle = tokio::net::TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    // A request whose announced body never comes.
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(
        b"POST /v1/checkin HTTP/1.1\r\nHost: x\r\nContent-Type: application/jose\r\nContent-Length: 100\r\n\r\nabc",
    )
    .await
    .unwrap();
    let bound = Duration::from_secs(10);
    for mut c in half {
        let answer = tokio::time::timeout(bound, read_until_closed(&mut c))
            .await
            .expect("a half-sent request is closed");
        assert!(!answer.contains("200 OK"), "{answer}");
    }
    let answer = tokio::time::timeout(bound, read_until_closed(&mut idle))
        .await
        .expect("an idle connection is closed");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let answer = tokio::time::timeout(bound, read_until_closed(&mut slow))
        .await
        .expect("a request without its body is answered");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("urn:finlock:problem:timeout"), "{answer}");
    // The server still serves everyone else.
    let r = s
        .http
        .get(format!("{}/healthz", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

/// Shutdown finishes within its grace even with a client that never completes its
/// request (SIGTERM used to wait forever for such a client).
#[tokio::test]
async fn shutdown_does_not_wait_forever_for_a_stuck_client() {
    use std::time::Duration;
    use tokio::io::AsyncWriteExt;
    let s = super::start_with(|c| {
        c.limits.header_read = Duration::from_secs(600);
        c.limits.request = Duration::from_secs(600);
        c.limits.shutdown_grace = Duration::from_secs(1);
    })
    .await;
    let mut stuck = tokio::net::TcpStream::connect(s.handle.addr())
        .await
        .unwrap();
    stuck
        .write_all(b"POST /v1/checkin HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    tokio::time::timeout(Duration::from_secs(10), s.handle.shutdown())
        .await
        .expect("shutdown returns within its grace")
        .expect("shutdown succeeds");
}

/// `/readyz` says whether the database takes writes; `/healthz` only that the process
/// and the database answer (issue 13: `/healthz` said ok on a read-only database).
#[tokio::test]
async fn readiness_needs_a_writable_database() {
    let s = super::start().await;
    let r = s
        .http
        .get(format!("{}/readyz", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    if s.handle.db().backend != finlock_server::db::Backend::Sqlite {
        return; // A read-only PostgreSQL needs a server setting; SQLite shows the rule.
    }
    sqlx::query("PRAGMA query_only = ON")
        .execute(&s.handle.db().write)
        .await
        .unwrap();
    let r = s
        .http
        .get(format!("{}/readyz", s.url))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::SERVICE_UNAVAILABLE, "not-ready").await;
    let r = s
        .http
        .get(format!("{}/healthz", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}
