-- Attestation challenges for attested enrollment by IMEI (ADR 0011): issued by
-- POST /v1/enroll/challenge, single use, short-lived. Only the challenge's SHA-256 is
-- stored (hex), so the table never holds a usable challenge. A challenge is consumed by
-- deleting its row (one statement, atomic on SQLite and PostgreSQL); expired rows are
-- deleted whenever a challenge is issued.
CREATE TABLE attestation_challenges (
    challenge_sha256 TEXT PRIMARY KEY,
    issued_at        BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL
);

CREATE INDEX attestation_challenges_by_expiry ON attestation_challenges (expires_at);
