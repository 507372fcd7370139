-- Foundation: panels (workspaces), API tokens, webhook assets and their tests.

-- +goose Up
CREATE TABLE panels (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The name is the top-level key of every payload, so it is kept to
    -- characters that need no escaping anywhere.
    name       text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Tokens are stored as SHA-256 hashes: they carry 190+ bits of entropy, so a
-- slow password hash would add nothing but latency to every request.
CREATE TABLE tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    panel_id     bigint NOT NULL REFERENCES panels (id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('admin', 'ingest')),
    hash         bytea NOT NULL UNIQUE,
    hint         text NOT NULL,              -- the first characters, to tell keys apart
    label        text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX tokens_panel ON tokens (panel_id, kind);

CREATE TABLE webhooks (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    panel_id            bigint NOT NULL REFERENCES panels (id) ON DELETE CASCADE,
    label               text NOT NULL,
    description         text NOT NULL DEFAULT '',
    url                 text NOT NULL,
    method              text NOT NULL DEFAULT 'POST' CHECK (method IN ('POST', 'GET')),
    basic_auth_user     text NOT NULL DEFAULT '',
    -- Secrets are AES-256-GCM ciphertexts (models.Cipher); NULL means not set.
    basic_auth_password bytea,
    headers             bytea,               -- the JSON list [{name, value}], encrypted whole
    signing_secret      bytea,
    batch_size          integer NOT NULL DEFAULT 100 CHECK (batch_size BETWEEN 1 AND 1000),
    batch_wait_ms       integer NOT NULL DEFAULT 1000 CHECK (batch_wait_ms BETWEEN 0 AND 300000),
    hash_pii            boolean NOT NULL DEFAULT false,
    strict_disable      boolean NOT NULL DEFAULT false,
    status              text NOT NULL DEFAULT 'untested'
                        CHECK (status IN ('untested', 'active', 'inactive', 'disabled')),
    -- Keyed hash of URL, method, auth and headers: a test verifies exactly
    -- the configuration it was run with.
    config_fp           bytea NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX webhooks_panel_label ON webhooks (panel_id, lower(label));

-- One row per test request, for saved assets (webhook_id set) and for
-- unsaved configurations (webhook_id NULL) tested before they are saved.
CREATE TABLE webhook_tests (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    panel_id      bigint NOT NULL REFERENCES panels (id) ON DELETE CASCADE,
    webhook_id    bigint REFERENCES webhooks (id) ON DELETE CASCADE,
    config_fp     bytea NOT NULL,
    url           text NOT NULL,
    passed        boolean NOT NULL,
    status_code   integer NOT NULL DEFAULT 0,
    latency_ms    integer NOT NULL DEFAULT 0,
    response_body text NOT NULL DEFAULT '',
    error         text NOT NULL DEFAULT '',
    error_class   text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_tests_webhook ON webhook_tests (webhook_id, id DESC);
CREATE INDEX webhook_tests_fp ON webhook_tests (panel_id, config_fp, id DESC);

-- +goose Down
DROP TABLE webhook_tests;
DROP TABLE webhooks;
DROP TABLE tokens;
DROP TABLE panels;
