-- Body format and signature scheme per webhook asset (issue 12): the
-- form-encoded data= batch stays the default; json sends the items as
-- JSON; template renders a Liquid body the marketer wrote. Signatures are
-- Standard Webhooks unless hmac-sha256 is chosen.

-- +goose Up
ALTER TABLE webhooks
    ADD COLUMN body_format           text NOT NULL DEFAULT 'form' CHECK (body_format IN ('form', 'json', 'template')),
    ADD COLUMN body_template         text NOT NULL DEFAULT '',
    ADD COLUMN template_content_type text NOT NULL DEFAULT 'application/json'
        CHECK (template_content_type IN ('application/json', 'application/x-www-form-urlencoded')),
    ADD COLUMN signature_scheme      text NOT NULL DEFAULT 'standard-webhooks'
        CHECK (signature_scheme IN ('standard-webhooks', 'hmac-sha256')),
    ADD COLUMN signature_header      text NOT NULL DEFAULT 'X-Webhook-Signature';

-- +goose Down
ALTER TABLE webhooks DROP COLUMN body_format, DROP COLUMN body_template, DROP COLUMN template_content_type,
    DROP COLUMN signature_scheme, DROP COLUMN signature_header;
