-- Ingest and journeys: contacts, events, lists, segments, journeys and
-- their runs.

-- +goose Up
ALTER TABLE panels ADD COLUMN ingest_rate_limit integer CHECK (ingest_rate_limit > 0); -- per minute; NULL: the default

-- Contacts are identified by external_id, then e-mail, then phone. Their
-- attributes are upper-case keys (EMAIL, MOBILE, FIRSTNAME, ...).
CREATE TABLE contacts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    panel_id    bigint NOT NULL REFERENCES panels (id) ON DELETE CASCADE,
    external_id text,
    email       text,                        -- lower-case
    phone       text,                        -- digits with a leading +
    attributes  jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE UNIQUE INDEX contacts_external_id ON contacts (panel_id, external_id) WHERE external_id IS NOT NULL;
CREATE UNIQUE INDEX contacts_email ON contacts (panel_id, email) WHERE email IS NOT NULL;
CREATE UNIQUE INDEX contacts_phone ON contacts (panel_id, phone) WHERE phone IS NOT NULL;

-- Every accepted event, stored before the ingest API answers. event_id is
-- the sender's (or a generated) id; a repeat is acknowledged, not stored.
CREATE TABLE events (
    id          uuid PRIMARY KEY,            -- a ULID
    panel_id    bigint NOT NULL REFERENCES panels (id) ON DELETE CASCADE,
    event_id    text NOT NULL,
    source      text NOT NULL,
    name        text NOT NULL,
    contact_id  bigint REFERENCES contacts (id) ON DELETE SET NULL,
    channel     text NOT NULL DEFAULT '',
    msgid       text NOT NULL DEFAULT '',
    properties  jsonb NOT NULL DEFAULT '{}',
    occurred_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX events_event_id ON events (panel_id, event_id);
CREATE INDEX events_contact ON events (contact_id, id);

CREATE TABLE lists (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    panel_id   bigint NOT NULL REFERENCES panels (id) ON DELETE CASCADE,
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX lists_panel_name ON lists (panel_id, lower(name));

CREATE TABLE list_members (
    list_id    bigint NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    contact_id bigint NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    added_at   timestamptz NOT NULL,
    PRIMARY KEY (list_id, contact_id)
);

-- A segment is a saved attribute filter.
CREATE TABLE segments (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    panel_id   bigint NOT NULL REFERENCES panels (id) ON DELETE CASCADE,
    name       text NOT NULL,
    filters    jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX segments_panel_name ON segments (panel_id, lower(name));

CREATE TABLE journeys (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    panel_id     bigint NOT NULL REFERENCES panels (id) ON DELETE CASCADE,
    name         text NOT NULL,
    status       text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'live', 'paused', 'stopped')),
    definition   jsonb NOT NULL,             -- {"reentry": ..., "nodes": [...]}, the format of DESIGN.md
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE UNIQUE INDEX journeys_panel_name ON journeys (panel_id, lower(name));
CREATE INDEX journeys_live ON journeys (panel_id) WHERE status = 'live';

-- One run per contact per entry. A run waits at a wait_for_event node until
-- the awaited event arrives or wait_until passes.
CREATE TABLE journey_runs (
    id            uuid PRIMARY KEY,          -- a ULID, made by the engine so deliveries can name their run before it is written
    journey_id    bigint NOT NULL REFERENCES journeys (id) ON DELETE CASCADE,
    panel_id      bigint NOT NULL REFERENCES panels (id) ON DELETE CASCADE,
    contact_id    bigint NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    status        text NOT NULL CHECK (status IN ('waiting', 'completed', 'stopped', 'ended')),
    node          text NOT NULL,             -- where it is (or ended)
    wait_event    text NOT NULL DEFAULT '',
    wait_until    timestamptz,
    happened      boolean NOT NULL DEFAULT false, -- the awaited event came while the journey was paused
    state         jsonb NOT NULL,            -- events seen and message ids sent, for the webhook nodes
    end_reason    text NOT NULL DEFAULT '',
    started_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    ended_at      timestamptz
);
CREATE INDEX journey_runs_waiting ON journey_runs (contact_id, wait_event) WHERE status = 'waiting';
CREATE INDEX journey_runs_timers ON journey_runs (wait_until) WHERE status = 'waiting';
CREATE INDEX journey_runs_entries ON journey_runs (journey_id, contact_id, started_at DESC);

ALTER TABLE deliveries ALTER COLUMN run_id TYPE uuid USING NULL;
ALTER TABLE deliveries
    ADD CONSTRAINT deliveries_journey FOREIGN KEY (journey_id) REFERENCES journeys (id) ON DELETE SET NULL,
    ADD CONSTRAINT deliveries_run FOREIGN KEY (run_id) REFERENCES journey_runs (id) ON DELETE SET NULL;

-- +goose Down
ALTER TABLE deliveries DROP CONSTRAINT deliveries_run, DROP CONSTRAINT deliveries_journey;
ALTER TABLE deliveries ALTER COLUMN run_id TYPE bigint USING NULL;
DROP TABLE journey_runs;
DROP TABLE journeys;
DROP TABLE segments;
DROP TABLE list_members;
DROP TABLE lists;
DROP TABLE events;
DROP TABLE contacts;
ALTER TABLE panels DROP COLUMN ingest_rate_limit;
