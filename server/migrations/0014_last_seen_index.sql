-- The console's device list at 100,000 devices (issue 16): "not seen for N days" and the
-- sort by last seen read a device's last contact, `COALESCE(last_checkin_at,
-- enrolled_at)` (`devices::search::LAST_SEEN`, written the same way there so SQLite's
-- planner matches this expression; PostgreSQL matches it too). Without an index both
-- scanned every device of the lender (~250-465 ms at 100,000); with it, a page of the
-- sort and the filter's rows are an index range, and so is the dashboard's count of
-- phones not seen for 3 days. The price: each check-in moves one entry of this index
-- (measured with `cargo bench -p finlock-server --bench device_search`).
CREATE INDEX devices_by_last_seen ON devices (lender_id, (COALESCE(last_checkin_at, enrolled_at)), device_id);
