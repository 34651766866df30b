-- The lender console's staff accounts (issue 16): people who log in with an email and a
-- password (Argon2id, a PHC string) and an optional TOTP second factor, each with a role.
-- Rows are never deleted (a staff member is disabled), so the audit log's `staff:<id>`
-- always names someone.
CREATE TABLE staff (
    staff_id        TEXT PRIMARY KEY,
    lender_id       TEXT NOT NULL REFERENCES lenders (lender_id),
    -- Trimmed and lower-cased; unique across the server, so a login names one account.
    email           TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    -- owner | agent | viewer
    role            TEXT NOT NULL,
    -- NULL until the invitation is accepted.
    password_hash   TEXT,
    -- Base32 TOTP secret; NULL = no second factor.
    totp_secret     TEXT,
    -- A secret being enrolled, active once a code from it was typed.
    totp_pending    TEXT,
    -- The last 30 s step a code was accepted for: a code is good once.
    totp_last_step  BIGINT,
    created_at      BIGINT NOT NULL,
    -- cli:<lender id> or staff:<staff id>
    created_by      TEXT NOT NULL,
    disabled_at     BIGINT,
    disabled_by     TEXT
);

CREATE INDEX staff_by_lender ON staff (lender_id);

-- Console sessions, in the database so every node knows them and a logout (or a disabled
-- account) ends them everywhere at once. Only the SHA-256 of the token is stored.
CREATE TABLE staff_sessions (
    token_sha256  TEXT PRIMARY KEY,
    staff_id      TEXT NOT NULL REFERENCES staff (staff_id),
    created_at    BIGINT NOT NULL,
    -- Sliding idle timeout from here.
    last_seen_at  BIGINT NOT NULL,
    -- The absolute end, whatever the activity.
    expires_at    BIGINT NOT NULL,
    -- The client address at login (for "where am I logged in").
    address       TEXT
);

CREATE INDEX staff_sessions_by_staff ON staff_sessions (staff_id);

-- Invitations to set a password (72 h, single use). Only the token's SHA-256 is stored;
-- the account itself is the staff row (without a password until accepted).
CREATE TABLE staff_invitations (
    token_sha256  TEXT PRIMARY KEY,
    staff_id      TEXT NOT NULL REFERENCES staff (staff_id),
    lender_id     TEXT NOT NULL REFERENCES lenders (lender_id),
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    used_at       BIGINT
);

CREATE INDEX staff_invitations_by_staff ON staff_invitations (staff_id);

-- Failed logins per account and per client address are counted in rate_limits (0005),
-- shared by every node.
