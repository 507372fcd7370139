-- What a UI form post leaves for the page it redirects to (post/redirect/
-- get): the page's messages and typed values, and one-time secrets (a new
-- ingest key, signing secret or invitation link), sealed with the secret
-- key. One row per session, read once: taking it deletes it, so a reload
-- shows the page without the secret and posts nothing again.

-- +goose Up
CREATE TABLE ui_stash (
    session_id bigint PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    page       text NOT NULL,
    payload    bytea NOT NULL,           -- sealed JSON
    created_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE ui_stash;
