-- Web UI: the people who sign in, the panels each may work in, their
-- sessions; and an index for the UI's per-webhook charts and success rates.

-- +goose Up
CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         text NOT NULL UNIQUE,       -- trimmed, lower-case
    password_hash text NOT NULL,              -- bcrypt
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- A user may belong to several panels and sees only those.
CREATE TABLE user_panels (
    user_id  bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    panel_id bigint NOT NULL REFERENCES panels (id) ON DELETE CASCADE,
    added_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, panel_id)
);
CREATE INDEX user_panels_panel ON user_panels (panel_id);

-- The cookie carries a random token; only its SHA-256 is kept, so a copy of
-- this table signs nobody in.
CREATE TABLE sessions (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash bytea NOT NULL UNIQUE,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    panel_id   bigint NOT NULL REFERENCES panels (id) ON DELETE CASCADE, -- the panel being worked in
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id, expires_at);

-- The webhook page charts a webhook's attempts of the last hour or day and
-- the list shows each webhook's 24 h success rate: a range scan here
-- instead of every attempt kept for the retention period.
CREATE INDEX attempts_webhook_time ON attempts (webhook_id, created_at);

-- +goose Down
DROP INDEX attempts_webhook_time;
DROP TABLE sessions;
DROP TABLE user_panels;
DROP TABLE users;
