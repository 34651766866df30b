-- The outbox's retention (webhooks::retention): finished deliveries found by status and
-- age, events by age, without reading every row of either table each hour.
CREATE INDEX webhook_deliveries_by_age ON webhook_deliveries (status, created_at);
CREATE INDEX webhook_events_by_age ON webhook_events (created_at);
