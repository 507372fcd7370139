-- What a panel asked of an address's owner about its alert e-mail, kept
-- apart from the recipient rows, which "No", the link that stops alerts
-- and the panel itself delete: were the asking recorded only on those
-- rows, a panel could remove and add an address again to mail it a fresh
-- link at once, and ask again straight after its owner said no.

-- +goose Up
CREATE TABLE alert_consent_asks (
    panel_id     bigint      NOT NULL REFERENCES panels (id) ON DELETE CASCADE,
    email        text        NOT NULL, -- lower-cased
    last_sent_at timestamptz,          -- the last link mailed (or being mailed)
    declined_at  timestamptz,          -- the owner's last no, or stop
    PRIMARY KEY (panel_id, email)
);
INSERT INTO alert_consent_asks (panel_id, email, last_sent_at)
SELECT panel_id, lower(email), max(confirm_sent_at) FROM alert_recipients
WHERE confirm_sent_at IS NOT NULL GROUP BY panel_id, lower(email);

-- +goose Down
DROP TABLE alert_consent_asks;
