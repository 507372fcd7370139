-- Whether an invitation's link went only to the invited address (by
-- e-mail). Only such a link may create an account or take a password:
-- a link shown to the inviter would let them accept it in someone else's
-- name, or learn whether the address has an account.

-- +goose Up
ALTER TABLE invitations ADD COLUMN mailed boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE invitations DROP COLUMN mailed;
