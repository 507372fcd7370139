-- The contact a delivery is about (issue 12: a body template's `contact`
-- holds all the contact's attributes). A journey's delivery is its run's
-- contact, a subscribed event's the contact the event names; NULL for
-- deliveries made through the API. The worker reads the contact's current
-- attributes when it renders a template, so the row carries the id only.
-- No foreign key, as on the other hot-table columns (00008): a deleted
-- contact leaves the template what the item holds.

-- +goose Up
ALTER TABLE deliveries ADD COLUMN contact_id bigint;

-- +goose Down
ALTER TABLE deliveries DROP COLUMN contact_id;
