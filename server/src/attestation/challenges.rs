//! Attestation challenges (ADR 0011): issued by `POST /v1/enroll/challenge`, kept in the
//! database so every node knows them, consumed once.
//!
//! The one part of attestation with I/O. Only the challenge's SHA-256 is stored. Issuing
//! deletes what has expired (the index on `expires_at` keeps that cheap); consuming is one
//! `DELETE … WHERE hash AND unexpired`, so of two requests racing with one challenge, on
//! one node or two, exactly one finds it.

use finlock_core::protocol::ATTESTATION_CHALLENGE_LEN;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::Db;
use crate::error::Result;
use crate::ids;
use crate::rate_limit::{self, Limit};

/// How long a challenge is good for: generating a key with ID attestation takes a
/// second or two on a TEE, a slow network a few more; five minutes is ample, and short
/// enough that a leaked challenge is soon worthless.
pub const CHALLENGE_TTL_S: i64 = 300;

/// Challenges for the whole server per minute, whatever the addresses: bounds the table
/// (at most this × 5 live rows) against a flood from many addresses. A phone denied a
/// challenge enrolls without proof and waits for approval, or retries later.
pub const CHALLENGES_PER_MINUTE: Limit = Limit {
    name: "attest-challenge-all",
    max: 6_000,
    window_s: 60,
};

/// Challenges per client address per minute (`max` = `--enroll-per-address`): a phone
/// needs one per enrollment try.
pub fn per_address(max: u32) -> Limit {
    Limit {
        name: "attest-challenge-addr",
        max: i64::from(max),
        window_s: 60,
    }
}

/// `200` of `POST /v1/enroll/challenge`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct IssuedChallenge {
    /// 32 random bytes, base64url: the attestation challenge of the key the phone
    /// generates, and part of the binding message (PROTOCOL §3.1).
    pub challenge: String,
    /// Server time (Unix s) after which it is refused.
    pub expires_at: i64,
    pub ttl_s: i64,
}

fn stored(challenge: &[u8]) -> String {
    ids::sha256_hex(challenge)
}

/// Issues a challenge (rate limits first: per address when one is known and the limit is
/// on, and for the whole server), and deletes the expired ones.
pub async fn issue(
    db: &Db,
    client: Option<&str>,
    per_address_max: u32,
    now: i64,
) -> Result<IssuedChallenge> {
    if let Some(addr) = client
        && per_address_max > 0
    {
        rate_limit::hit(db, &per_address(per_address_max), addr, now).await?;
    }
    rate_limit::hit(db, &CHALLENGES_PER_MINUTE, "all", now).await?;
    sqlx::query("DELETE FROM attestation_challenges WHERE expires_at <= $1")
        .bind(now)
        .execute(&db.write)
        .await?;
    let challenge = ids::secret_bytes::<ATTESTATION_CHALLENGE_LEN>()?;
    let expires_at = now + CHALLENGE_TTL_S;
    sqlx::query(
        "INSERT INTO attestation_challenges (challenge_sha256, issued_at, expires_at) \
         VALUES ($1, $2, $3)",
    )
    .bind(stored(&challenge))
    .bind(now)
    .bind(expires_at)
    .execute(&db.write)
    .await?;
    Ok(IssuedChallenge {
        challenge: finlock_core::b64::encode(challenge),
        expires_at,
        ttl_s: CHALLENGE_TTL_S,
    })
}

/// Consumes `challenge`: true exactly once for an issued, unexpired challenge; false for
/// one never issued, expired or already used.
pub async fn consume(db: &Db, challenge: &[u8], now: i64) -> Result<bool> {
    let done = sqlx::query(
        "DELETE FROM attestation_challenges WHERE challenge_sha256 = $1 AND expires_at > $2",
    )
    .bind(stored(challenge))
    .bind(now)
    .execute(&db.write)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn db() -> Db {
        Db::connect("sqlite::memory:", 1).await.unwrap()
    }

    async fn live(db: &Db) -> i64 {
        use sqlx::Row;
        sqlx::query("SELECT COUNT(*) AS n FROM attestation_challenges")
            .fetch_one(&db.write)
            .await
            .unwrap()
            .try_get("n")
            .unwrap()
    }

    #[tokio::test]
    async fn a_challenge_is_consumed_once_and_only_while_fresh() {
        let db = db().await;
        let issued = issue(&db, Some("203.0.113.7"), 30, 1000).await.unwrap();
        assert_eq!(issued.expires_at, 1000 + CHALLENGE_TTL_S);
        let bytes = finlock_core::b64::decode(&issued.challenge).unwrap();
        assert_eq!(bytes.len(), 32);
        assert!(consume(&db, &bytes, 1001).await.unwrap());
        assert!(!consume(&db, &bytes, 1002).await.unwrap(), "a replay");
        // Never issued.
        assert!(!consume(&db, &[0u8; 32], 1002).await.unwrap());
        // Expired: refused at the second it expires.
        let late = issue(&db, None, 30, 2000).await.unwrap();
        let late = finlock_core::b64::decode(&late.challenge).unwrap();
        assert!(!consume(&db, &late, 2000 + CHALLENGE_TTL_S).await.unwrap());
    }

    #[tokio::test]
    async fn the_table_keeps_no_challenge_and_sheds_expired_ones() {
        let db = db().await;
        let a = issue(&db, None, 30, 1000).await.unwrap();
        issue(&db, None, 30, 1001).await.unwrap();
        assert_eq!(live(&db).await, 2);
        use sqlx::Row;
        let row = sqlx::query("SELECT challenge_sha256 FROM attestation_challenges LIMIT 1")
            .fetch_one(&db.write)
            .await
            .unwrap();
        let kept: String = row.try_get("challenge_sha256").unwrap();
        assert_ne!(kept, a.challenge);
        assert_eq!(kept.len(), 64);
        // The next issue after both expired deletes them.
        issue(&db, None, 30, 1001 + CHALLENGE_TTL_S).await.unwrap();
        assert_eq!(live(&db).await, 1);
    }

    #[tokio::test]
    async fn challenges_are_limited_per_address() {
        let db = db().await;
        for _ in 0..3 {
            issue(&db, Some("198.51.100.1"), 3, 60).await.unwrap();
        }
        assert!(issue(&db, Some("198.51.100.1"), 3, 61).await.is_err());
        issue(&db, Some("198.51.100.2"), 3, 61).await.unwrap();
        issue(&db, Some("198.51.100.1"), 3, 120).await.unwrap();
    }
}
