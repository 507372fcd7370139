package models

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/oklog/ulid/v2"
	"gorm.io/gorm"
)

// DeliveryStatus is where one event stands on its way to one webhook. The
// states, who moves a row into each and who moves it out (DeleteWebhook
// removes the rows of every state with their webhook):
//
//   - pending: waits in the outbox, due at next_attempt_at. Moved in by
//     EnqueueDeliveries, for an active webhook; by the completion
//     (CompleteBatch), for a batch to retry (due at RetryAt); by
//     ActivateWebhook, releasing the held rows (due now, attempts counted
//     afresh); by ReplayDeliveries, for an active webhook (attempts counted
//     afresh). A claim (ClaimBatch, DeliveredAndClaim) does not move it: the
//     webhook's send lease says which rows are in flight, the oldest due
//     pending ones, and only the lease's holder completes them, to
//     delivered, pending (a retry) or failed (CompleteBatch, or
//     DeliveredAndClaim for a batch accepted whole). A batch claimed but
//     not sent (released), or whose worker died, simply stays pending, at
//     the head of the line. Moved out by DeactivateWebhook and
//     DisableWebhook to held.
//   - sending: no longer written (the claim writes no row, see claimSQL);
//     kept as a value so that listings that filter on it still parse.
//   - delivered: answered with a 2xx. Moved in by the completion. Moved out
//     by ReplayDeliveries (named rows) to pending or held; deleted by the
//     retention (PruneHistory) once older than the retention period.
//   - failed: given up: a permanent error (4xx, 3xx, an item too large for
//     the body cap), or out of attempts or of give_up_after. Moved in by
//     the completion. Moved out by ReplayDeliveries to pending or held. The
//     retention keeps it: someone still has to decide about it.
//   - held: waits, in order, while its webhook is out of service (inactive,
//     disabled or untested). Moved in by EnqueueDeliveries and
//     ReplayDeliveries for a webhook not active; by DeactivateWebhook and
//     DisableWebhook (pending rows, a batch in flight among them). Moved out by
//     ActivateWebhook (a person, or the automatic probe) to pending. The
//     retention keeps it.
//
// A row in flight when a person deactivates its webhook is held with the
// others and then completed as usual: delivered or failed, or, for a
// retry, left held until the webhook is active again.
type DeliveryStatus string

// Delivery statuses.
const (
	// DeliveryPending waits in the outbox for a flush.
	DeliveryPending DeliveryStatus = "pending"
	// DeliverySending is no longer stored: a batch in flight stays pending
	// under its webhook's send lease. Listings still accept it as a filter.
	DeliverySending DeliveryStatus = "sending"
	// DeliveryDelivered was answered with a 2xx.
	DeliveryDelivered DeliveryStatus = "delivered"
	// DeliveryFailed gave up: a permanent error or retries exhausted. It can be replayed.
	DeliveryFailed DeliveryStatus = "failed"
	// DeliveryHeld waits while its webhook is out of service; released in
	// order when the webhook is back.
	DeliveryHeld DeliveryStatus = "held"
)

// Delivery is one outbox row.
type Delivery struct {
	ID        uuid.UUID
	PanelID   int64
	WebhookID int64
	JourneyID *int64
	RunID     *uuid.UUID
	// RunAwaits: the run waits at its webhook node for this delivery's
	// outcome. KeepResponse: the node saves fields of the response, kept
	// in Response once a 2xx delivers it (see Completion.Response).
	RunAwaits    bool
	KeepResponse bool
	Response     *string
	// JourneyNode is the webhook node of the journey that made it.
	JourneyNode string
	// ContactID is the contact a journey or subscription delivery is
	// about; nil for an item posted to the deliveries API. EventName is
	// the event it carries ("" when the item names none).
	ContactID     *int64
	EventName     string
	Item          json.RawMessage `gorm:"type:json"`
	Status        DeliveryStatus
	Attempts      int
	NextAttemptAt time.Time
	// (deliveries.lease_until is always NULL since migration 00028: the
	// claim is the webhook's send lease now, so no field reads it.)
	LastError      string
	LastStatusCode int
	LastAttemptID  *int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
	DeliveredAt    *time.Time
}

const deliveryIDPrefix = "dlv_"

// DeliveryID is the public id of a delivery, the delivery_id of its item.
func DeliveryID(id uuid.UUID) string { return deliveryIDPrefix + ulid.ULID(id).String() }

// ParseDeliveryIDs reads public delivery ids; the first that is not one
// is a ValidationError on delivery_id.
func ParseDeliveryIDs(in []string) ([]uuid.UUID, error) {
	out := make([]uuid.UUID, len(in))
	for i, s := range in {
		id, err := ParseDeliveryID(s)
		if err != nil {
			return nil, err
		}
		out[i] = id
	}
	return out, nil
}

// ParseDeliveryID reads a public delivery id.
func ParseDeliveryID(s string) (uuid.UUID, error) {
	raw, ok := strings.CutPrefix(s, deliveryIDPrefix)
	if !ok {
		return uuid.Nil, invalid("delivery_id", "%q is not a delivery id (dlv_...)", s)
	}
	u, err := ulid.ParseStrict(raw)
	if err != nil {
		return uuid.Nil, invalid("delivery_id", "%q is not a delivery id (dlv_...)", s)
	}
	return uuid.UUID(u), nil
}

// enqueueSQL writes deliveries given as parallel arrays, one statement
// whatever their number, so its text never changes and stays prepared.
//
// The webhook's status is read under a KEY SHARE lock (the lock the foreign
// key takes anyway), so a concurrent deactivation either sees these rows
// and holds them, or is seen and they are written as held.
// enqueueSQL locks each webhook once (FOR KEY SHARE, so a concurrent
// delete waits and then deletes these rows too) rather than once per row.
const enqueueSQL = `
WITH w AS (
    SELECT id, status FROM webhooks WHERE id IN (SELECT DISTINCT unnest($3::bigint[])) FOR KEY SHARE
)
INSERT INTO deliveries (id, panel_id, webhook_id, journey_id, run_id, item, status, next_attempt_at, created_at, updated_at,
                        run_awaits, keep_response, journey_node, contact_id, event_name)
SELECT v.id::uuid, v.panel_id, v.webhook_id, v.journey_id, v.run_id, v.item::json,
       CASE WHEN w.status = 'active' THEN 'pending' ELSE 'held' END, $7, $7, $7, v.run_awaits, v.keep_response, v.journey_node,
       v.contact_id, v.event_name
FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::uuid[], $6::text[], $8::bool[], $9::bool[], $10::text[],
            $11::bigint[], $12::text[])
     AS v(id, panel_id, webhook_id, journey_id, run_id, item, run_awaits, keep_response, journey_node, contact_id, event_name)
JOIN w ON w.id = v.webhook_id
RETURNING id, status`

// EnqueueDeliveries writes new deliveries in one statement: pending for an
// active webhook, held for one out of service. The rows must carry their
// ids, panel, webhook and item; status and times are set here, and the
// caller flushes the webhooks that got pending rows. Rows of a webhook
// deleted meanwhile are dropped, as its other deliveries were by the
// delete; their Status stays empty.
func (s *Store) EnqueueDeliveries(ctx context.Context, rows []Delivery) error {
	return s.EnqueueDeliveriesIn(ctx, s.sql, rows)
}

// EnqueueDeliveriesIn is EnqueueDeliveries within a transaction.
func (s *Store) EnqueueDeliveriesIn(ctx context.Context, q Querier, rows []Delivery) error {
	if len(rows) == 0 {
		return nil
	}
	now := s.Now()
	ids := make([]string, len(rows))
	panels, hooks := make([]int64, len(rows)), make([]int64, len(rows))
	journeys, runs := make([]*int64, len(rows)), make([]*uuid.UUID, len(rows))
	items, nodes := make([]string, len(rows)), make([]string, len(rows))
	awaits, keep := make([]bool, len(rows)), make([]bool, len(rows))
	contacts, events := make([]*int64, len(rows)), make([]string, len(rows))
	for i := range rows {
		r := &rows[i]
		ids[i], panels[i], hooks[i], journeys[i], items[i] = r.ID.String(), r.PanelID, r.WebhookID, r.JourneyID, string(r.Item)
		awaits[i], keep[i], nodes[i] = r.RunAwaits, r.KeepResponse, r.JourneyNode
		contacts[i], events[i] = r.ContactID, eventNameOf(r.EventName)
		runs[i] = r.RunID
	}
	res, err := q.QueryContext(ctx, enqueueSQL, ids, panels, hooks, journeys, runs, items, now, awaits, keep, nodes, contacts, events)
	if err != nil {
		return fmt.Errorf("models: enqueue deliveries: %w", err)
	}
	defer res.Close()
	status := make(map[uuid.UUID]DeliveryStatus, len(rows))
	for res.Next() {
		var id uuid.UUID
		var st DeliveryStatus
		if err := res.Scan(&id, &st); err != nil {
			return fmt.Errorf("models: enqueue deliveries: %w", err)
		}
		status[id] = st
	}
	if err := res.Err(); err != nil {
		return fmt.Errorf("models: enqueue deliveries: %w", err)
	}
	for i := range rows {
		r := &rows[i]
		r.Status, r.NextAttemptAt, r.CreatedAt, r.UpdatedAt = status[r.ID], now, now, now
	}
	return nil
}

// WebhookExpectation is what a writer of a webhook's deliveries assumed
// about it when it prepared the items: the webhook, its panel, and whether
// it hashes PII (the items were hashed, or not, accordingly).
type WebhookExpectation struct {
	PanelID, WebhookID int64
	HashPII            bool
}

// OutboxWrite is what EnqueueForWebhook wrote and found.
type OutboxWrite struct {
	// Status is the rows' status: pending, or held for a webhook out of
	// service.
	Status DeliveryStatus
	// BatchWaitMS is the webhook's batch window.
	BatchWaitMS int
	// Leased: a worker held the webhook's send lease when the rows were
	// written, so that worker sends them (see enqueueForWebhookSQL) and no
	// flush is needed.
	Leased bool
}

// enqueueForWebhookSQL writes one webhook's deliveries, all or none, and
// only while the webhook is as its caller expected: in that panel, with
// that hash_pii setting, and tested. That check is what lets the
// deliveries API skip loading the webhook before each request (it keeps
// what it last read): a webhook deleted, moved out of reach, re-configured
// to untested or switched to hashing PII meanwhile writes nothing, and the
// caller loads it again, so an item never goes out unhashed on a stale
// assumption.
//
// The statement also answers whether a worker holds the webhook's send
// lease, and while it does the caller need not enqueue a flush: the holder
// sends these rows, the guarantee a flush task has when it finds the lease
// held (HandleFlush), without the task. What makes it hold is a lock pair:
// the write takes the webhook's send lock (sendLockKey) shared before it
// reads the lease, and a holder letting go (releaseSQL) takes it
// exclusively, so the release waits for every write that saw the lease
// live, and the holder's look for pending rows, a statement of its own,
// sees their rows. The read after the lock is the function
// webhook_for_write (migration 00030): its statements take fresh
// snapshots, so a write that queued behind a release reads the released
// lease, where this statement's own snapshot, taken before it waited,
// would show it held. The lock is an advisory one rather than a row lock
// because PostgreSQL grants advisory locks in order: with FOR SHARE on the
// row, overlapping writes to a busy webhook kept its holder's every UPDATE
// (each batch renews the lease) waiting behind them, for seconds.
//
// A person's change of the webhook (UpdateWebhook, ActivateWebhook,
// DeactivateWebhook) locks its row FOR UPDATE before writing it, so the
// function's FOR KEY SHARE waits for it and reads what it wrote: a plain
// UPDATE of hash_pii, status or panel_id would not make it wait.
const enqueueForWebhookSQL = `
WITH w AS (
    SELECT * FROM webhook_for_write($1, $2, $3, $5)
), ins AS (
    INSERT INTO deliveries (id, panel_id, webhook_id, item, status, next_attempt_at, created_at, updated_at, event_name)
    SELECT v.id::uuid, $1, $2, v.item::json, CASE WHEN w.status = 'active' THEN 'pending' ELSE 'held' END, $5, $5, $5, v.event_name
    FROM unnest($4::text[], $6::text[], $7::text[]) AS v(id, item, event_name), w
    RETURNING 1
)
SELECT CASE WHEN w.status = 'active' THEN 'pending' ELSE 'held' END, w.batch_wait_ms, w.leased, (SELECT count(*) FROM ins)
FROM w`

// EnqueueForWebhook writes rows to one webhook's outbox, as
// EnqueueDeliveries does, provided the webhook is as expected (see
// enqueueForWebhookSQL). ok is false when it is not (deleted, another
// panel's, untested, or hash_pii otherwise): nothing was written. The
// rows must carry their ids and items; their panel and webhook are
// expect's.
func (s *Store) EnqueueForWebhook(ctx context.Context, expect WebhookExpectation, rows []Delivery) (w OutboxWrite, ok bool, err error) {
	return s.EnqueueForWebhookIn(ctx, s.sql, expect, rows)
}

// EnqueueForWebhookIn is EnqueueForWebhook within a transaction, which
// must be READ COMMITTED (the default): webhook_for_write reads the lease
// in a fresh snapshot, which a REPEATABLE READ transaction would not give
// it. The send lock is held until the transaction ends, so a holder
// letting go waits for all of it.
func (s *Store) EnqueueForWebhookIn(ctx context.Context, q Querier, expect WebhookExpectation, rows []Delivery) (w OutboxWrite, ok bool, err error) {
	if len(rows) == 0 {
		return w, false, fmt.Errorf("models: enqueue for webhook %d: no rows", expect.WebhookID)
	}
	now := s.Now()
	ids, items, events := make([]string, len(rows)), make([]string, len(rows)), make([]string, len(rows))
	for i := range rows {
		ids[i], items[i], events[i] = rows[i].ID.String(), string(rows[i].Item), eventNameOf(rows[i].EventName)
	}
	var written int
	err = q.QueryRowContext(ctx, enqueueForWebhookSQL, expect.PanelID, expect.WebhookID, expect.HashPII, ids, now, items, events).
		Scan(&w.Status, &w.BatchWaitMS, &w.Leased, &written)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return w, false, nil
	case err != nil:
		return w, false, fmt.Errorf("models: enqueue for webhook %d: %w", expect.WebhookID, err)
	case written != len(rows):
		return w, false, fmt.Errorf("models: enqueue for webhook %d: wrote %d of %d rows", expect.WebhookID, written, len(rows))
	}
	for i := range rows {
		r := &rows[i]
		r.PanelID, r.WebhookID, r.Status, r.NextAttemptAt, r.CreatedAt, r.UpdatedAt = expect.PanelID, expect.WebhookID, w.Status, now, now, now
	}
	return w, true, nil
}

// maxEventName is how much of an event's name a delivery keeps for the log.
const maxEventName = 200

// eventNameOf is an event name as the log keeps it: valid text, cut at
// maxEventName characters.
func eventNameOf(name string) string {
	if r := []rune(name); len(r) > maxEventName {
		name = string(r[:maxEventName])
	}
	return CleanText([]byte(name))
}

// DeliveryFilter narrows a listing. Zero values do not filter.
type DeliveryFilter struct {
	Status DeliveryStatus
	Since  time.Time
	Until  time.Time
	Before uuid.UUID // keyset cursor: rows older than this id
	// ID is one delivery: the log searched by its delivery_id.
	ID uuid.UUID
	// ContactID is one contact's deliveries.
	ContactID int64
	Limit     int
}

// ListDeliveries lists a webhook's deliveries, newest first, without
// their kept response bodies (Response is nil).
func (s *Store) ListDeliveries(ctx context.Context, panelID, webhookID int64, f DeliveryFilter) ([]Delivery, error) {
	q := s.db.WithContext(ctx).Where("webhook_id = ? AND panel_id = ?", webhookID, panelID)
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if !f.Since.IsZero() {
		q = q.Where("id >= ?", minIDAt(f.Since))
	}
	if !f.Until.IsZero() {
		q = q.Where("id < ?", minIDAt(f.Until))
	}
	if f.Before != uuid.Nil {
		q = q.Where("id < ?", f.Before)
	}
	if f.ID != uuid.Nil {
		q = q.Where("id = ?", f.ID)
	}
	if f.ContactID != 0 {
		q = q.Where("contact_id = ?", f.ContactID)
	}
	var out []Delivery
	// A kept response body (up to a 2xx body of a journey's step that
	// saves from it) is for the run alone: no list shows it, so it is not
	// read here.
	if err := q.Omit("response").Order("id DESC").Limit(f.Limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("models: list deliveries: %w", err)
	}
	return out, nil
}

// ReplayDeliveries sends deliveries again from the first attempt: the given
// ones (failed or delivered), or every failed one of the webhook when ids is
// empty. Replayed rows of a webhook out of service are held instead.
func (s *Store) ReplayDeliveries(ctx context.Context, panelID, webhookID int64, ids []uuid.UUID) (int64, error) {
	// $4 NULL: every failed row; else the named rows, failed or delivered.
	var named []uuid.UUID
	if len(ids) > 0 {
		named = ids
	}
	res := s.db.WithContext(ctx).Exec(`
	UPDATE deliveries SET
	    status = CASE WHEN (SELECT status FROM webhooks WHERE id = $1) = 'active' THEN 'pending' ELSE 'held' END,
	    attempts = 0, next_attempt_at = $3, last_error = '', last_status_code = 0, updated_at = $3, delivered_at = NULL
	WHERE webhook_id = $1 AND panel_id = $2
	  AND CASE WHEN $4::uuid[] IS NULL THEN status = 'failed'
	           ELSE id = ANY($4::uuid[]) AND status IN ('failed', 'delivered') END`,
		webhookID, panelID, s.Now(), named)
	if res.Error != nil {
		return 0, fmt.Errorf("models: replay deliveries: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// holdPending parks the pending rows of a webhook leaving service.
func holdPending(tx *gorm.DB, webhookID int64, now time.Time) error {
	return tx.Model(&Delivery{}).Where("webhook_id = ? AND status = ?", webhookID, DeliveryPending).
		Updates(map[string]any{"status": DeliveryHeld, "updated_at": now}).Error
}

// releaseHeld puts a webhook's held rows back in the outbox, due now, with
// their retries counted afresh (the endpoint was fixed); the claim takes
// them in id order, which is the order they were created in.
func releaseHeld(tx *gorm.DB, webhookID int64, now time.Time) (int64, error) {
	res := tx.Model(&Delivery{}).Where("webhook_id = ? AND status = ?", webhookID, DeliveryHeld).
		Updates(map[string]any{"status": DeliveryPending, "next_attempt_at": now, "updated_at": now, "attempts": 0})
	return res.RowsAffected, res.Error
}

// CountDeliveries counts a webhook's deliveries by status.
func (s *Store) CountDeliveries(ctx context.Context, webhookID int64) (map[DeliveryStatus]int64, error) {
	var rows []struct {
		Status DeliveryStatus
		N      int64
	}
	err := s.db.WithContext(ctx).Raw(`SELECT status, count(*) AS n FROM deliveries WHERE webhook_id = $1 GROUP BY status`, webhookID).
		Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("models: count deliveries: %w", err)
	}
	out := map[DeliveryStatus]int64{}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, nil
}
