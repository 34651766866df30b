-- A promise-to-pay extension: the lender moves the device's lock later, to this time,
-- with a reason (audited). The lock is the later of the plan's and this.
ALTER TABLE devices ADD COLUMN extended_until BIGINT;
