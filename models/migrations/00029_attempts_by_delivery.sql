-- The statement that records a request was the costliest of a delivery,
-- and two things it kept up paid for nothing the next statement needs:
--
-- * The GIN index on attempts.delivery_ids (00022), which found a
--   delivery's timeline: every request added one entry per delivery it
--   carried, and merging the index's pending list cost 88 of the 121
--   buffers the statement touched per one-row request (make bench,
--   api-single). Each delivery now keeps the ids of its requests instead
--   (attempt_ids): the statement that records a request rewrites the
--   delivery row anyway, so appending its id adds no write, and the
--   timeline reads the attempts by primary key.
-- * The foreign keys of attempts: each check locked the panel's row, which
--   every request to every webhook of the panel shares, as the other hot
--   tables' keys did (00008). Panels are never deleted; deleting a webhook
--   deletes its attempts itself (Store.DeleteWebhook). An attempt of a
--   webhook deleted while its request ran is left for the retention sweep.

-- +goose Up
ALTER TABLE deliveries ADD COLUMN attempt_ids bigint[] NOT NULL DEFAULT '{}';
UPDATE deliveries d SET attempt_ids = x.ids
FROM (SELECT u.delivery_id, array_agg(a.id ORDER BY a.id) AS ids
      FROM attempts a CROSS JOIN LATERAL unnest(a.delivery_ids) AS u(delivery_id)
      GROUP BY u.delivery_id) x
WHERE d.id = x.delivery_id;
DROP INDEX attempts_delivery_ids;
ALTER TABLE attempts DROP CONSTRAINT attempts_panel_id_fkey, DROP CONSTRAINT attempts_webhook_id_fkey;

-- +goose Down
DELETE FROM attempts a WHERE NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.id = a.webhook_id);
ALTER TABLE attempts
    ADD CONSTRAINT attempts_panel_id_fkey FOREIGN KEY (panel_id) REFERENCES panels (id) ON DELETE CASCADE,
    ADD CONSTRAINT attempts_webhook_id_fkey FOREIGN KEY (webhook_id) REFERENCES webhooks (id) ON DELETE CASCADE;
CREATE INDEX attempts_delivery_ids ON attempts USING gin (delivery_ids);
ALTER TABLE deliveries DROP COLUMN attempt_ids;
