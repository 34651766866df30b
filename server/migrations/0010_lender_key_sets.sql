-- Lender key rotation (ADR 0007). Set 0 is lenders.jwks (pinned at provisioning); every
-- later set is one row here, its finlock-keys+jws message signed by a key of the set
-- before. The primary key makes two rotations at once impossible: one of them cannot
-- write set n + 1. Private keys are never here: they are 0600 files in the keys directory.
CREATE TABLE lender_key_sets (
    lender_id    TEXT NOT NULL REFERENCES lenders (lender_id),
    keys_seq     BIGINT NOT NULL,
    -- The signed set devices apply (finlock-keys+jws).
    jws          TEXT NOT NULL,
    -- The same keys as a JWKS with its keys_seq (what a provisioning QR pins).
    jwks         TEXT NOT NULL,
    -- The key entitlements are signed with from this set on (its newest key).
    signing_kid  TEXT NOT NULL,
    -- rotate | retire; a retire set holds only a fresh key.
    kind         TEXT NOT NULL,
    retired_kid  TEXT,
    created_at   BIGINT NOT NULL,
    -- cli, or key:<key_id> for an API key.
    created_by   TEXT NOT NULL,
    PRIMARY KEY (lender_id, keys_seq)
);

-- What happened to a lender's keys (rotations, retirements, exports, imports): append-only,
-- numbered per lender, like the per-device audit log.
CREATE TABLE lender_audit (
    lender_id  TEXT NOT NULL REFERENCES lenders (lender_id),
    n          BIGINT NOT NULL,
    at         BIGINT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    detail     TEXT NOT NULL,
    api_key_id TEXT,
    PRIMARY KEY (lender_id, n)
);
