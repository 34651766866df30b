//! The check-in client over real TLS on loopback: the server certificate must chain to
//! a trusted root, and with SPKI pins configured it must also carry a pinned key.
//! A throw-away CA and leaf (rcgen, ring) stand in for the lender's PKI.

use std::sync::Arc;
use std::time::Duration;

use finlock_core::Error;
use finlock_core::checkin::{Client, ClientConfig, spki_sha256};
use finlock_core::protocol::UrlPolicy;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

struct Pki {
    ca_der: Vec<u8>,
    leaf_der: Vec<u8>,
    leaf_key: Vec<u8>,
}

fn pki() -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf_params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
    Pki {
        ca_der: ca_cert.der().to_vec(),
        leaf_der: leaf.der().to_vec(),
        leaf_key: leaf_key.serialize_der(),
    }
}

/// An HTTPS server on 127.0.0.1 that answers every request with a 503 problem (enough
/// to tell "TLS succeeded" from "TLS refused" without a lender behind it).
async fn tls_server(p: &Pki) -> u16 {
    finlock_core::checkin::install_crypto_provider();
    let config = tokio_rustls::rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(p.leaf_der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(p.leaf_key.clone())),
        )
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = [0u8; 4096];
                let _ = tokio::time::timeout(Duration::from_secs(2), tls.read(&mut buf)).await;
                let body = b"{\"status\":503}";
                let head = format!(
                    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = tls.write_all(head.as_bytes()).await;
                let _ = tls.write_all(body).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    port
}

fn client(port: u16, config: ClientConfig) -> Client {
    let config = ClientConfig {
        deadline: Some(Duration::from_secs(5)),
        ..config
    };
    Client::new(
        &format!("https://localhost:{port}"),
        UrlPolicy::STRICT,
        &config,
    )
    .unwrap()
}

async fn outcome(c: &Client) -> Error {
    c.post_jws("/v1/checkin", "x.y.z".into()).await.unwrap_err()
}

#[tokio::test]
async fn a_certificate_from_a_trusted_root_is_accepted() {
    let p = pki();
    let port = tls_server(&p).await;
    let c = client(
        port,
        ClientConfig {
            extra_roots: vec![p.ca_der.clone()],
            ..Default::default()
        },
    );
    // TLS went through: the server's 503 is what comes back.
    assert!(matches!(
        outcome(&c).await,
        Error::ServerStatus { status: 503, .. }
    ));
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused() {
    let p = pki();
    let port = tls_server(&p).await;
    let c = client(port, ClientConfig::default());
    assert!(matches!(outcome(&c).await, Error::ServerUnreachable { .. }));
}

#[tokio::test]
async fn a_pinned_key_is_accepted_and_any_other_refused() {
    let p = pki();
    let port = tls_server(&p).await;
    let pin = spki_sha256(&p.leaf_der).unwrap();
    let pinned = client(
        port,
        ClientConfig {
            extra_roots: vec![p.ca_der.clone()],
            spki_sha256_pins: vec![pin],
            ..Default::default()
        },
    );
    assert!(matches!(
        outcome(&pinned).await,
        Error::ServerStatus { status: 503, .. }
    ));
    // The same valid chain, but the pin names another key: refused before any request.
    let other = client(
        port,
        ClientConfig {
            extra_roots: vec![p.ca_der.clone()],
            spki_sha256_pins: vec![[7u8; 32]],
            ..Default::default()
        },
    );
    assert!(matches!(
        outcome(&other).await,
        Error::ServerUnreachable { .. }
    ));
}

#[test]
fn spki_hash_is_of_the_key_not_the_certificate() {
    let p = pki();
    let a = spki_sha256(&p.leaf_der).unwrap();
    let b = spki_sha256(&p.ca_der).unwrap();
    assert_ne!(a, b);
    assert_eq!(spki_sha256(&p.leaf_der), Some(a));
    assert_eq!(spki_sha256(b"not a certificate"), None);
}
