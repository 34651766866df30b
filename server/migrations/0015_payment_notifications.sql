-- Payments in (issue 17): notifications that payment providers send straight to the
-- server, and the per-lender secrets that authenticate them.

-- A lender's secrets for its notification endpoints. `kind`:
-- - standard: a Standard Webhooks signing secret, `whsec_<base64>`, stored as given (an
--   HMAC is computed with it, so it cannot be stored as a hash: protect the database
--   and its backups like the keys directory);
-- - mpesa: the token in M-Pesa's callback URL, stored as its SHA-256 only.
-- A rotation sets the current secret's `expires_at` (the overlap) and adds a new one with
-- `expires_at` NULL; a secret past its `expires_at` is deleted at the next rotation and
-- never accepted.
CREATE TABLE payment_notification_secrets (
    secret_id   TEXT PRIMARY KEY,
    lender_id   TEXT NOT NULL REFERENCES lenders (lender_id),
    kind        TEXT NOT NULL,
    secret      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    -- key:<key id>, staff:<staff id> or cli
    created_by  TEXT NOT NULL,
    expires_at  BIGINT
);

CREATE INDEX payment_notification_secrets_by_lender
    ON payment_notification_secrets (lender_id, kind);

-- Every notification a provider sent and the server stored (after authenticating it):
-- recorded as a payment, or held for the lender to assign. Never deleted. No payer's
-- phone number or name is stored (M-Pesa sends them; they are not read).
CREATE TABLE payment_notifications (
    notification_id  TEXT PRIMARY KEY,
    lender_id        TEXT NOT NULL REFERENCES lenders (lender_id),
    -- standard | mpesa
    source           TEXT NOT NULL,
    -- The provider's transaction id: one notification per lender, source and id.
    transaction_id   TEXT NOT NULL,
    -- The account reference the payer gave (a device id or the lender's customer
    -- reference), as sent (trimmed); may be empty (an M-Pesa till payment).
    account_ref      TEXT NOT NULL,
    amount_minor     BIGINT NOT NULL,
    currency         TEXT NOT NULL,
    -- When the provider says the money was paid (Unix seconds).
    paid_at          BIGINT NOT NULL,
    received_at      BIGINT NOT NULL,
    -- recorded | held | assigned | already_recorded
    status           TEXT NOT NULL,
    -- Why it is held (a slug) and in plain words; NULL otherwise.
    reason           TEXT,
    reason_detail    TEXT,
    -- The device it was matched or assigned to, and the payment it became.
    device_id        TEXT,
    payment_id       TEXT,
    -- The SHA-256 of what was read from the body: the same transaction id with other
    -- facts is refused, not taken for a retry.
    facts_sha256     TEXT NOT NULL,
    assigned_at      BIGINT,
    -- lender:<id>, staff:<id> or cli:<lender id>
    assigned_by      TEXT
);

CREATE UNIQUE INDEX payment_notifications_one_per_transaction
    ON payment_notifications (lender_id, source, transaction_id);
CREATE INDEX payment_notifications_by_status
    ON payment_notifications (lender_id, status, received_at, notification_id);
