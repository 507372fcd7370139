-- The delivery log for people (issue 14): a webhook's deliveries can be
-- searched by contact, show the event they carry, and each opens on the
-- timeline of the requests that carried it.
--
-- deliveries.contact_id (added by 00020 for templates) is filled in here
-- for the journey deliveries written before it; deliveries.event_name is
-- the event a delivery carries, copied when the row is written, so the log
-- reads no other table to show or search it.
-- attempts.delivery_ids are the deliveries a request carried: an attempt
-- is one row whatever its batch size, and the timeline of one delivery is
-- the attempts whose array holds it (the GIN index answers that).

-- +goose Up
ALTER TABLE deliveries ADD COLUMN event_name text NOT NULL DEFAULT '';
UPDATE deliveries d SET contact_id = r.contact_id FROM journey_runs r WHERE r.id = d.run_id AND d.contact_id IS NULL;
UPDATE deliveries SET event_name = left(item->>'event', 200)
    WHERE json_typeof(item) = 'object' AND json_typeof(item->'event') = 'string';
-- The log searched by contact: that contact's deliveries of one webhook,
-- newest first, by keyset on the id.
CREATE INDEX deliveries_webhook_contact ON deliveries (webhook_id, contact_id, id) WHERE contact_id IS NOT NULL;

ALTER TABLE attempts ADD COLUMN delivery_ids uuid[] NOT NULL DEFAULT '{}';
CREATE INDEX attempts_delivery_ids ON attempts USING gin (delivery_ids);

-- +goose Down
DROP INDEX attempts_delivery_ids;
ALTER TABLE attempts DROP COLUMN delivery_ids;
DROP INDEX deliveries_webhook_contact;
ALTER TABLE deliveries DROP COLUMN event_name;
