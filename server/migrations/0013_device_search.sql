-- Searching, filtering, sorting and counting a lender's devices in SQL (issue 16: the
-- console's Devices and Dashboard pages, GET /v1/lender/devices, /v1/lender/dashboard).
--
-- A device's state depends on its plan (JSON), its payments and the time. The two facts of
-- the plan the state needs are kept beside it, so a filter or a count reads columns
-- instead of parsing every plan. Both are written by `policy::SearchColumns::of` in the
-- transaction of every change to their inputs (registration, payment, void, reschedule,
-- extension, release, cancellation):
-- - first_unpaid_due: the due date of the first installment the payments do not cover;
--   NULL when paid in full or released (nothing is owed).
-- - lock_at: when the phone locks for non-payment (that due date plus the grace days, or
--   a later extension), exactly `DeviceFacts::lock_at`; NULL when first_unpaid_due is.
ALTER TABLE devices ADD COLUMN first_unpaid_due BIGINT;
ALTER TABLE devices ADD COLUMN lock_at BIGINT;
-- The lender's own customer or contract reference (1-64 printable ASCII characters),
-- optional, given at registration.
ALTER TABLE devices ADD COLUMN customer_ref TEXT;
-- The last four digits of the IMEI registered at sale, for search by IMEI suffix (the
-- IMEI itself is stored only as its hash). NULL for devices registered before this
-- migration or without an IMEI.
ALTER TABLE devices ADD COLUMN imei_last4 TEXT;

-- Devices registered before this migration: their columns are computed once by the
-- server after migrating (`devices::search::backfill`), which empties this table.
CREATE TABLE device_search_backfill (device_id TEXT PRIMARY KEY);
INSERT INTO device_search_backfill (device_id) SELECT device_id FROM devices;

-- Days past due (filters, the dashboard's arrears, the sort): a range of first_unpaid_due.
CREATE INDEX devices_by_first_unpaid ON devices (lender_id, first_unpaid_due, device_id);
-- Devices by state (the dashboard's counts): every column the state is computed from,
-- so the count reads this index, not the rows (none of them changes at a check-in).
CREATE INDEX devices_by_state ON devices (lender_id, released, lender_locked, release_at,
    paid_minor, total_minor, first_unpaid_due, lock_at);
-- Newest first.
CREATE INDEX devices_by_created ON devices (lender_id, created_at, device_id);
-- Completing devices and upcoming releases: a range of release_at.
CREATE INDEX devices_by_release_at ON devices (lender_id, release_at);
-- Locked for non-payment: a range of lock_at.
CREATE INDEX devices_by_lock_at ON devices (lender_id, lock_at);
-- Search by the lender's reference, by IMEI suffix: covering (the id included), so a
-- prefix or suffix match reads the index, not the rows.
CREATE INDEX devices_by_customer_ref ON devices (lender_id, customer_ref, device_id);
CREATE INDEX devices_by_imei_last4 ON devices (lender_id, imei_last4, device_id);
-- No index on last_checkin_at: every check-in (the hottest statement) would maintain it.
-- "Not seen for N days" scans the lender's devices instead (measured in search.rs).
-- The dashboard's "collected this month": payments by time.
CREATE INDEX payments_by_created ON payments (created_at);
