package models

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
)

// DeliveryTarget is what a flush needs to know about its webhook.
type DeliveryTarget struct {
	Webhook   `gorm:"embedded"`
	PanelName string
	// PanelHealthSettings are the panel's failure-tracker thresholds.
	PanelHealthSettings json.RawMessage
	// LeaseUntil is the webhook's send lease as read: while it lasts,
	// another worker holds the webhook (see ClaimBatch).
	LeaseUntil *time.Time
}

// DeliveryTarget loads a webhook with its panel's name; ErrNotFound when it
// was deleted.
func (s *Store) DeliveryTarget(ctx context.Context, webhookID int64) (*DeliveryTarget, error) {
	var t DeliveryTarget
	res := s.db.WithContext(ctx).Raw(`SELECT w.*, p.name AS panel_name, p.health_settings AS panel_health_settings,
			w.send_lease_until AS lease_until
		FROM webhooks w JOIN panels p ON p.id = w.panel_id
		WHERE w.id = $1`, webhookID).Scan(&t)
	if res.Error != nil {
		return nil, fmt.Errorf("models: delivery target %d: %w", webhookID, res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, fmt.Errorf("models: delivery target %d: %w", webhookID, ErrNotFound)
	}
	return &t, nil
}

// Claim is the outcome of trying to take a batch of a webhook's deliveries.
type Claim struct {
	// Rows are the claimed deliveries, oldest first.
	Rows []ClaimedRow
	// Lease is the claim's token and deadline: the webhook and the rows are
	// this worker's until then. Completing the rows requires it, and the
	// next claim passes it to renew the webhook's lease.
	Lease time.Time
	// Busy: another worker holds the webhook (or it left service); that
	// worker claims again before it lets go.
	Busy bool
	// NotBefore is when the oldest pending row becomes due, when it is not
	// due yet (a retry waiting out its backoff). Zero otherwise.
	NotBefore time.Time
}

// ClaimedRow is one delivery taken for sending.
type ClaimedRow struct {
	ID        uuid.UUID
	Item      json.RawMessage
	Attempts  int // including the request about to be made
	CreatedAt time.Time
	// RunID and RunAwaits: a journey run waits at its webhook node for
	// this row's outcome. KeepResponse: the 2xx body that delivers it is
	// kept for the run to save from (Completion.Response).
	RunID        *uuid.UUID
	RunAwaits    bool
	KeepResponse bool
	// ContactID is the contact the delivery is about (Delivery.ContactID).
	ContactID *int64
}

// claimSQL takes the webhook's send lease and up to batch_size rows, in one
// statement, without writing the rows: the lease on the webhook row is the
// claim. While it holds, the batch is the webhook's oldest due pending
// rows, and only the holder moves them (the completion checks the lease);
// the rows stay pending until their outcome is known, so a delivery is
// written twice in all (inserted, then completed), not four times.
//
// The lease is taken by an UPDATE of the webhook row. When two claimers
// meet, the second waits for the first's row lock and PostgreSQL re-checks
// its condition against the row as the first left it (a live lease), so the
// second gets nothing: one request per webhook is in flight at a time, and
// a webhook receives its batches in order. The lease must also be the one
// this statement's snapshot saw: the rows are read in that snapshot, and a
// holder that completed rows and let go since would have them sent again.
// send_seq tells: every statement that takes, renews or releases the lease
// or completes a batch under it adds one, so a lease that went from free to
// held and back to free in between does not look unchanged (NULL again).
// Such a claimer gets nothing and reports Busy; the holder that let go
// looks again for pending rows after its release (releaseSQL, headSQL), so
// nothing is left behind.
//
// The claim takes the due rows at the head of the line and stops at the
// first row not due (a retry waiting out its backoff), so nothing
// overtakes a row that waits, even when a claim holds several requests'
// worth of rows ($6 is the rows of one request, $5 of the whole claim). A
// holder that died mid-request left its rows pending, at the head of the
// line: the next claim takes them first, as the oldest rows. Its lease ran
// out without being released (stale), so its request counts as an attempt
// (dead), which keeps a batch that kills its workers within max_attempts.
// Which of its claim's requests was out is not known, so the claim after
// it takes one request's rows and charges them: the line moves one
// request at a time, each charged once, until the request that killed
// the worker comes first and is charged alone at each death.
//
// Where a parameter decides a scan, it is read through a scalar subquery
// ((SELECT $1::bigint)): the planner cannot see the value, so a custom
// plan costs what the generic plan costs and PostgreSQL settles on the
// generic one after five executions, planning the statement once per
// session (0.05 ms) instead of every time (0.6 ms, more than running it).
// The generic plan is safe because the statement has no join to plan: the
// walk carries its rows, each step an index probe, so even a plan made
// while the outbox was empty reads a batch, not the table.
//
// The batch is found by walking the pending index one row at a time
// (walk): each step is a LIMIT 1 index probe, which the planner always
// takes, so a claim reads about batch_size rows however long the backlog.
// A plain "ORDER BY id LIMIT n" was planned from statistics taken when few
// rows were pending, as a bitmap scan and sort of every pending row of the
// webhook: under a backlog of 50,000 rows each one-row claim read them all.
// The walk takes the first $5 pending rows and keeps them up to the first
// that is not due.
const claimSQL = `
WITH RECURSIVE old AS (
	SELECT send_lease_until AS was, send_seq AS seq FROM webhooks WHERE id = $1
), w AS (
	UPDATE webhooks SET send_lease_until = $3, send_seq = send_seq + 1
	WHERE id = $1 AND status = 'active' AND send_seq = (SELECT seq FROM old)
	  AND (send_lease_until IS NULL OR send_lease_until <= (SELECT $2::timestamptz) OR send_lease_until = $4)
	RETURNING id, (SELECT was FROM old) IS NOT NULL AND (SELECT was FROM old) IS DISTINCT FROM $4 AS stale
), walk AS (
	(SELECT id, item, attempts, created_at, run_id, run_awaits, keep_response, contact_id, next_attempt_at, ctid AS tid, 1 AS n
	 FROM deliveries WHERE webhook_id = (SELECT $1::bigint) AND status = 'pending' AND EXISTS (SELECT 1 FROM w)
	 ORDER BY id LIMIT 1)
	UNION ALL
	SELECT nx.id, nx.item, nx.attempts, nx.created_at, nx.run_id, nx.run_awaits, nx.keep_response, nx.contact_id,
	       nx.next_attempt_at, nx.tid, walk.n + 1
	FROM walk CROSS JOIN LATERAL (
		SELECT d.id, d.item, d.attempts, d.created_at, d.run_id, d.run_awaits, d.keep_response, d.contact_id, d.next_attempt_at,
		       d.ctid AS tid
		FROM deliveries d WHERE d.webhook_id = (SELECT $1::bigint) AND d.status = 'pending' AND d.id > walk.id
		ORDER BY d.id LIMIT 1) nx
	WHERE walk.n < $5
), batch AS (
	SELECT id, item, attempts, created_at, run_id, run_awaits, keep_response, contact_id, tid FROM walk
	WHERE n < coalesce((SELECT min(h.n) FROM walk h WHERE h.next_attempt_at > (SELECT $2::timestamptz)), $5 + 1)
	  AND (n <= $6 OR NOT (SELECT stale FROM w))
), dead AS (
	-- By the rows' addresses (with their ids, should one have moved): a
	-- plan made on an empty table would find them by ids with a scan.
	UPDATE deliveries SET attempts = attempts + 1
	WHERE ctid = ANY(ARRAY(SELECT tid FROM batch)) AND id = ANY(ARRAY(SELECT id FROM batch)) AND (SELECT stale FROM w)
)
SELECT true, id, item, attempts + 1 + CASE WHEN (SELECT stale FROM w) THEN 1 ELSE 0 END, created_at, run_id, run_awaits, keep_response,
       contact_id, NULL::bigint
FROM batch
UNION ALL ` + leaseNotTaken

// leaseNotTaken ends both claiming statements: a row that says the
// statement did not take the lease (w updated nothing): another worker
// holds it, or the webhook left service. Without it an empty answer was
// ambiguous, and every claim turned away cost a second statement (a
// release that found nothing to release) to tell.
const leaseNotTaken = `SELECT false, NULL::uuid, 'null'::json, 0, now(), NULL::uuid, false, false, NULL::bigint, NULL::bigint
WHERE NOT EXISTS (SELECT 1 FROM w)`

// releaseSQL gives the lease back. A claimer turned away as busy left its
// rows for the holder, so once the lease is free the holder looks for
// pending rows again (headSQL), in a statement of its own: its snapshot is
// taken after the webhook row was locked here, so after every claim that
// found the lease held. (A RETURNING subquery would use a snapshot from
// before the lock and could miss a row committed in between.)
//
// It takes the webhook's send lock exclusively first, so it waits for the
// deliveries API's writes that saw the lease held and therefore enqueued
// no flush (enqueueForWebhookSQL): headSQL, after it, sees their rows.
var releaseSQL = `UPDATE webhooks SET send_lease_until = NULL, send_seq = send_seq + 1
WHERE id = $1 AND send_lease_until = $2 AND (SELECT pg_advisory_xact_lock(` + sendLockKey("$1") + `)) IS NOT NULL`

// sendLockKey is the advisory lock key of the send lease of the webhook
// whose id is the parameter webhookID (see enqueueForWebhookSQL; the
// function webhook_for_write, migration 00030, takes the same key): the id
// negated, which keeps it apart from the scheduler leader's key (positive)
// and from the ingest partitions' locks (two-key ones, a space of their own).
func sendLockKey(webhookID string) string { return `-(` + webhookID + `::bigint)` }

// headSQL says when the webhook's oldest pending row is due.
const headSQL = `SELECT h.next_attempt_at FROM deliveries h WHERE h.webhook_id = $1 AND h.status = 'pending'
ORDER BY h.id LIMIT 1`

// ClaimBatch takes the webhook's next batch: up to batchSize due
// deliveries, oldest first, this worker's to send until now+lease. held is
// the lease of this worker's previous claim in the same run (zero at
// first), which renews the webhook's lease instead of waiting it out.
//
// With nothing to send it lets the webhook go and reports why: Busy
// (another worker holds it), NotBefore (the oldest row waits out a
// backoff), or neither (the outbox is empty).
func (s *Store) ClaimBatch(ctx context.Context, webhookID int64, batchSize int, held time.Time, lease time.Duration) (*Claim, error) {
	return s.ClaimRequests(ctx, webhookID, Sizes{Batch: batchSize, Claim: batchSize}, held, lease)
}

// Sizes are how many rows one request carries at most (Batch) and how
// many one claim takes (Claim, a multiple of Batch): a worker sending
// small batches claims several requests' worth at once (jobs/delivery).
type Sizes struct{ Batch, Claim int }

// ClaimRequests is ClaimBatch for a claim of several requests' worth of
// rows. After a holder died, it takes one request's (see claimSQL).
func (s *Store) ClaimRequests(ctx context.Context, webhookID int64, size Sizes, held time.Time, lease time.Duration) (*Claim, error) {
	var heldArg *time.Time
	if !held.IsZero() {
		heldArg = &held
	}
	return s.claim(ctx, webhookID, lease, held, func(now, newLease time.Time) (*sql.Rows, error) {
		return s.sql.QueryContext(ctx, claimSQL, webhookID, now, newLease, heldArg, size.Claim, size.Batch)
	}, nil, size)
}

// claim runs a claiming statement and, when it returns nothing, lets the
// webhook go and says why (see Claim). If rows came in while it looked, it
// claims again with claimSQL. missed, when the statement recorded a batch
// and says it missed rows of it, records them, before anything else can
// let the lease go; nil for a statement that records nothing. held is the
// lease this worker holds, which the statement renews (zero: none).
//
// A statement turned away while this worker held the webhook found it out
// of service (a claim renews only an active webhook's lease), or its lease
// taken over. The first still leaves the lease this worker's, so it lets
// it go like any holder with nothing to send: kept, it would turn away the
// flush of an activation that follows, and every write that saw it would
// wait for the reconciler, until the lease ran out.
func (s *Store) claim(ctx context.Context, webhookID int64, lease time.Duration, held time.Time,
	query func(now, lease time.Time) (*sql.Rows, error), missed func(attempts map[string]int64, now, lease time.Time) error,
	size Sizes) (_ *Claim, err error) {
	// holding is the lease this worker holds after the last statement
	// that ran: the one it took, or the one it held when the statement
	// took none (a webhook out of service keeps it).
	recording, recorded, holding := missed != nil, false, time.Time{}
	defer func() {
		if err != nil && recorded {
			err = &AfterRecordError{Lease: holding, Err: err}
		}
	}()
	for {
		now := s.Now()
		// PostgreSQL keeps microseconds; the token must compare equal.
		c := &Claim{Lease: now.Add(lease).Truncate(time.Microsecond)}
		rows, err := query(now, c.Lease)
		taken, missedBy := false, map[string]int64(nil)
		if err == nil {
			c.Rows, taken, missedBy, err = scanClaimed(rows)
		}
		if err != nil {
			return nil, fmt.Errorf("models: claim batch of webhook %d: %w", webhookID, err)
		}
		recorded = recorded || recording
		if holding = c.Lease; !taken && !held.IsZero() {
			holding = held
		}
		if len(missedBy) != 0 && missed != nil {
			if err := missed(missedBy, now, c.Lease); err != nil {
				return nil, err
			}
		}
		missed = nil // only the first statement records
		if len(c.Rows) > 0 {
			return c, nil
		}
		ours := c.Lease
		if !taken {
			if held.IsZero() {
				c.Busy = true
				return c, nil
			}
			ours = held
		}
		held = time.Time{} // a claim afresh renews nothing
		released, headAt, err := s.release(ctx, webhookID, ours)
		switch {
		case err != nil:
			return nil, err
		case !released:
			c.Busy = true
			return c, nil
		case headAt == nil:
			return c, nil
		case headAt.After(s.Now()):
			// Compared with the time now, not when the claim began: a row
			// written while the claim ran is due from its insert, which
			// may be later than that start, and taking it for a retry not
			// yet due would hand it to a flush task (FlushAt) whose window
			// may have run already, leaving it until the reconciler.
			c.NotBefore = *headAt
			return c, nil
		}
		// Rows came in after the claim looked: claim afresh.
		query = func(now, newLease time.Time) (*sql.Rows, error) {
			return s.sql.QueryContext(ctx, claimSQL, webhookID, now, newLease, nil, size.Claim, size.Batch)
		}
	}
}

// scanClaimed reads a claiming statement's rows: the rows claimed, whether
// it took the lease (it sent no leaseNotTaken row), and, when it recorded
// requests and missed rows of them, their attempts by batch id
// (deliveredAndClaimSQL).
func scanClaimed(rows *sql.Rows) (out []ClaimedRow, taken bool, missedBy map[string]int64, err error) {
	defer rows.Close()
	taken = true
	for rows.Next() {
		var r ClaimedRow
		var claimed sql.NullBool
		var id uuid.NullUUID
		var attempt sql.NullInt64
		if err := rows.Scan(&claimed, &id, &r.Item, &r.Attempts, &r.CreatedAt, &r.RunID, &r.RunAwaits, &r.KeepResponse,
			&r.ContactID, &attempt); err != nil {
			return nil, false, nil, err
		}
		switch {
		case !claimed.Valid:
			var batch string
			if err := json.Unmarshal(r.Item, &batch); err != nil {
				return nil, false, nil, fmt.Errorf("missed rows of an unnamed batch: %w", err)
			}
			if missedBy == nil {
				missedBy = map[string]int64{}
			}
			missedBy[batch] = attempt.Int64
		case !claimed.Bool:
			taken = false
		default:
			r.ID = id.UUID
			out = append(out, r)
		}
	}
	// The statements do not promise the batch's order.
	slices.SortFunc(out, func(a, b ClaimedRow) int { return bytes.Compare(a.ID[:], b.ID[:]) })
	return out, taken, missedBy, rows.Err()
}

// deliveredAndClaimSQL is the steady state of a busy webhook in one
// statement: the requests just accepted are logged as attempts and their
// rows marked delivered, each with the attempt that carried it, the
// webhook's lease is renewed, and the next rows are claimed. Usually that
// is one request; DeliveredAllAndClaim says when it is several. The
// per-request values come in as parallel arrays ($3 to $8, $15, $17), and
// each row's request as $16, parallel to the rows' ids ($10). The claim
// reads the table as it was when the statement began, when the rows just
// delivered were still pending: it leaves them out by id. Nothing else can
// have moved this webhook's pending rows meanwhile, as the lease was held.
// The rows are marked delivered while the claim's lease holds, even if the
// webhook left service during the request (a person deactivated it, which
// held them): they were delivered.
//
// This statement finds the batch's rows by address: each id is looked up
// in the primary key, one probe per id (a unique lookup every plan makes
// through the index), and the rows are updated by the addresses the probes
// return (a TID scan once the table has statistics; on a table of a few
// pages never analyzed, a plan may read those pages and filter them by
// address). Found by "id = ANY(ids)" instead, the rows were read the way a
// plan made while the outbox was empty chose, which kept that plan until
// the table was analyzed: through
// deliveries_webhook, which holds every delivery the webhook ever had, or
// by a scan of the table, so each recorded batch read the webhook's whole
// history (5,050 rows for a batch of 10 after 5,000 deliveries, see
// TestRecordingABatchPlannedOnAnEmptyOutboxReadsTheBatch). "webhook_id + 0"
// keeps the webhook check out of index conditions for the same reason.
//
// A row rewritten after the probes read it (a person held it while the
// request ran, and the statement waited for that) is not at its address
// any more, and PostgreSQL does not follow an address to the new version,
// so the update misses it; so it does a row the lease no longer covers
// (taken over). When it records fewer rows than the requests carried, the
// statement ends with a row per attempt saying so (first column NULL),
// with the attempt's id and its request's batch id, and
// DeliveredAllAndClaim records the rest with recordMissedSQL before
// anything else. That is rare, and it is a statement of its own
// because the two updates it takes, part of this statement before, were
// set up on every execution: starting them cost PostgreSQL about a tenth
// of its CPU per delivery with one item per request.
var deliveredAndClaimSQL = `
WITH RECURSIVE a AS (
	INSERT INTO attempts (panel_id, webhook_id, batch_id, item_count, request_headers, status_code, latency_ms,
	                      response_body, error, error_class, outcome, created_at, delivery_ids)
	SELECT $1::bigint, $2::bigint, u.batch_id, u.item_count, u.headers::jsonb, u.status_code, u.latency_ms, u.body, '', '',
	       'delivered', u.at, ARRAY(SELECT r.id FROM unnest($10::uuid[], $16::int[]) r(id, k) WHERE r.k = u.k)
	FROM unnest($3::text[], $4::int[], $5::text[], $6::int[], $7::int[], $8::text[], $17::timestamptz[])
	     WITH ORDINALITY u(batch_id, item_count, headers, status_code, latency_ms, body, at, k)
	ORDER BY u.k
	RETURNING id, batch_id
), done AS (
	UPDATE deliveries SET status = 'delivered', delivered_at = ($17::timestamptz[])[` + requestOfRow + `], attempts = attempts + 1,
	       last_error = '', last_status_code = ($6::int[])[` + requestOfRow + `], last_attempt_id = ` + attemptOfRow + `,
	       attempt_ids = attempt_ids || ` + attemptOfRow + `, updated_at = $9,
	       response = CASE WHEN keep_response THEN ($15::text[])[` + requestOfRow + `] END
	WHERE ctid = ANY(ARRAY(SELECT (SELECT d.ctid FROM deliveries d WHERE d.id = x.id) FROM unnest((SELECT $10::uuid[])::uuid[]) x(id)))
	  AND id = ANY((SELECT $10::uuid[])::uuid[]) AND webhook_id + 0 = $2 AND status IN ('pending', 'held')
	  AND EXISTS (SELECT 1 FROM webhooks WHERE id = $2 AND send_lease_until = $11)
	RETURNING id
), w AS (
	UPDATE webhooks SET send_lease_until = $12, send_seq = send_seq + 1, health = COALESCE($14::jsonb, health)
	WHERE id = $2 AND status = 'active' AND send_lease_until = $11
	RETURNING id
), walk AS (
	(SELECT id, item, attempts, created_at, run_id, run_awaits, keep_response, contact_id, next_attempt_at, 1 AS n
	 FROM deliveries WHERE webhook_id = (SELECT $2::bigint) AND status = 'pending' AND EXISTS (SELECT 1 FROM w)
	 ORDER BY id LIMIT 1)
	UNION ALL
	SELECT nx.id, nx.item, nx.attempts, nx.created_at, nx.run_id, nx.run_awaits, nx.keep_response, nx.contact_id,
	       nx.next_attempt_at, walk.n + 1
	FROM walk CROSS JOIN LATERAL (
		SELECT d.id, d.item, d.attempts, d.created_at, d.run_id, d.run_awaits, d.keep_response, d.contact_id, d.next_attempt_at
		FROM deliveries d WHERE d.webhook_id = (SELECT $2::bigint) AND d.status = 'pending' AND d.id > walk.id
		ORDER BY d.id LIMIT 1) nx
	WHERE walk.n < (SELECT $13::int + cardinality($10::uuid[]))
)
(SELECT true, id, item, attempts + 1, created_at, run_id, run_awaits, keep_response, contact_id, NULL::bigint FROM walk
 WHERE id <> ALL((SELECT $10::uuid[])::uuid[])
   AND n < coalesce((SELECT min(h.n) FROM walk h WHERE h.id <> ALL((SELECT $10::uuid[])::uuid[])
                                                   AND h.next_attempt_at > (SELECT $9::timestamptz)), 2147483647)
 ORDER BY n LIMIT (SELECT $13::int))
UNION ALL ` + leaseNotTaken + `
UNION ALL SELECT NULL, NULL, to_json(a.batch_id), 0, now(), NULL, false, false, NULL, a.id FROM a
WHERE (SELECT count(*) FROM done) < cardinality($10::uuid[])`

// requestOfRow is, in deliveredAndClaimSQL's update, which of the recorded
// requests carried the row (1-based, into the per-request arrays): always
// the one when it records one request, which spares each row a search of
// the batch's ids (a batch may hold a thousand rows; several requests are
// recorded together only for small batches, see DeliveredAllAndClaim).
const requestOfRow = `CASE WHEN cardinality($3::text[]) = 1 THEN 1 ELSE ` + rowsRequest + ` END`

// rowsRequest looks the row's request up among the rows recorded.
const rowsRequest = `($16::int[])[array_position($10::uuid[], deliveries.id)]`

// attemptOfRow is the id of the attempt that carried the row. With one
// request it is the one attempt, read once for the statement (an
// uncorrelated subquery): read for each row, it cost a batch of 100 rows
// about a tenth of the statement.
const attemptOfRow = `CASE WHEN cardinality($3::text[]) = 1 THEN (SELECT min(id) FROM a)
	ELSE (SELECT a.id FROM a WHERE a.batch_id = ($3::text[])[` + rowsRequest + `]) END`

// recordMissedSQL records the rows of a delivered batch that
// deliveredAndClaimSQL missed. A row rewritten meanwhile (held by a person
// while the request ran) is found by id (moved) and recorded as delivered
// while the lease is still this worker's: the one the request was sent
// under, or the one the statement renewed it to. A row neither records
// (the lease was taken over, or the row moved on) was still carried by the
// request: carried adds the attempt to its timeline (attempt_ids) and
// changes nothing else. It skips a row another statement has locked (the
// worker that took the lease over, recording the same row): waiting for it
// could deadlock with that worker, which locks the rows in its own order,
// and that worker's record matters more than this late request's line in
// the log. Rows the first statement recorded hold the attempt already.
var recordMissedSQL = `
WITH a AS (
	SELECT $1::bigint AS id
), moved AS (
	UPDATE deliveries SET ` + deliveredSetOf("$5", "$6", "$7") + `
	WHERE id = ANY($2::uuid[]) AND webhook_id = $3 AND status IN ('pending', 'held') AND NOT ($1 = ANY(attempt_ids))
	  AND EXISTS (SELECT 1 FROM webhooks WHERE id = $3 AND send_lease_until IN ($4, $8))
	RETURNING id
)
UPDATE deliveries SET attempt_ids = attempt_ids || ARRAY[$1::bigint]
WHERE id IN (SELECT c.id FROM deliveries c
             WHERE c.id = ANY($2::uuid[]) AND c.id NOT IN (SELECT id FROM moved) AND c.webhook_id = $3
               AND NOT ($1 = ANY(c.attempt_ids))
             FOR UPDATE SKIP LOCKED)`

// ErrAfterRecord marks an error of DeliveredAllAndClaim that came after its
// statement had recorded the requests (and renewed the lease): what failed
// was a later step (rows it missed, letting the webhook go, claiming
// afresh). Recording those requests again would write their attempts twice.
// The error is an *AfterRecordError.
var ErrAfterRecord = errors.New("the requests were recorded before it")

// AfterRecordError is an error of DeliveredAllAndClaim after its statement
// recorded the requests; Lease is the lease the worker held after the last
// statement that ran (the one it renewed, or kept when the webhook had
// left service), which it should let go.
type AfterRecordError struct {
	Lease time.Time
	Err   error
}

func (e *AfterRecordError) Error() string { return e.Err.Error() + " (" + ErrAfterRecord.Error() + ")" }

func (e *AfterRecordError) Unwrap() []error { return []error{e.Err, ErrAfterRecord} }

// DeliveredAndClaim records a batch the receiver accepted, all of it, and
// claims the next batch in the same statement; see ClaimBatch for what the
// returned Claim means. c must hold delivered rows and an attempt only.
func (s *Store) DeliveredAndClaim(ctx context.Context, c *Completion, batchSize int, lease time.Duration) (*Claim, error) {
	return s.DeliveredAllAndClaim(ctx, []*Completion{c}, Sizes{Batch: batchSize, Claim: batchSize}, lease)
}

// DeliveredAllAndClaim records requests the receiver accepted whole, made
// one after another under one lease, and claims up to size.Claim rows,
// all in one statement. A worker sending small batches from one claim records
// them together (jobs/delivery), which spares a statement, and its commit,
// per request. Each attempt keeps its own time (Attempt.CreatedAt, when
// set), status and response, and each row the attempt that carried it;
// the last completion's health is the webhook's.
func (s *Store) DeliveredAllAndClaim(ctx context.Context, cs []*Completion, size Sizes, lease time.Duration) (*Claim, error) {
	if len(cs) == 0 {
		return nil, errors.New("models: DeliveredAllAndClaim takes at least one batch")
	}
	last := cs[len(cs)-1]
	var (
		ids                      []uuid.UUID
		batches, headers, bodies []string
		request, items, statuses []int
		latencies                []int
		responses                []*string
		times                    []time.Time
	)
	now := s.Now()
	// from[k] is where request k's rows start in ids.
	from := make([]int, len(cs)+1)
	for k, c := range cs {
		if len(c.Retry)+len(c.Failed)+len(c.Released) > 0 || c.Attempt == nil || c.WebhookID != last.WebhookID || c.Lease != last.Lease {
			return nil, errors.New("models: DeliveredAllAndClaim takes wholly delivered batches of one lease")
		}
		from[k] = len(ids)
		for _, id := range c.Delivered {
			ids, request = append(ids, id), append(request, k+1)
		}
		a := c.Attempt
		batches, items, headers = append(batches, a.BatchID), append(items, a.ItemCount), append(headers, string(a.RequestHeaders))
		statuses, latencies = append(statuses, a.StatusCode), append(latencies, a.LatencyMS)
		bodies, responses = append(bodies, CleanText([]byte(a.ResponseBody))), append(responses, keptResponse(c))
		times = append(times, cmp.Or(a.CreatedAt, now))
	}
	from[len(cs)] = len(ids)
	missed := func(attempts map[string]int64, now, newLease time.Time) error {
		for k, c := range cs {
			attemptID, ok := attempts[c.Attempt.BatchID]
			if !ok {
				continue
			}
			_, err := s.sql.ExecContext(ctx, recordMissedSQL, attemptID, ids[from[k]:from[k+1]], c.WebhookID, c.Lease, times[k], statuses[k],
				responses[k], newLease)
			if err != nil {
				return fmt.Errorf("models: record the rest of batch %s: %w", c.Attempt.BatchID, err)
			}
		}
		return nil
	}
	a := last.Attempt
	return s.claim(ctx, last.WebhookID, lease, last.Lease, func(now, newLease time.Time) (*sql.Rows, error) {
		return s.sql.QueryContext(ctx, deliveredAndClaimSQL, a.PanelID, last.WebhookID, batches, items,
			headers, statuses, latencies, bodies, now,
			ids, last.Lease, newLease, size.Claim, nullJSON(last.Health), responses, request, times)
	}, missed, size)
}

// release gives the webhook's send lease back if this lease holds it, and
// says when the oldest pending row is due.
func (s *Store) release(ctx context.Context, webhookID int64, lease time.Time) (released bool, headAt *time.Time, err error) {
	res, err := s.sql.ExecContext(ctx, releaseSQL, webhookID, lease)
	if err != nil {
		return false, nil, fmt.Errorf("models: release webhook %d: %w", webhookID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil, nil
	}
	err = s.sql.QueryRowContext(ctx, headSQL, webhookID).Scan(&headAt)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return true, nil, fmt.Errorf("models: pending head of webhook %d: %w", webhookID, err)
	}
	return true, headAt, nil
}

// ReleaseWebhook gives a webhook's send lease back, for a worker that
// stops claiming with the lease still in hand, and says whether pending
// rows remain.
func (s *Store) ReleaseWebhook(ctx context.Context, webhookID int64, lease time.Time) (pending bool, err error) {
	released, headAt, err := s.release(ctx, webhookID, lease)
	return released && headAt != nil, err
}

// Attempt is one HTTP request to a webhook.
type Attempt struct {
	ID             int64
	PanelID        int64
	WebhookID      int64
	BatchID        string
	ItemCount      int
	RequestHeaders json.RawMessage `gorm:"type:jsonb"`
	StatusCode     int
	LatencyMS      int
	ResponseBody   string
	Error          string
	ErrorClass     string
	Outcome        string
	CreatedAt      time.Time
}

// Attempt outcomes: what Herald did with the batch afterwards.
const (
	OutcomeDelivered = "delivered"
	OutcomeRetry     = "retry"
	OutcomeFailed    = "failed"
)

// Completion is what became of a claimed batch.
type Completion struct {
	WebhookID int64
	Lease     time.Time // the claim's token
	// Attempt is logged when a request was made (nil when none was).
	Attempt *Attempt
	// Delivered rows were accepted with a 2xx.
	Delivered []uuid.UUID
	// Retry rows go back to pending, due at RetryAt.
	Retry   []uuid.UUID
	RetryAt time.Time
	// Failed rows gave up.
	Failed []uuid.UUID
	// Released rows were claimed but not sent (they did not fit the body
	// cap, or the worker is stopping): back to pending, due now, the
	// attempt not counted.
	Released []uuid.UUID
	// Health, when set, is the webhook's health after this request.
	Health json.RawMessage
	// Response is the body of the 2xx to keep on the delivered rows that
	// keep one (ClaimedRow.KeepResponse); nil keeps none. The deliverer
	// sets it only for a request that carried one row, and only when the
	// body fit the cap, so a kept body is always that row's whole answer.
	Response []byte
}

// keptResponse is the Completion's body to keep, as storable text, or NULL.
func keptResponse(c *Completion) *string {
	if c.Response == nil {
		return nil
	}
	s := CleanText(c.Response)
	return &s
}

// deliveredSetOf is what recording a delivered row writes, given the
// parameters that hold the time, the status code and the response to keep
// (the attempt is CTE a's row).
func deliveredSetOf(now, status, response string) string {
	return `status = 'delivered', delivered_at = ` + now + `, attempts = attempts + 1, last_error = '',
	       last_status_code = ` + status + `, last_attempt_id = (SELECT id FROM a), attempt_ids = attempt_ids || ARRAY(SELECT id FROM a),
	       updated_at = ` + now + `, response = CASE WHEN keep_response THEN ` + response + `::text END`
}

// completeSQL logs the attempt and moves every row of the batch on, in one
// statement. Each row's new state comes in as parallel arrays. Only the
// holder of the claim's lease moves them: a worker whose lease ran out and
// was taken over leaves them to the new holder. A row a person held during
// the request (its webhook deactivated) is delivered or failed all the
// same; a retry of it stays held until the webhook is back. Rows the
// request carried but this statement does not record are handled as in
// deliveredAndClaimSQL (carried). The rows are found by id, through a join
// with the arrays: it records only batches not wholly delivered, and a
// plan made on an empty outbox may read the table here (see
// TestRecordingABatchPlannedOnAnEmptyOutboxReadsTheBatch), which the
// steady state's statement, deliveredAndClaimSQL, avoids.
const completeSQL = `
WITH h AS (
	UPDATE webhooks SET health = COALESCE($18::jsonb, health), send_seq = send_seq + 1 WHERE id = $2 AND send_lease_until = $17
), a AS (
	INSERT INTO attempts (panel_id, webhook_id, batch_id, item_count, request_headers, status_code, latency_ms,
	                      response_body, error, error_class, outcome, created_at, delivery_ids)
	SELECT $1::bigint, $2::bigint, $3::text, $4::int, $5::jsonb, $6::int, $7::int, $8::text, $9::text, $10::text, $11::text, $12::timestamptz,
	       $14::uuid[]
	WHERE $13::bool
	RETURNING id
), done AS (
	UPDATE deliveries d SET ` + completedSet + `
	FROM unnest($14::uuid[], $15::text[], $16::timestamptz[]) AS v(id, status, next_at)
	WHERE d.id = v.id AND d.webhook_id = $2 AND d.status IN ('pending', 'held')
	  AND EXISTS (SELECT 1 FROM webhooks WHERE id = $2 AND send_lease_until = $17)
	RETURNING d.id
), carried AS (
	UPDATE deliveries SET attempt_ids = attempt_ids || ARRAY(SELECT id FROM a)
	WHERE (SELECT count(*) FROM done) < cardinality($14::uuid[]) AND EXISTS (SELECT 1 FROM a)
	  AND id IN (SELECT c.id FROM deliveries c
	             WHERE c.id = ANY($14::uuid[]) AND c.id NOT IN (SELECT id FROM done) AND c.webhook_id = $2
	             FOR UPDATE SKIP LOCKED)
)
SELECT (SELECT id FROM a) FROM done`

// completedSet is what recording a row's outcome writes (completeSQL).
const completedSet = `
	status           = CASE WHEN d.status = 'held' AND v.status = 'pending' THEN 'held' ELSE v.status END,
	next_attempt_at  = v.next_at,
	attempts         = d.attempts + 1,
	last_error       = $9,
	last_status_code = $6,
	last_attempt_id  = (SELECT id FROM a),
	attempt_ids      = d.attempt_ids || ARRAY(SELECT id FROM a),
	delivered_at     = CASE WHEN v.status = 'delivered' THEN $12 END,
	response         = CASE WHEN v.status = 'delivered' AND d.keep_response THEN $19::text END,
	updated_at       = $12`

// CompleteBatch records a request and moves its rows on. Released rows
// were never written by the claim and are left as they are: pending, due,
// their attempt not counted.
func (s *Store) CompleteBatch(ctx context.Context, c *Completion) error {
	now := s.Now()
	if c.Attempt != nil && !c.Attempt.CreatedAt.IsZero() {
		now = c.Attempt.CreatedAt // when the request was made: it may be recorded later (jobs/delivery)
	}
	n := len(c.Delivered) + len(c.Retry) + len(c.Failed)
	ids, statuses := make([]uuid.UUID, 0, n), make([]string, 0, n)
	next := make([]*time.Time, 0, n)
	add := func(rows []uuid.UUID, status DeliveryStatus, at *time.Time) {
		for _, id := range rows {
			ids, statuses = append(ids, id), append(statuses, string(status))
			next = append(next, at)
		}
	}
	add(c.Delivered, DeliveryDelivered, &now)
	add(c.Retry, DeliveryPending, &c.RetryAt)
	add(c.Failed, DeliveryFailed, &now)
	if n == 0 && c.Attempt == nil && c.Health == nil {
		return nil // only released rows: nothing to write
	}

	a := c.Attempt
	if a == nil {
		a = &Attempt{RequestHeaders: json.RawMessage(`{}`)}
	}
	rows, err := s.sql.QueryContext(ctx, completeSQL,
		a.PanelID, c.WebhookID, a.BatchID, a.ItemCount, string(a.RequestHeaders), a.StatusCode, a.LatencyMS,
		CleanText([]byte(a.ResponseBody)), CleanText([]byte(a.Error)), a.ErrorClass, a.Outcome, now, c.Attempt != nil,
		ids, statuses, next, c.Lease, nullJSON(c.Health), keptResponse(c))
	if err != nil {
		return fmt.Errorf("models: complete batch of webhook %d: %w", c.WebhookID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var attemptID *int64
		if err := rows.Scan(&attemptID); err != nil {
			return fmt.Errorf("models: complete batch of webhook %d: %w", c.WebhookID, err)
		}
		if c.Attempt != nil && attemptID != nil {
			c.Attempt.ID = *attemptID
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("models: complete batch of webhook %d: %w", c.WebhookID, err)
	}
	return nil
}

// nullJSON passes empty JSON as NULL.
func nullJSON(b json.RawMessage) *string {
	if len(b) == 0 {
		return nil
	}
	s := string(b)
	return &s
}

// DisableWebhook takes a failing webhook out of service, as the failure
// tracker decided while holding its send lease: the asset becomes disabled,
// its pending deliveries (the failed batch among them) are held, not
// dropped, and the lease is let go. It returns how many deliveries are held.
func (s *Store) DisableWebhook(ctx context.Context, webhookID int64, lease time.Time, health json.RawMessage) (int64, error) {
	now := s.Now()
	var held int64
	err := s.InTx(ctx, func(q Querier) error {
		// Disabling lets the lease go too: like a release, it waits for
		// the deliveries API's writes that saw the lease held, so it holds
		// their rows, and a write after it finds the webhook disabled.
		if _, err := q.ExecContext(ctx, `SELECT pg_advisory_xact_lock(`+sendLockKey("$1")+`)`, webhookID); err != nil {
			return err
		}
		res, err := q.ExecContext(ctx, `UPDATE webhooks SET status = 'disabled', disabled_at = $2, health = $3::jsonb,
			send_lease_until = NULL, send_seq = send_seq + 1, updated_at = $2 WHERE id = $1 AND status = 'active' AND send_lease_until = $4`,
			webhookID, now, string(health), lease)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // no longer ours, or no longer active
		}
		if _, err := q.ExecContext(ctx, `UPDATE deliveries SET status = 'held', updated_at = $2
			WHERE webhook_id = $1 AND status = 'pending'`, webhookID, now); err != nil {
			return err
		}
		return q.QueryRowContext(ctx, `SELECT count(*) FROM deliveries WHERE webhook_id = $1 AND status = 'held'`, webhookID).Scan(&held)
	})
	if err != nil {
		return 0, fmt.Errorf("models: disable webhook %d: %w", webhookID, err)
	}
	return held, nil
}

// AttemptFilter narrows a listing of attempts.
type AttemptFilter struct {
	Outcome string
	Since   time.Time
	Until   time.Time
	Before  int64 // keyset cursor: attempts with a smaller id
	Limit   int
}

// ListAttempts lists a webhook's attempts, newest first.
func (s *Store) ListAttempts(ctx context.Context, panelID, webhookID int64, f AttemptFilter) ([]Attempt, error) {
	q := s.db.WithContext(ctx).Where("webhook_id = ? AND panel_id = ?", webhookID, panelID)
	if f.Outcome != "" {
		q = q.Where("outcome = ?", f.Outcome)
	}
	if !f.Since.IsZero() {
		q = q.Where("created_at >= ?", f.Since)
	}
	if !f.Until.IsZero() {
		q = q.Where("created_at < ?", f.Until)
	}
	if f.Before > 0 {
		q = q.Where("id < ?", f.Before)
	}
	var out []Attempt
	if err := q.Order("id DESC").Limit(f.Limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("models: list attempts: %w", err)
	}
	return out, nil
}
