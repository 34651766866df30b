//! Where a webhook may be sent: an https URL on the public internet (SSRF). A lender's
//! URL must not make the server call its own network — a database, a cloud metadata
//! service — so private, loopback and link-local addresses are refused, both when the
//! URL is given (an address literal) and when a name is resolved for each delivery (a
//! name may later point elsewhere); redirects are never followed.
//!
//! Two server settings relax it: `--webhooks-allow-http-loopback` (tests, the demo:
//! http and https to 127.0.0.0/8, ::1 and `localhost`) and
//! `--webhooks-allow-private-addresses` (a lender's receiver inside its own network).
//! Link-local, unspecified, multicast and reserved addresses are refused whatever is set.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::Url;

use crate::error::{Error, Result};

/// The longest URL accepted.
pub const MAX_URL: usize = 2048;

/// Which addresses beyond the public internet a server allows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rules {
    pub allow_http_loopback: bool,
    pub allow_private: bool,
}

/// Why an address is refused, in plain words.
fn refusal(ip: IpAddr, rules: Rules) -> Option<&'static str> {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    match ip {
        IpAddr::V4(v4) => refusal_v4(v4, rules),
        IpAddr::V6(v6) => refusal_v6(v6, rules),
    }
}

fn refusal_v4(ip: Ipv4Addr, rules: Rules) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        return (!(rules.allow_http_loopback || rules.allow_private))
            .then_some("is a loopback address");
    }
    if ip.is_link_local() {
        return Some("is a link-local address (such as a cloud metadata service)");
    }
    if ip.is_unspecified() || a == 0 || ip.is_multicast() || ip.is_broadcast() || a >= 240 {
        return Some("is not a unicast internet address");
    }
    let cgnat = a == 100 && (64..128).contains(&b);
    if ip.is_private() || cgnat {
        return (!rules.allow_private).then_some("is a private address");
    }
    None
}

fn refusal_v6(ip: Ipv6Addr, rules: Rules) -> Option<&'static str> {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        return (!(rules.allow_http_loopback || rules.allow_private))
            .then_some("is a loopback address");
    }
    if first & 0xffc0 == 0xfe80 {
        return Some("is a link-local address");
    }
    if ip.is_unspecified() || ip.is_multicast() {
        return Some("is not a unicast internet address");
    }
    if first & 0xfe00 == 0xfc00 {
        return (!rules.allow_private).then_some("is a private address");
    }
    None
}

/// Whether a delivery may connect to `ip`.
pub fn allowed(ip: IpAddr, rules: Rules) -> bool {
    refusal(ip, rules).is_none()
}

/// The URL's host as an address, when it is one (`[::1]` → `::1`).
fn host_ip(url: &Url) -> Option<IpAddr> {
    let host = url.host_str()?;
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

fn is_loopback_host(url: &Url) -> bool {
    match host_ip(url) {
        Some(ip) => ip.is_loopback(),
        None => url
            .host_str()
            .is_some_and(|d| d.eq_ignore_ascii_case("localhost")),
    }
}

/// A lender's endpoint URL, checked: https (http only to loopback when allowed), no
/// credentials, and not an address the rules refuse.
pub fn check_url(raw: &str, rules: Rules) -> Result<Url> {
    let bad = |rule: String| Error::invalid("url", rule);
    if raw.len() > MAX_URL {
        return Err(bad(format!("at most {MAX_URL} characters")));
    }
    let url = Url::parse(raw).map_err(|e| bad(format!("not a URL ({e})")))?;
    let loopback = is_loopback_host(&url);
    match url.scheme() {
        "https" => {}
        "http" if loopback && rules.allow_http_loopback => {}
        _ => return Err(bad("must be an https:// URL".into())),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "must not carry a user name or password; authenticate the request by its signature"
                .into(),
        ));
    }
    if url.fragment().is_some() {
        return Err(bad("must not have a #fragment".into()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("must name a host".into()));
    }
    let ip = match host_ip(&url) {
        Some(ip) => Some(ip),
        None if loopback => Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        None => None,
    };
    if let Some(ip) = ip
        && let Some(why) = refusal(ip, rules)
    {
        return Err(bad(format!(
            "{ip} {why}; webhooks go to the public internet"
        )));
    }
    Ok(url)
}

/// The DNS resolver of the delivery client: the system's answers without the addresses
/// the rules refuse; a name with none left is an error (nothing is sent).
pub struct Resolver(pub Rules);

impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let rules = self.0;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let kept: Vec<SocketAddr> = found.filter(|a| allowed(a.ip(), rules)).collect();
            if kept.is_empty() {
                return Err("the name resolves to no address webhooks may be sent to".into());
            }
            Ok(Box::new(kept.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The resolver as the client builder takes it.
pub fn resolver(rules: Rules) -> Arc<Resolver> {
    Arc::new(Resolver(rules))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: Rules = Rules {
        allow_http_loopback: false,
        allow_private: false,
    };
    const LOOPBACK: Rules = Rules {
        allow_http_loopback: true,
        allow_private: false,
    };
    const PRIVATE: Rules = Rules {
        allow_http_loopback: false,
        allow_private: true,
    };

    fn refused(url: &str, rules: Rules) -> String {
        match check_url(url, rules) {
            Err(Error::Invalid { field, rule }) => {
                assert_eq!(field, "url");
                rule
            }
            other => panic!("{url}: {other:?}"),
        }
    }

    #[test]
    fn a_public_https_url_is_accepted() {
        for url in [
            "https://hooks.lender.example/finlock",
            "https://203.0.113.9:8443/x?y=1",
            "https://[2001:db8::1]/x",
        ] {
            assert!(check_url(url, STRICT).is_ok(), "{url}");
        }
    }

    #[test]
    fn plain_http_is_refused_except_to_loopback_when_allowed() {
        assert!(refused("http://hooks.lender.example/", STRICT).contains("https"));
        assert!(refused("http://hooks.lender.example/", LOOPBACK).contains("https"));
        assert!(refused("http://127.0.0.1:9/", STRICT).contains("https"));
        assert!(check_url("http://127.0.0.1:9/h", LOOPBACK).is_ok());
        assert!(check_url("http://[::1]:9/h", LOOPBACK).is_ok());
        assert!(check_url("http://localhost:9/h", LOOPBACK).is_ok());
        assert!(refused("ftp://files.example/", LOOPBACK).contains("https"));
    }

    #[test]
    fn loopback_private_and_link_local_addresses_are_refused() {
        for (url, why) in [
            ("https://127.0.0.1/", "loopback"),
            ("https://localhost/", "loopback"),
            ("https://[::1]/", "loopback"),
            ("https://10.0.0.5/", "private"),
            ("https://172.16.9.1/", "private"),
            ("https://192.168.1.1/", "private"),
            ("https://100.64.0.1/", "private"),
            ("https://[fd00::1]/", "private"),
            ("https://[::ffff:10.0.0.1]/", "private"),
            ("https://169.254.169.254/latest/meta-data", "link-local"),
            ("https://[fe80::1]/", "link-local"),
            ("https://0.0.0.0/", "unicast"),
            ("https://224.0.0.1/", "unicast"),
            ("https://255.255.255.255/", "unicast"),
        ] {
            let rule = refused(url, STRICT);
            assert!(rule.contains(why), "{url}: {rule}");
        }
    }

    #[test]
    fn allowing_private_addresses_never_allows_link_local() {
        assert!(check_url("https://10.0.0.5/", PRIVATE).is_ok());
        assert!(check_url("https://[fd00::1]/", PRIVATE).is_ok());
        assert!(refused("https://169.254.169.254/", PRIVATE).contains("link-local"));
        assert!(refused("https://[fe80::1]/", PRIVATE).contains("link-local"));
    }

    #[test]
    fn credentials_fragments_and_junk_are_refused() {
        assert!(refused("https://u:p@hooks.example/", STRICT).contains("password"));
        assert!(refused("https://hooks.example/#x", STRICT).contains("fragment"));
        assert!(refused("not a url", STRICT).contains("not a URL"));
        let long = format!("https://hooks.example/{}", "a".repeat(MAX_URL));
        assert!(refused(&long, STRICT).contains("2048"));
    }

    #[tokio::test]
    async fn the_resolver_drops_refused_addresses() {
        use reqwest::dns::Resolve;
        let name: reqwest::dns::Name = "localhost".parse().unwrap();
        assert!(Resolver(STRICT).resolve(name).await.is_err());
        let name: reqwest::dns::Name = "localhost".parse().unwrap();
        let found: Vec<SocketAddr> = Resolver(LOOPBACK).resolve(name).await.unwrap().collect();
        assert!(!found.is_empty());
        assert!(found.iter().all(|a| a.ip().is_loopback()));
    }
}
