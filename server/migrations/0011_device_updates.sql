-- A sale cancelled before the phone enrolled (a mistyped registration, a customer who
-- walked away): when the lender cancelled it. Such a device is also released (terminal,
-- its enrollment code gone, its IMEI free for a new registration); this column tells it
-- from a device released after payment, and the `cancelled` audit entry says why.
ALTER TABLE devices ADD COLUMN cancelled_at BIGINT;
