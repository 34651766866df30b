-- A device's Web Push endpoint (issue 17 item 3, PROTOCOL §3.1/§3.2 `push_endpoint`): where
-- the server sends an empty, VAPID-authenticated push when the device's entitlement
-- changes, so the phone checks in now instead of at its next hourly check-in.
--
-- Its own table, not columns of `devices`: a device row is the check-in's compare-and-swap
-- and is cached per node; the endpoint is neither decided nor cached from it. A row exists
-- only while the phone has an endpoint: "" in a request or a push service's 404/410
-- deletes it. The URL is a capability (whoever knows it can wake the phone): it is
-- never logged.
CREATE TABLE device_push (
    device_id   TEXT PRIMARY KEY REFERENCES devices (device_id),
    endpoint    TEXT NOT NULL,
    -- Server time the phone registered this endpoint.
    set_at      BIGINT NOT NULL
);
