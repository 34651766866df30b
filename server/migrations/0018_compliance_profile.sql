-- Compliance profiles (issue 18 item 3, src/compliance, docs/COMPLIANCE.md): the profile a
-- lender runs under and the payment apps its phones keep usable when restricted or locked.
-- Plain ALTER TABLE … ADD COLUMN with a constant default: the same statement on SQLite and
-- PostgreSQL (as 0008 and 0016 do).
--
-- `compliance_profile` names a profile shipped with the server (server/compliance/<id>.toml);
-- every existing lender keeps today's behaviour under `permissive`.
ALTER TABLE lenders ADD COLUMN compliance_profile TEXT NOT NULL DEFAULT 'permissive';
-- A JSON array of Android package names (at most 8, PROTOCOL §3.7 `payment_apps`).
ALTER TABLE lenders ADD COLUMN payment_apps TEXT NOT NULL DEFAULT '[]';
