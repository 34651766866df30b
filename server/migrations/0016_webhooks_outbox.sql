-- Webhooks out (issue 17 item 2, ADR 0016): an outbox written in the same transaction as
-- the change it reports, and one delivery row per event and lender endpoint.

-- The lender's receivers. `events` is the filter: '*' for every kind, else the kinds
-- between commas (',device.locked,payment.recorded,'), so one LIKE selects them.
-- `secret` is the signing key (whsec_…): the server must read it to sign, as it reads a
-- device's offline secret. A deleted endpoint keeps its row for the delivery log.
CREATE TABLE webhook_endpoints (
    endpoint_id TEXT PRIMARY KEY,
    lender_id   TEXT NOT NULL REFERENCES lenders (lender_id),
    url         TEXT NOT NULL,
    events      TEXT NOT NULL,
    secret      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    rotated_at  BIGINT,
    deleted_at  BIGINT
);
CREATE INDEX webhook_endpoints_by_lender ON webhook_endpoints (lender_id, deleted_at);

-- What happened, in the transaction that made it happen. `device_order` numbers a
-- device's events 1, 2, … (devices.webhook_seq, incremented in that transaction, so the
-- order is the commit order on every node). `payload` is the JSON body sent as is.
-- `dispatched_at`: when a worker handed the event to the in-process hooks (the wake-up
-- push); NULL until then.
CREATE TABLE webhook_events (
    event_id      TEXT PRIMARY KEY,
    lender_id     TEXT NOT NULL,
    device_id     TEXT NOT NULL,
    device_order  BIGINT NOT NULL,
    kind          TEXT NOT NULL,
    payload       TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    dispatched_at BIGINT,
    UNIQUE (device_id, device_order)
);
CREATE INDEX webhook_events_undispatched ON webhook_events (dispatched_at, created_at);

-- One row per (event, endpoint), made with the event. status: pending, delivered, dead.
-- A worker claims a row by moving `leased_until` past now (compare-and-swap), so two
-- nodes never send the same row at the same moment; the lease ends with the attempt.
CREATE TABLE webhook_deliveries (
    delivery_id     TEXT PRIMARY KEY,
    event_id        TEXT NOT NULL REFERENCES webhook_events (event_id),
    endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints (endpoint_id),
    lender_id       TEXT NOT NULL,
    device_id       TEXT NOT NULL,
    device_order    BIGINT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    leased_until    BIGINT NOT NULL DEFAULT 0,
    lease_owner     TEXT,
    last_status     BIGINT,
    last_error      TEXT,
    last_attempt_at BIGINT,
    delivered_at    BIGINT,
    created_at      BIGINT NOT NULL,
    UNIQUE (event_id, endpoint_id)
);
-- The worker's claim (due pending rows) and its ordering rule (an earlier pending row
-- of the same device and endpoint holds the later ones back).
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (endpoint_id, device_id, status, device_order);
-- The lender's delivery log, newest first.
CREATE INDEX webhook_deliveries_by_lender ON webhook_deliveries (lender_id, status, created_at);

-- The number of a device's last event (see webhook_events.device_order).
ALTER TABLE devices ADD COLUMN webhook_seq BIGINT NOT NULL DEFAULT 0;
-- device.silent is sent once per silence: the last sign of life (last check-in, else
-- enrollment) already reported as silent; a later check-in starts a new silence.
ALTER TABLE devices ADD COLUMN silent_reported_for BIGINT;
-- device.locked for an overdue installment is found by the same scan: the lock_at
-- already reported.
ALTER TABLE devices ADD COLUMN overdue_reported_for BIGINT;
-- Days without a check-in before device.silent (1 to 90).
ALTER TABLE lenders ADD COLUMN webhook_silent_after_days BIGINT NOT NULL DEFAULT 3;
