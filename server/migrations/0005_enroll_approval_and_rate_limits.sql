-- Enrollment by IMEI without hardware proof waits for the lender's approval: one row per
-- (device, key) that asked. Nothing of the plan or the offline secret is revealed before
-- approval; an approved key binds at the phone's next enrollment try.
CREATE TABLE enroll_requests (
    request_id     TEXT PRIMARY KEY,
    device_id      TEXT NOT NULL REFERENCES devices (device_id),
    -- The key that asks (base64url) and its RFC 7638 thumbprint (what the lender compares
    -- with what the phone shows).
    device_key     TEXT NOT NULL,
    key_thumbprint TEXT NOT NULL,
    model          TEXT NOT NULL,
    android_sdk    BIGINT NOT NULL,
    app_version    TEXT NOT NULL,
    first_seen_at  BIGINT NOT NULL,
    last_seen_at   BIGINT NOT NULL,
    attempts       BIGINT NOT NULL DEFAULT 1,
    -- pending | approved | refused | used
    status         TEXT NOT NULL,
    decided_at     BIGINT,
    decided_by     TEXT,
    UNIQUE (device_id, device_key)
);

CREATE INDEX enroll_requests_by_device ON enroll_requests (device_id, last_seen_at);

-- Fixed-window counters shared by every node (enroll attempts per client address and
-- per IMEI hash; later, console logins). `bucket` names what is counted, never a raw
-- address or IMEI: both are hashed.
CREATE TABLE rate_limits (
    bucket        TEXT PRIMARY KEY,
    window_start  BIGINT NOT NULL,
    count         BIGINT NOT NULL
);
