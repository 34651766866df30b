//! Configuration shared by `finlock serve` and `finlock lender add`: every flag can
//! also come from the environment (`FINLOCK_DB`, `FINLOCK_KEYS`, `FINLOCK_LISTEN`, …),
//! so one environment file configures every command and every node.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Where the data lives: the database and the lenders' signing keys.
#[derive(Debug, Clone, clap::Args)]
pub struct StorageArgs {
    /// Database: `sqlite://finlock.db` (embedded, the default) or `postgres://…`
    /// (several stateless nodes share one PostgreSQL).
    #[arg(
        long = "db",
        env = "FINLOCK_DB",
        default_value = "sqlite://finlock.db",
        global = true
    )]
    pub db: String,
    /// Directory of the lenders' Ed25519 signing keys (one PKCS#8 file per lender,
    /// mode 0600). Every server node needs the same directory.
    #[arg(
        long = "keys",
        env = "FINLOCK_KEYS",
        default_value = "finlock-keys",
        global = true
    )]
    pub keys: PathBuf,
}

/// `finlock serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on. Plain HTTP: run behind the lender's TLS-terminating reverse proxy.
    #[arg(long, env = "FINLOCK_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The URL devices reach this server at (put into provisioning QR codes);
    /// defaults to `http://<listen>`.
    #[arg(long, env = "FINLOCK_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Minimum seconds between two check-ins of one device (429 + Retry-After below it).
    #[arg(long, env = "FINLOCK_CHECKIN_MIN_INTERVAL", default_value_t = DEFAULT_CHECKIN_MIN_INTERVAL_S)]
    pub checkin_min_interval: u64,
    /// Device admin component of the Android app, for the provisioning QR code.
    #[arg(long, env = "FINLOCK_ADMIN_COMPONENT", default_value = DEFAULT_ADMIN_COMPONENT)]
    pub admin_component: String,
    /// Where a factory-fresh phone downloads the app during QR provisioning (omitted when
    /// the app is preloaded by the OEM).
    #[arg(long, env = "FINLOCK_APK_URL")]
    pub apk_url: Option<String>,
    /// Base64url SHA-256 of the app's signing certificate (required by Android with --apk-url).
    #[arg(long, env = "FINLOCK_APK_CHECKSUM")]
    pub apk_checksum: Option<String>,
    /// Database connections per node (PostgreSQL; SQLite uses one writer and a few readers).
    #[arg(long, env = "FINLOCK_DB_CONNECTIONS", default_value_t = 16)]
    pub db_connections: u32,
    /// Take the client's address from the last `X-Forwarded-For` entry (set this only
    /// behind a reverse proxy that writes it; otherwise anyone could choose their address
    /// and escape the per-address limits).
    #[arg(long, env = "FINLOCK_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,
    /// Enrollment attempts allowed per client address per minute (0: no limit, for load
    /// tests only); per IMEI the limit is fixed at 10 an hour.
    #[arg(long, env = "FINLOCK_ENROLL_PER_ADDRESS", default_value_t = DEFAULT_ENROLL_PER_ADDRESS)]
    pub enroll_per_address: u32,
    /// Seconds a client has to send a request's headers (also how long an idle
    /// keep-alive connection stays open).
    #[arg(long, env = "FINLOCK_HEADER_READ_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub header_read_timeout: u64,
    /// Seconds to answer a request, its body included (503 after that); a bulk import
    /// (up to 10,000 rows in one transaction) gets 4 times as long.
    #[arg(long, env = "FINLOCK_REQUEST_TIMEOUT", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub request_timeout: u64,
    /// A directory of `*.pem` files whose certificates are trusted as attestation roots
    /// beside Google's (an OEM's root) for attested enrollment by IMEI (ADR 0011).
    #[arg(long, env = "FINLOCK_ATTESTATION_ROOTS")]
    pub attestation_roots: Option<PathBuf>,
    /// Google's attestation status list (JSON, downloaded by the deployment): attestation
    /// certificates it names are refused. Without it nothing is revoked.
    #[arg(long, env = "FINLOCK_ATTESTATION_REVOCATIONS")]
    pub attestation_revocations: Option<PathBuf>,
    /// The lowest security level an attested enrollment may prove: tee or strongbox
    /// (many low-end phones have no StrongBox).
    #[arg(long, env = "FINLOCK_ATTESTATION_SECURITY_LEVEL", default_value = "tee",
        value_parser = ["tee", "strongbox"])]
    pub attestation_security_level: String,
    /// Seconds in-flight requests get to finish after SIGTERM or Ctrl-C.
    #[arg(long, env = "FINLOCK_SHUTDOWN_GRACE", default_value_t = 20, value_parser = clap::value_parser!(u64).range(0..=600))]
    pub shutdown_grace: u64,
    /// Webhooks to plain-http loopback URLs (tests, the demo). Never on a server on the internet.
    #[arg(long, env = "FINLOCK_WEBHOOKS_ALLOW_HTTP_LOOPBACK")]
    pub webhooks_allow_http_loopback: bool,
    /// Webhooks to private addresses (a receiver on the lender's own network); link-local never.
    #[arg(long, env = "FINLOCK_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES")]
    pub webhooks_allow_private_addresses: bool,
    /// Seconds a webhook receiver has to answer.
    #[arg(long, env = "FINLOCK_WEBHOOKS_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=60))]
    pub webhooks_timeout: u64,
    /// Wake-up push (Web Push, VAPID): the contact push services may reach the operator
    /// at, `mailto:ops@lender.example` or an https:// URL (the JWT's `sub`).
    #[arg(long, env = "FINLOCK_PUSH_CONTACT")]
    pub push_contact: Option<String>,
    /// Push to plain-http loopback endpoints (tests, the demo, a simulated phone's
    /// loopback distributor). Never on a server on the internet.
    #[arg(long, env = "FINLOCK_PUSH_ALLOW_HTTP_LOOPBACK")]
    pub push_allow_http_loopback: bool,
    /// Push to private, link-local and CGNAT addresses (a push server on the lender's
    /// own network); otherwise a phone could make the server reach into it.
    #[arg(long, env = "FINLOCK_PUSH_ALLOW_PRIVATE")]
    pub push_allow_private: bool,
}

pub const DEFAULT_ENROLL_PER_ADDRESS: u32 = 30;

pub const DEFAULT_CHECKIN_MIN_INTERVAL_S: u64 = 10;
/// The app's device admin receiver (android-app's manifest: `.AdminReceiver` in the
/// `org.finlock.app` namespace); a QR naming another component fails provisioning.
pub const DEFAULT_ADMIN_COMPONENT: &str = "org.finlock.app/.AdminReceiver";

/// Everything a running server needs.
#[derive(Debug, Clone)]
pub struct Config {
    pub db_url: String,
    pub keys_dir: PathBuf,
    pub listen: SocketAddr,
    pub public_url: Option<String>,
    pub checkin_min_interval_s: u64,
    pub admin_component: String,
    pub apk_url: Option<String>,
    pub apk_checksum: Option<String>,
    pub db_connections: u32,
    pub trust_forwarded_for: bool,
    pub enroll_per_address: u32,
    pub limits: crate::serve::Limits,
    /// Attested enrollment's roots, revocation list and security level (ADR 0011).
    pub attestation: crate::attestation::Settings,
    /// Webhooks out (issue 17): which URLs, retry schedule, timing.
    pub webhooks: crate::webhooks::Settings,
    /// The wake-up push (issue 17): contact, which endpoints, timing.
    pub push: crate::push::Settings,
}

/// How logs are written.
#[derive(Debug, Clone, clap::Args)]
pub struct LogArgs {
    /// Log level: error, warn, info, debug or trace (FINLOCK_LOG or RUST_LOG, when set,
    /// take a full filter instead). Default: info; for `demo`, warn unless -v.
    #[arg(long, env = "FINLOCK_LOG_LEVEL", global = true,
        value_parser = ["error", "warn", "info", "debug", "trace"])]
    pub log_level: Option<String>,
    /// Log format: text (colour only on a terminal and never with NO_COLOR) or json (one
    /// object per line, for log collectors).
    #[arg(long, env = "FINLOCK_LOG_FORMAT", global = true, default_value = "text",
        value_parser = ["text", "json"])]
    pub log_format: String,
    /// For `demo`: the server's logs beside its story (other commands log at info already).
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

impl Config {
    /// Refuses settings that would start "fine" and fail later (a QR Android rejects, a
    /// public URL devices cannot use, keys nobody can read): each with a clear message.
    pub fn validate(&self) -> std::result::Result<(), String> {
        if let Some(url) = &self.public_url {
            let ok = (url.starts_with("https://") || url.starts_with("http://"))
                && url.len() > "https://".len()
                && !url.chars().any(|c| c.is_whitespace() || c.is_control());
            if !ok {
                return Err(format!(
                    "--public-url {url:?} is not an http(s) URL devices can reach, e.g. https://lender.example"
                ));
            }
        }
        match (&self.apk_url, &self.apk_checksum) {
            (Some(_), None) => {
                return Err(
                    "--apk-url needs --apk-checksum (Android refuses a download \
                            without the signing certificate's SHA-256)"
                        .into(),
                );
            }
            (None, Some(_)) => {
                return Err("--apk-checksum is only used with --apk-url".into());
            }
            (Some(url), Some(sum)) => {
                if !url.starts_with("https://") {
                    return Err(format!("--apk-url {url:?} must be https"));
                }
                if finlock_core::b64::decode_array::<32>(sum).is_none() {
                    return Err(
                        "--apk-checksum must be the base64url SHA-256 (43 characters) \
                                of the app's signing certificate"
                            .into(),
                    );
                }
            }
            (None, None) => {}
        }
        let (package, class) = self.admin_component.split_once('/').unwrap_or(("", ""));
        let java_name = |s: &str| {
            !s.is_empty()
                && s.split('.').all(|p| {
                    p.chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                        && p.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
                })
        };
        if !java_name(package) || !java_name(class.trim_start_matches('.')) {
            return Err(format!(
                "--admin-component {:?} is not package/class (e.g. {DEFAULT_ADMIN_COMPONENT})",
                self.admin_component
            ));
        }
        self.attestation.load()?;
        self.push.validate()?;
        Ok(())
    }

    pub fn new(storage: StorageArgs, serve: ServeArgs) -> Config {
        Config {
            db_url: storage.db,
            keys_dir: storage.keys,
            listen: serve.listen,
            public_url: serve.public_url,
            checkin_min_interval_s: serve.checkin_min_interval,
            admin_component: serve.admin_component,
            apk_url: serve.apk_url,
            apk_checksum: serve.apk_checksum,
            db_connections: serve.db_connections,
            trust_forwarded_for: serve.trust_forwarded_for,
            enroll_per_address: serve.enroll_per_address,
            attestation: crate::attestation::Settings {
                extra_roots_dir: serve.attestation_roots,
                revocation_file: serve.attestation_revocations,
                // clap allows only tee and strongbox; anything else is the default.
                min_security_level: crate::attestation::parse_security_level(
                    &serve.attestation_security_level,
                )
                .unwrap_or(crate::attestation::SecurityLevel::TrustedEnvironment),
            },
            push: crate::push::Settings {
                contact: serve.push_contact,
                policy: crate::push::endpoint::Policy {
                    allow_http_loopback: serve.push_allow_http_loopback,
                    allow_private: serve.push_allow_private,
                },
                ..crate::push::Settings::default()
            },
            webhooks: crate::webhooks::Settings {
                rules: crate::webhooks::address::Rules {
                    allow_http_loopback: serve.webhooks_allow_http_loopback,
                    allow_private: serve.webhooks_allow_private_addresses,
                },
                timeout: std::time::Duration::from_secs(serve.webhooks_timeout),
                ..crate::webhooks::Settings::default()
            },
            limits: crate::serve::Limits {
                header_read: std::time::Duration::from_secs(serve.header_read_timeout),
                request: std::time::Duration::from_secs(serve.request_timeout),
                shutdown_grace: std::time::Duration::from_secs(serve.shutdown_grace),
            },
        }
    }

    /// A server on an ephemeral loopback port with the defaults (tests, the demo).
    pub fn local(db_url: impl Into<String>, keys_dir: impl Into<PathBuf>) -> Config {
        Config {
            db_url: db_url.into(),
            keys_dir: keys_dir.into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: None,
            checkin_min_interval_s: DEFAULT_CHECKIN_MIN_INTERVAL_S,
            admin_component: DEFAULT_ADMIN_COMPONENT.into(),
            apk_url: None,
            apk_checksum: None,
            db_connections: 16,
            trust_forwarded_for: false,
            enroll_per_address: DEFAULT_ENROLL_PER_ADDRESS,
            limits: crate::serve::Limits::default(),
            attestation: crate::attestation::Settings::default(),
            webhooks: crate::webhooks::Settings::default(),
            push: crate::push::Settings::default(),
        }
    }
}
