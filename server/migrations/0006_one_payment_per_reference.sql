-- A payment reference (the lender's receipt or the provider's transaction id) counts
-- once per device: the same M-Pesa receipt sent twice with two Idempotency-Keys is one
-- payment, not two. A database that already holds duplicate references must have them
-- resolved before this migration can run.
CREATE UNIQUE INDEX payments_one_reference ON payments (device_id, reference);
