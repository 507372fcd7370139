-- The deliveries API writes a request's items in one statement and, when a
-- worker holds the webhook's send lease, enqueues no flush: the holder
-- sends them. That holds only if the write reads the lease after taking the
-- webhook's send lock (an advisory lock the holder takes exclusively to let
-- go, see releaseSQL). A statement's snapshot is taken when it begins, so a
-- write that waited for the lock behind a release would still read the
-- lease as it was before, held, and its rows would wait for the
-- reconciler. A VOLATILE function runs each of its statements in a fresh
-- snapshot: this one takes the lock, then reads the webhook, so what it
-- returns is as the lock found it. It checks what the write assumed (the
-- panel, hash_pii, a tested webhook) in the same read, and locks the row
-- FOR KEY SHARE as every writer of deliveries does (a delete waits).
--
-- Fresh snapshots are READ COMMITTED's: in a REPEATABLE READ transaction
-- the function would read the transaction's snapshot, so writers run it in
-- READ COMMITTED (the default). ROWS 1 tells the planner it returns one
-- row: with the default guess of 1,000, PostgreSQL never settled on a
-- generic plan for the statement that calls it and planned it on every
-- call (about 80 µs).

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION webhook_for_write(p_panel bigint, p_webhook bigint, p_hash_pii boolean, p_now timestamptz)
RETURNS TABLE (status text, batch_wait_ms integer, leased boolean)
LANGUAGE plpgsql VOLATILE ROWS 1 AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(-p_webhook);
    RETURN QUERY
    SELECT w.status, w.batch_wait_ms, coalesce(w.send_lease_until > p_now, false)
    FROM webhooks w
    WHERE w.id = p_webhook AND w.panel_id = p_panel AND w.hash_pii = p_hash_pii AND w.status <> 'untested'
    FOR KEY SHARE;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION webhook_for_write(bigint, bigint, boolean, timestamptz);
