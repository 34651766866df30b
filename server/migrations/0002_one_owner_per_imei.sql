-- One owner per IMEI: a phone that is financed (registered and not released) by one
-- lender cannot be registered again, by that lender or another, until it is released.
-- Portable: SQLite and PostgreSQL both have partial unique indexes, and both treat NULLs
-- (devices registered without an IMEI) as distinct. Concurrent registrations on several
-- nodes meet here.
CREATE UNIQUE INDEX devices_one_active_imei ON devices (imei_sha256) WHERE released = 0;
