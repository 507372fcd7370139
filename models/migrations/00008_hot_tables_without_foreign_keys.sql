-- The tables every event writes to (events, journey_runs, deliveries) carry
-- no foreign keys. A foreign key is checked row by row, and each check
-- locks the referenced row: every ingest and journey transaction locked the
-- same panel, webhook and journey rows hundreds of times, which made a
-- 500-row insert three times slower and those rows a point of contention
-- (MultiXacts) between concurrent transactions.
--
-- What the keys guaranteed holds without them: Herald never deletes panels,
-- journeys, contacts or runs; deleting a webhook deletes its deliveries in
-- the same transaction, and writers of deliveries lock their webhooks
-- (FOR KEY SHARE) once per statement, so none slips in between.

-- +goose Up
ALTER TABLE deliveries
    DROP CONSTRAINT deliveries_panel_id_fkey,
    DROP CONSTRAINT deliveries_webhook_id_fkey,
    DROP CONSTRAINT deliveries_journey,
    DROP CONSTRAINT deliveries_run;
ALTER TABLE events
    DROP CONSTRAINT events_panel_id_fkey,
    DROP CONSTRAINT events_contact_id_fkey;
ALTER TABLE journey_runs
    DROP CONSTRAINT journey_runs_panel_id_fkey,
    DROP CONSTRAINT journey_runs_journey_id_fkey,
    DROP CONSTRAINT journey_runs_contact_id_fkey;

-- +goose Down
ALTER TABLE journey_runs
    ADD CONSTRAINT journey_runs_contact_id_fkey FOREIGN KEY (contact_id) REFERENCES contacts (id) ON DELETE CASCADE,
    ADD CONSTRAINT journey_runs_journey_id_fkey FOREIGN KEY (journey_id) REFERENCES journeys (id) ON DELETE CASCADE,
    ADD CONSTRAINT journey_runs_panel_id_fkey FOREIGN KEY (panel_id) REFERENCES panels (id) ON DELETE CASCADE;
ALTER TABLE events
    ADD CONSTRAINT events_contact_id_fkey FOREIGN KEY (contact_id) REFERENCES contacts (id) ON DELETE SET NULL,
    ADD CONSTRAINT events_panel_id_fkey FOREIGN KEY (panel_id) REFERENCES panels (id) ON DELETE CASCADE;
ALTER TABLE deliveries
    ADD CONSTRAINT deliveries_run FOREIGN KEY (run_id) REFERENCES journey_runs (id) ON DELETE SET NULL,
    ADD CONSTRAINT deliveries_journey FOREIGN KEY (journey_id) REFERENCES journeys (id) ON DELETE SET NULL,
    ADD CONSTRAINT deliveries_webhook_id_fkey FOREIGN KEY (webhook_id) REFERENCES webhooks (id) ON DELETE CASCADE,
    ADD CONSTRAINT deliveries_panel_id_fkey FOREIGN KEY (panel_id) REFERENCES panels (id) ON DELETE CASCADE;
