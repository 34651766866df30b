-- Payments that can be corrected before they become terminal (ADR 0012).
--
-- Paid in full, a device is *completing* until release_at (the time it was paid in full
-- plus its lender's window); a payment voided meanwhile takes it back. Only after the
-- window, with nothing voided, is it released (terminal). NULL while something is owed,
-- and for devices released before this migration.
ALTER TABLE devices ADD COLUMN release_at BIGINT;

-- A voided payment stays listed, marked with when and why; paid_minor is the sum of the
-- payments that are not voided. The answer to the first void is kept and returned again
-- to every retry.
ALTER TABLE payments ADD COLUMN voided_at BIGINT;
ALTER TABLE payments ADD COLUMN void_reason TEXT;
ALTER TABLE payments ADD COLUMN void_response TEXT;

-- The lender's completing window in seconds (default 48 hours, as Knox Guard does);
-- 0 releases at once, as before this migration.
ALTER TABLE lenders ADD COLUMN completing_window_s BIGINT NOT NULL DEFAULT 172800;
