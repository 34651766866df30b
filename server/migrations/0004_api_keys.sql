-- Several named API keys per lender (one per integration or staff member), each
-- revocable; the key itself is shown once and only its SHA-256 is stored.
CREATE TABLE api_keys (
    key_id      TEXT PRIMARY KEY,
    lender_id   TEXT NOT NULL REFERENCES lenders (lender_id),
    name        TEXT NOT NULL,
    key_sha256  TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    -- Who made it: `cli`, or `key:<key_id>` for a key made through the API.
    created_by  TEXT NOT NULL,
    revoked_at  BIGINT,
    revoked_by  TEXT
);

CREATE INDEX api_keys_by_lender ON api_keys (lender_id);

-- Each lender's first key (lenders.api_key_sha256, kept only for compatibility: the
-- server authenticates with this table alone).
INSERT INTO api_keys (key_id, lender_id, name, key_sha256, created_at, created_by)
    SELECT 'key-' || lender_id, lender_id, 'initial', api_key_sha256, created_at, 'cli'
    FROM lenders;

-- Which key made each change of a device (NULL for the device itself and the server).
ALTER TABLE audit ADD COLUMN api_key_id TEXT;
