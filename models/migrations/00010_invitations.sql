-- Invitations to a panel: a member invites an e-mail address, and the
-- person with that address joins by opening a one-time link. Nobody is put
-- in a panel without saying yes.

-- +goose Up
CREATE TABLE invitations (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The link carries a random token; only its SHA-256 is kept, so a copy
    -- of this table lets nobody in.
    token_hash  bytea NOT NULL UNIQUE,
    panel_id    bigint NOT NULL REFERENCES panels (id) ON DELETE CASCADE,
    email       text NOT NULL,                 -- trimmed, lower-case; the only address that may accept
    invited_by  bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz,
    accepted_by bigint REFERENCES users (id) ON DELETE SET NULL,
    revoked_at  timestamptz,
    CHECK (expires_at > created_at),
    CHECK (accepted_at IS NULL OR revoked_at IS NULL)
);
-- One pending invitation per panel and address: inviting again replaces it.
CREATE UNIQUE INDEX invitations_pending ON invitations (panel_id, email)
    WHERE accepted_at IS NULL AND revoked_at IS NULL;

-- +goose Down
DROP TABLE invitations;
