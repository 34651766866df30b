//! Which push endpoints the server will POST to.
//!
//! Two layers of rules:
//! - the protocol's (PROTOCOL §3.1/§3.2 `push_endpoint`): an `https://` URL of at most
//!   [`MAX_LEN`] bytes; a request breaking them is refused like any malformed field;
//! - the server's own ([`Policy`]): the URL comes from a phone, so it must not make the
//!   server reach into its own network (SSRF). Loopback, private, link-local, CGNAT,
//!   multicast and unspecified targets are refused — for an IP literal here, for a name
//!   where it is resolved ([`Policy::allows_ip`] in the sender's resolver), so a name
//!   that resolves to `10.0.0.1` is refused too. A phone whose endpoint the server will
//!   not use keeps working on its hourly schedule: the check-in is not refused for it.
//!
//! Pure: no I/O.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use reqwest::Url;

/// The longest endpoint accepted (PROTOCOL: ≤ 1024 bytes).
pub const MAX_LEN: usize = 1024;

/// The server's choice of targets beyond the protocol's rules (`finlock serve` flags).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    /// `--push-allow-http-loopback`: plain `http://` and `https://` to 127.0.0.0/8 and
    /// `::1` (tests, `finlock demo`, a simulated phone's loopback distributor).
    pub allow_http_loopback: bool,
    /// `--push-allow-private`: private, link-local and CGNAT addresses (a push server on
    /// the lender's own network). Loopback stays refused without the flag above.
    pub allow_private: bool,
}

/// What a request's `push_endpoint` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registration {
    /// "Wake me here."
    Set(String),
    /// `""`: forget my endpoint.
    Clear,
}

/// The protocol's rule broken by a `push_endpoint` (a 400 `invalid-field`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    #[error("must be at most 1024 bytes")]
    TooLong,
    #[error("must be an https:// URL")]
    NotHttpsUrl,
    #[error("must not carry a user name or password")]
    Credentials,
    #[error("must not carry a fragment")]
    Fragment,
}

/// Why the server will not use an endpoint that passed the protocol's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("plain http only to loopback, with --push-allow-http-loopback")]
    PlainHttp,
    #[error("loopback target (allowed only with --push-allow-http-loopback)")]
    Loopback,
    #[error("private, link-local or reserved target (allowed only with --push-allow-private)")]
    Private,
}

/// Reads a request's `push_endpoint` by the protocol's rules (the device's core checks
/// the same before sending; the server does not trust that it did). `http://` passes
/// here only so that [`Policy::check`] can allow it to loopback; the protocol's https
/// rule is the policy's default.
pub fn read(value: &str) -> Result<Registration, Malformed> {
    if value.is_empty() {
        return Ok(Registration::Clear);
    }
    if value.len() > MAX_LEN {
        return Err(Malformed::TooLong);
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Malformed::NotHttpsUrl);
    }
    let url = Url::parse(value).map_err(|_| Malformed::NotHttpsUrl)?;
    if !matches!(url.scheme(), "https" | "http") || url.host().is_none() {
        return Err(Malformed::NotHttpsUrl);
    }
    // A URL that does not start with its scheme as written ("HTTPS://", "https:/x") is
    // not the canonical form the phone was told to send.
    if !value.starts_with("https://") && !value.starts_with("http://") {
        return Err(Malformed::NotHttpsUrl);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Malformed::Credentials);
    }
    if url.fragment().is_some() {
        return Err(Malformed::Fragment);
    }
    Ok(Registration::Set(value.to_string()))
}

impl Policy {
    /// Whether the server will POST to `endpoint` (already [`read`]): its scheme and, for
    /// an IP literal, its address. A name is checked when it is resolved.
    pub fn check(&self, endpoint: &str) -> Result<(), Refused> {
        let url = Url::parse(endpoint).map_err(|_| Refused::PlainHttp)?;
        let ip = ip_literal(&url);
        if url.scheme() == "http" {
            let loopback = ip.is_some_and(|ip| ip.is_loopback());
            if !(self.allow_http_loopback && loopback) {
                return Err(Refused::PlainHttp);
            }
        }
        match ip {
            Some(ip) => self.allows_ip(ip),
            None => Ok(()),
        }
    }

    /// Whether the server may connect to `ip` (an IP literal, or what a name resolved to).
    pub fn allows_ip(&self, ip: IpAddr) -> Result<(), Refused> {
        let ip = canonical(ip);
        if ip.is_loopback() {
            return if self.allow_http_loopback {
                Ok(())
            } else {
                Err(Refused::Loopback)
            };
        }
        if is_never_public(ip) {
            return Err(Refused::Private);
        }
        if is_private(ip) && !self.allow_private {
            return Err(Refused::Private);
        }
        Ok(())
    }
}

/// The host of `url` when it is an IP address (`[…]` for IPv6), not a name.
pub fn ip_literal(url: &Url) -> Option<IpAddr> {
    let host = url.host_str()?;
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
        .parse()
        .ok()
}

/// An IPv4 address written as IPv6 (`::ffff:10.0.0.1`) is that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// Addresses that are never a push service: unspecified, broadcast, multicast,
/// documentation, "this network", reserved (240/4).
fn is_never_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            a.is_unspecified()
                || a.is_broadcast()
                || a.is_multicast()
                || a.is_documentation()
                || o[0] == 0
                || o[0] >= 240
        }
        IpAddr::V6(a) => {
            let s = a.segments();
            a.is_unspecified()
                || a.is_multicast()
                // 2001:db8::/32 documentation
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                // ::/96 IPv4-compatible (deprecated) and other low addresses
                || (s[..6].iter().all(|&x| x == 0))
        }
    }
}

/// The lender's own network: RFC 1918, link-local, CGNAT (100.64/10), benchmarking
/// (198.18/15), IPv6 unique-local (fc00::/7) and link-local (fe80::/10), and NAT64 /
/// 6to4 / Teredo forms that can embed such an address.
fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => is_private_v4(a),
        IpAddr::V6(a) => is_private_v6(a),
    }
}

fn is_private_v4(a: Ipv4Addr) -> bool {
    let o = a.octets();
    a.is_private()
        || a.is_link_local()
        || (o[0] == 100 && (o[1] & 0xc0) == 64)
        || (o[0] == 198 && (o[1] & 0xfe) == 18)
        || (o[0] == 192 && o[1] == 0 && o[2] == 0)
}

fn is_private_v6(a: Ipv6Addr) -> bool {
    let s = a.segments();
    (s[0] & 0xfe00) == 0xfc00
        || (s[0] & 0xffc0) == 0xfe80
        // 64:ff9b::/96 NAT64, 2002::/16 6to4, 2001::/32 Teredo: can reach an IPv4 inside.
        || (s[0] == 0x0064 && s[1] == 0xff9b)
        || s[0] == 0x2002
        || (s[0] == 0x2001 && s[1] == 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const STRICT: Policy = Policy {
        allow_http_loopback: false,
        allow_private: false,
    };
    const LOOPBACK: Policy = Policy {
        allow_http_loopback: true,
        allow_private: false,
    };

    fn usable(p: Policy, s: &str) -> bool {
        matches!(read(s), Ok(Registration::Set(_))) && p.check(s).is_ok()
    }

    #[test]
    fn the_three_meanings() {
        assert_eq!(read(""), Ok(Registration::Clear));
        assert_eq!(
            read("https://push.example/wake/abc"),
            Ok(Registration::Set("https://push.example/wake/abc".into()))
        );
    }

    #[test]
    fn protocol_rules() {
        let long = format!("https://push.example/{}", "a".repeat(MAX_LEN));
        assert_eq!(read(&long), Err(Malformed::TooLong));
        let exact = format!("https://push.example/{}", "a".repeat(MAX_LEN - 21));
        assert_eq!(exact.len(), MAX_LEN);
        assert!(read(&exact).is_ok());
        for bad in [
            "ftp://push.example/x",
            "push.example/x",
            "https://",
            "https:// push.example/x",
            "https://push.example/x\n",
            "HTTPS://push.example/x",
            "javascript:alert(1)",
            "file:///etc/passwd",
        ] {
            assert_eq!(read(bad), Err(Malformed::NotHttpsUrl), "{bad}");
        }
        assert_eq!(
            read("https://u:p@push.example/x"),
            Err(Malformed::Credentials)
        );
        assert_eq!(read("https://push.example/x#y"), Err(Malformed::Fragment));
    }

    #[test]
    fn server_policy() {
        assert!(usable(STRICT, "https://ntfy.sh/upABC?up=1"));
        assert!(usable(STRICT, "https://8.8.8.8/x"));
        assert_eq!(STRICT.check("http://ntfy.sh/x"), Err(Refused::PlainHttp));
        assert_eq!(
            STRICT.check("http://127.0.0.1:9/x"),
            Err(Refused::PlainHttp)
        );
        assert_eq!(STRICT.check("https://127.0.0.1/x"), Err(Refused::Loopback));
        assert_eq!(STRICT.check("https://[::1]/x"), Err(Refused::Loopback));
        assert!(LOOPBACK.check("http://127.0.0.1:9/push/x").is_ok());
        assert!(LOOPBACK.check("http://[::1]:9/push/x").is_ok());
        // The loopback flag allows plain http to loopback only.
        assert_eq!(LOOPBACK.check("http://ntfy.sh/x"), Err(Refused::PlainHttp));
        assert_eq!(LOOPBACK.check("http://10.0.0.1/x"), Err(Refused::PlainHttp));
        for private in [
            "https://10.1.2.3/x",
            "https://172.16.0.1/x",
            "https://192.168.1.1/x",
            "https://169.254.169.254/latest/meta-data",
            "https://100.64.0.1/x",
            "https://[fd00::1]/x",
            "https://[fe80::1]/x",
            "https://[::ffff:10.0.0.1]/x",
            "https://[::ffff:127.0.0.1]/x",
            "https://0.0.0.0/x",
            "https://[::]/x",
            "https://224.0.0.1/x",
            "https://255.255.255.255/x",
        ] {
            assert!(STRICT.check(private).is_err(), "{private}");
        }
        let lan = Policy {
            allow_private: true,
            ..STRICT
        };
        assert!(lan.check("https://10.1.2.3/x").is_ok());
        assert!(lan.check("https://0.0.0.0/x").is_err());
        assert_eq!(lan.check("https://127.0.0.1/x"), Err(Refused::Loopback));
    }

    fn v4_private() -> impl Strategy<Value = Ipv4Addr> {
        prop_oneof![
            any::<[u8; 3]>().prop_map(|[a, b, c]| Ipv4Addr::new(10, a, b, c)),
            (16u8..32, any::<[u8; 2]>()).prop_map(|(b, [c, d])| Ipv4Addr::new(172, b, c, d)),
            any::<[u8; 2]>().prop_map(|[c, d]| Ipv4Addr::new(192, 168, c, d)),
            any::<[u8; 2]>().prop_map(|[c, d]| Ipv4Addr::new(169, 254, c, d)),
            any::<[u8; 3]>().prop_map(|[b, c, d]| Ipv4Addr::new(127, b, c, d)),
            (64u8..128, any::<[u8; 2]>()).prop_map(|(b, [c, d])| Ipv4Addr::new(100, b, c, d)),
            any::<[u8; 3]>().prop_map(|[b, c, d]| Ipv4Addr::new(0, b, c, d)),
            (224u8..=255, any::<[u8; 3]>()).prop_map(|(a, [b, c, d])| Ipv4Addr::new(a, b, c, d)),
        ]
    }

    proptest! {
        /// No private, loopback or reserved IPv4 target passes the strict policy, written
        /// as IPv4, as IPv4-mapped IPv6, or in a URL with any path and port.
        #[test]
        fn private_targets_are_refused(ip in v4_private(), port in 1u16.., path in "[a-zA-Z0-9/_-]{0,40}") {
            prop_assert!(STRICT.allows_ip(IpAddr::V4(ip)).is_err());
            prop_assert!(STRICT.allows_ip(IpAddr::V6(ip.to_ipv6_mapped())).is_err());
            let url = format!("https://{ip}:{port}/{path}");
            prop_assert!(STRICT.check(&url).is_err(), "{}", url);
            let mapped = format!("https://[{}]:{port}/{path}", ip.to_ipv6_mapped());
            prop_assert!(STRICT.check(&mapped).is_err(), "{}", mapped);
        }

        /// Whatever the text, an accepted endpoint is https (or http to loopback with the
        /// flag), at most 1024 bytes, without credentials or whitespace.
        #[test]
        fn whatever_passes_is_a_plain_https_url(s in "\\PC{0,64}", scheme in prop_oneof![Just("https://"), Just("http://"), Just("ftp://"), Just("")]) {
            let text = format!("{scheme}{s}");
            if usable(LOOPBACK, &text) {
                prop_assert!(text.len() <= MAX_LEN);
                let url = Url::parse(&text).unwrap();
                prop_assert!(url.username().is_empty() && url.password().is_none());
                prop_assert!(!text.chars().any(char::is_whitespace));
                match url.scheme() {
                    "https" => {}
                    "http" => prop_assert!(ip_literal(&url).is_some_and(|ip| ip.is_loopback())),
                    other => prop_assert!(false, "scheme {}", other),
                }
            }
            if usable(STRICT, &text) {
                prop_assert!(text.starts_with("https://"));
            }
        }

        /// Anything longer than 1024 bytes is refused, however well formed.
        #[test]
        fn too_long_is_refused(extra in 1usize..2000) {
            let url = format!("https://push.example/{}", "a".repeat(MAX_LEN - 21 + extra));
            prop_assert_eq!(read(&url), Err(Malformed::TooLong));
        }
    }
}
