-- A contact's events are found through this index (the contact page, a
-- step's test-send). events_contact held every event, and an event is
-- stored before it is processed, with no contact yet: each insert wrote a
-- (NULL, id) entry nothing reads, and marking it processed wrote the real
-- one (issue 15: about twenty index entries per event, each about 2.5 % of
-- PostgreSQL's time in make bench's batched scenario). Partial, it takes
-- one entry per event, on processing; contact_id = $1 implies it.
-- Built concurrently: events may hold millions of rows, and ingest writes
-- them all the time. A run that failed half way starts again cleanly.

-- +goose NO TRANSACTION
-- +goose Up
DROP INDEX CONCURRENTLY IF EXISTS events_by_contact;
CREATE INDEX CONCURRENTLY events_by_contact ON events (contact_id, id) WHERE contact_id IS NOT NULL;
DROP INDEX CONCURRENTLY IF EXISTS events_contact;

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS events_contact;
CREATE INDEX CONCURRENTLY events_contact ON events (contact_id, id);
DROP INDEX CONCURRENTLY IF EXISTS events_by_contact;
