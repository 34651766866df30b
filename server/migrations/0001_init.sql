-- finlock lender server schema, version 1.
-- Portable DDL: the same file runs on SQLite and PostgreSQL (TEXT, BIGINT, no
-- booleans — 0/1 BIGINTs — no database-generated ids, no vendor types).

CREATE TABLE lenders (
    lender_id       TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    phone           TEXT NOT NULL,
    email           TEXT,
    payment_url     TEXT NOT NULL,
    support_url     TEXT,
    -- SHA-256 (hex) of the API key; the key itself is shown once and never stored.
    api_key_sha256  TEXT NOT NULL UNIQUE,
    -- The public key set devices pin (JSON); the private key is a file in the keys directory.
    jwks            TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);

CREATE TABLE devices (
    device_id        TEXT PRIMARY KEY,
    lender_id        TEXT NOT NULL REFERENCES lenders (lender_id),
    created_at       BIGINT NOT NULL,
    -- hex(SHA-256("finlock-imei:" || IMEI)); the IMEI itself is never stored.
    imei_sha256      TEXT,
    auto_reprovision BIGINT NOT NULL DEFAULT 0,
    enrollment_code  TEXT UNIQUE,
    currency         TEXT NOT NULL,
    -- The installment plan (JSON), fixed at registration.
    plan             TEXT NOT NULL,
    -- The reminder policy (JSON), NULL for the defaults.
    reminders        TEXT,
    total_minor      BIGINT NOT NULL,
    paid_minor       BIGINT NOT NULL DEFAULT 0,
    lender_locked    BIGINT NOT NULL DEFAULT 0,
    lock_reason      TEXT,
    released         BIGINT NOT NULL DEFAULT 0,
    -- Enrollment: the device's public key (base64url), the offline-code secret.
    device_key       TEXT,
    offline_secret   TEXT,
    offline_counter  BIGINT NOT NULL DEFAULT 0,
    enrolled_at      BIGINT,
    model            TEXT,
    android_sdk      BIGINT,
    app_version      TEXT,
    -- The last entitlement seq issued; strictly increasing, incremented in SQL.
    seq              BIGINT NOT NULL DEFAULT 0,
    -- The highest seq_seen the device reported: an older body is stale.
    seq_seen         BIGINT NOT NULL DEFAULT 0,
    -- Nonces of the last requests (space-separated): a replayed body is refused.
    recent_nonces    TEXT NOT NULL DEFAULT '',
    -- Server time of the last check-in: the per-device rate limit, shared by all nodes.
    last_checkin_at  BIGINT,
    -- The number of the last audit entry of this device.
    audit_seq        BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX devices_by_lender ON devices (lender_id, device_id);
CREATE INDEX devices_by_imei ON devices (imei_sha256);

CREATE TABLE payments (
    payment_id      TEXT PRIMARY KEY,
    device_id       TEXT NOT NULL REFERENCES devices (device_id),
    idempotency_key TEXT NOT NULL,
    -- What the key was first used for; the same key with another request is refused.
    request_sha256  TEXT NOT NULL,
    amount_minor    BIGINT NOT NULL,
    currency        TEXT NOT NULL,
    reference       TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    -- The first answer, returned again for every retry with the same key.
    response_status BIGINT NOT NULL,
    response_body   TEXT NOT NULL,
    UNIQUE (device_id, idempotency_key)
);

CREATE INDEX payments_by_device ON payments (device_id, created_at);

-- Append-only: rows are inserted, never updated or deleted.
CREATE TABLE audit (
    device_id  TEXT NOT NULL REFERENCES devices (device_id),
    n          BIGINT NOT NULL,
    lender_id  TEXT NOT NULL,
    at         BIGINT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    detail     TEXT NOT NULL,
    PRIMARY KEY (device_id, n)
);
