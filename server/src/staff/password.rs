//! Staff passwords: the policy a new password must meet, and Argon2id hashes as PHC
//! strings (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`, the parameters RFC 9106 and OWASP
//! recommend for a server), so the parameters can be raised later and old hashes still
//! verify with their own.
//!
//! Why the dummy verify: a login naming an email that has no account (or no password yet)
//! still costs one Argon2 verification, against a hash made once per process with the
//! same parameters, so the answer's timing does not tell which emails have accounts.
//!
//! Hashing takes tens of milliseconds of CPU and 19 MiB on purpose; async callers run it
//! with [`hash_blocking`] / [`verify_blocking`] off the runtime's worker threads, at most
//! [`CONCURRENT_HASHES`] at once.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::error::{Error, Result};
use crate::ids;

/// The shortest password accepted, in characters.
pub const MIN_CHARS: usize = 12;
/// The longest (a bound on the work an attacker can make a verify do).
pub const MAX_CHARS: usize = 128;

/// Refuses a password that breaks the policy: 12 to 128 characters, no control
/// characters, not one character repeated, not the account's email. The error names the
/// rule (`Invalid { field: "password", .. }`) and never echoes the password.
pub fn check_policy(password: &str, email: &str) -> Result<()> {
    let n = password.chars().count();
    if n < MIN_CHARS {
        return Err(Error::invalid(
            "password",
            format!("at least {MIN_CHARS} characters"),
        ));
    }
    if n > MAX_CHARS {
        return Err(Error::invalid(
            "password",
            format!("at most {MAX_CHARS} characters"),
        ));
    }
    if password.chars().any(char::is_control) {
        return Err(Error::invalid(
            "password",
            "no control characters (tabs, line breaks)",
        ));
    }
    let mut chars = password.chars();
    if let Some(first) = chars.next()
        && chars.all(|c| c == first)
    {
        return Err(Error::invalid("password", "not one character repeated"));
    }
    if password.trim().to_lowercase() == email.trim().to_lowercase() {
        return Err(Error::invalid("password", "not the email address"));
    }
    Ok(())
}

/// The Argon2id PHC string of `password` with a fresh 16-byte salt from the OS CSPRNG.
pub fn hash(password: &str) -> Result<String> {
    let salt = SaltString::encode_b64(&ids::secret_bytes::<16>()?)
        .map_err(|e| Error::Internal(format!("password salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(format!("password hash: {e}")))
}

/// Whether `password` matches `stored`. `None` (no account, or no password yet) and a
/// stored value that does not parse run one verification against the dummy hash and
/// answer `false`, taking the same time as a wrong password.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    let parsed = stored.and_then(|s| PasswordHash::new(s).ok());
    match parsed {
        Some(h) => Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok(),
        None => {
            let dummy = dummy_hash();
            if let Ok(h) = PasswordHash::new(dummy) {
                let _ = Argon2::default().verify_password(password.as_bytes(), &h);
            }
            false
        }
    }
}

/// A hash of a random password, made once per process with the default parameters.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let random = ids::hex(&ids::random_bytes::<16>());
        // Only fails if the RNG does; a fixed string still parses and costs the same.
        hash(&random).unwrap_or_else(|_| {
            "$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$\
             AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                .into()
        })
    })
}

/// How many Argon2 computations run at once per process. Each takes 19 MiB and a core for
/// tens of milliseconds: a flood of login posts waits in line here instead of starting
/// hundreds of blocking threads and exhausting memory (the throttle bounds guesses; this
/// bounds the work).
pub const CONCURRENT_HASHES: usize = 4;

static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(CONCURRENT_HASHES);

/// Runs `work` on a blocking thread once one of the [`CONCURRENT_HASHES`] slots is free.
async fn limited<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    let _slot = HASHING
        .acquire()
        .await
        .map_err(|_| Error::Internal("the password hashing limiter is closed".into()))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::Internal(format!("password hashing task: {e}")))
}

/// [`hash`] on a blocking thread.
pub async fn hash_blocking(password: String) -> Result<String> {
    limited(move || hash(&password)).await?
}

/// [`verify`] on a blocking thread.
pub async fn verify_blocking(password: String, stored: Option<String>) -> Result<bool> {
    limited(move || verify(&password, stored.as_deref())).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rule(r: Result<()>) -> String {
        match r {
            Err(Error::Invalid { field, rule }) => {
                assert_eq!(field, "password");
                rule
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_policy_names_each_broken_rule() {
        assert!(check_policy("correct horse battery", "a@b.example").is_ok());
        assert!(check_policy("ñandú-ñandú-", "a@b.example").is_ok());
        assert!(rule(check_policy("elevenchars", "a@b.example")).contains("at least 12"));
        assert!(rule(check_policy(&"ab".repeat(65), "a@b.example")).contains("at most 128"));
        assert!(check_policy(&"ab".repeat(64), "a@b.example").is_ok());
        assert!(rule(check_policy(&"a".repeat(20), "a@b.example")).contains("repeated"));
        assert!(
            rule(check_policy(
                "Agent.Smith@Shop.example",
                "agent.smith@shop.example"
            ))
            .contains("email")
        );
        assert!(rule(check_policy("line\nbreak pass", "a@b.example")).contains("control"));
    }

    #[test]
    fn a_hash_verifies_its_password_only() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("correct horse battery", Some(&h)));
        assert!(!verify("correct horse batterY", Some(&h)));
        assert!(!verify("", Some(&h)));
        // Two hashes of one password differ (fresh salts).
        assert_ne!(h, hash("correct horse battery").unwrap());
    }

    #[test]
    fn no_account_and_a_broken_hash_never_verify() {
        assert!(!verify("anything at all", None));
        assert!(!verify("anything at all", Some("not a phc string")));
        // The dummy is a real hash, so the dummy verify does the full work.
        assert!(PasswordHash::new(dummy_hash()).is_ok());
        assert!(!verify(dummy_hash(), None));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_verifies_at_once_all_finish_through_the_limiter() {
        let h = hash("correct horse battery").unwrap();
        let tasks: Vec<_> = (0..CONCURRENT_HASHES * 3)
            .map(|i| {
                let h = h.clone();
                let pw = if i % 2 == 0 {
                    "correct horse battery"
                } else {
                    "wrong"
                };
                tokio::spawn(verify_blocking(pw.to_string(), Some(h)))
            })
            .collect();
        for (i, t) in tasks.into_iter().enumerate() {
            assert_eq!(t.await.unwrap().unwrap(), i % 2 == 0);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Whatever the input, the policy holds exactly its rules and never panics.
        #[test]
        fn the_policy_accepts_exactly_what_meets_it(pw in "\\PC{0,140}", email in "[a-z]{1,8}@[a-z]{1,8}\\.example") {
            let n = pw.chars().count();
            let same = pw.chars().all(|c| pw.starts_with(c));
            let expected = (MIN_CHARS..=MAX_CHARS).contains(&n)
                && !pw.chars().any(char::is_control)
                && !same
                && pw.trim().to_lowercase() != email;
            prop_assert_eq!(check_policy(&pw, &email).is_ok(), expected);
        }
    }
}
