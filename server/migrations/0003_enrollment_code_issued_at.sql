-- When the current one-time enrollment code was issued. A code issued after the
-- device's current binding (a reissue by the lender) may bind a new key; see
-- src/enrollment.rs. Existing codes were issued at registration.
ALTER TABLE devices ADD COLUMN code_issued_at BIGINT;
UPDATE devices SET code_issued_at = created_at;
