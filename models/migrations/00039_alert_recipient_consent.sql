-- An alert recipient gets alert e-mail only once the owner of the address
-- has said yes, through a link e-mailed to it (double opt-in): otherwise
-- any panel could have Herald's mail server, whose reputation every panel's
-- alerts share, mail whatever addresses it liked. The link's token is kept
-- as its hash only. Recipients added before this were getting alerts
-- already and keep them.

-- +goose Up
ALTER TABLE alert_recipients
    ADD COLUMN confirmed_at       timestamptz,
    ADD COLUMN confirm_token_hash bytea,
    ADD COLUMN confirm_sent_at    timestamptz,
    ADD COLUMN confirm_expires_at timestamptz;
UPDATE alert_recipients SET confirmed_at = created_at;
CREATE UNIQUE INDEX alert_recipients_confirm_token ON alert_recipients (confirm_token_hash)
    WHERE confirm_token_hash IS NOT NULL;

-- +goose Down
DROP INDEX alert_recipients_confirm_token;
ALTER TABLE alert_recipients
    DROP COLUMN confirmed_at,
    DROP COLUMN confirm_token_hash,
    DROP COLUMN confirm_sent_at,
    DROP COLUMN confirm_expires_at;
