package models_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modeltest"
)

// activeHook creates an active webhook (its test recorded directly).
func activeHook(t *testing.T, store *models.Store, batch int) (*models.Panel, *models.Webhook) {
	t.Helper()
	ctx := context.Background()
	panel, err := store.EnsurePanel(ctx, "acme")
	require.NoError(t, err)
	spec := newSpec("Orders")
	spec.BatchSize = batch
	w, err := store.CreateWebhook(ctx, panel.ID, spec)
	require.NoError(t, err)
	require.NoError(t, store.RecordTest(ctx, &models.WebhookTest{PanelID: panel.ID, WebhookID: &w.ID, ConfigFP: w.ConfigFP, URL: w.URL, Passed: true, StatusCode: 200}))
	w, _, err = store.ActivateWebhook(ctx, panel.ID, w.ID)
	require.NoError(t, err)
	return panel, w
}

func enqueue(t *testing.T, store *models.Store, panel *models.Panel, w *models.Webhook, n int) []uuid.UUID {
	t.Helper()
	rows := make([]models.Delivery, n)
	ids := make([]uuid.UUID, n)
	for i := range rows {
		ids[i] = models.NewID(time.Now())
		rows[i] = models.Delivery{ID: ids[i], PanelID: panel.ID, WebhookID: w.ID, Item: json.RawMessage(`{"n":1}`)}
	}
	require.NoError(t, store.EnqueueDeliveries(context.Background(), rows))
	return ids
}

func TestConcurrentClaimsTakeOneBatchAtATime(t *testing.T) {
	t.Parallel()
	store := modeltest.Store(t)
	panel, w := activeHook(t, store, 5)
	ids := enqueue(t, store, panel, w, 12)

	var mu sync.Mutex
	var claimed [][]models.ClaimedRow
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := store.ClaimBatch(context.Background(), w.ID, w.BatchSize, time.Time{}, time.Minute)
			if !assert.NoError(t, err) { // not require: this is not the test's goroutine
				return
			}
			if len(c.Rows) > 0 {
				mu.Lock()
				claimed = append(claimed, c.Rows)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	require.Len(t, claimed, 1, "one request in flight per webhook")
	require.Len(t, claimed[0], 5)
	for i, r := range claimed[0] {
		require.Equal(t, ids[i], r.ID, "the oldest rows, in order")
		require.Equal(t, 1, r.Attempts)
	}
}

func TestCompleteNeedsTheClaimToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	panel, w := activeHook(t, store, 10)
	ids := enqueue(t, store, panel, w, 2)
	first, err := store.ClaimBatch(ctx, w.ID, w.BatchSize, time.Time{}, time.Millisecond)
	require.NoError(t, err)
	store.Clock.Advance(time.Second) // the first claim's lease runs out
	second, err := store.ClaimBatch(ctx, w.ID, w.BatchSize, time.Time{}, time.Minute)
	require.NoError(t, err)
	require.Len(t, second.Rows, 2, "an expired claim is taken over")
	require.Equal(t, 2, second.Rows[0].Attempts)

	// The first worker wakes up late and reports a failure: ignored.
	require.NoError(t, store.CompleteBatch(ctx, &models.Completion{WebhookID: w.ID, Lease: first.Lease, Failed: ids}))
	require.NoError(t, store.CompleteBatch(ctx, &models.Completion{WebhookID: w.ID, Lease: second.Lease, Delivered: ids}))
	counts, err := store.CountDeliveries(ctx, w.ID)
	require.NoError(t, err)
	require.Equal(t, map[models.DeliveryStatus]int64{models.DeliveryDelivered: 2}, counts)
}

func TestClaimWaitsForTheHeadOfTheLine(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	panel, w := activeHook(t, store, 1)
	ids := enqueue(t, store, panel, w, 2)
	c, err := store.ClaimBatch(ctx, w.ID, w.BatchSize, time.Time{}, time.Minute)
	require.NoError(t, err)
	retryAt := time.Now().Add(time.Hour)
	require.NoError(t, store.CompleteBatch(ctx, &models.Completion{WebhookID: w.ID, Lease: c.Lease, Retry: ids[:1], RetryAt: retryAt}))

	other, err := store.ClaimBatch(ctx, w.ID, w.BatchSize, time.Time{}, time.Minute)
	require.NoError(t, err)
	require.True(t, other.Busy, "the first claimer still holds the webhook")

	c, err = store.ClaimBatch(ctx, w.ID, w.BatchSize, c.Lease, time.Minute)
	require.NoError(t, err)
	require.Empty(t, c.Rows, "the newer row waits behind the one backing off")
	require.WithinDuration(t, retryAt, c.NotBefore, time.Millisecond)
}

func TestDeliveredAndClaimNeedsTheLease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, panel, w, ids, first := claimedHook(t, 2, 4, time.Minute)

	// The batch went through: record it and take the next two in one go.
	attempt := &models.Attempt{PanelID: panel.ID, WebhookID: w.ID, BatchID: "msg_1", ItemCount: 2,
		RequestHeaders: json.RawMessage(`{}`), StatusCode: 200, Outcome: models.OutcomeDelivered}
	second, err := store.DeliveredAndClaim(ctx, &models.Completion{WebhookID: w.ID, Lease: first.Lease,
		Attempt: attempt, Delivered: ids[:2]}, 2, time.Millisecond)
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{ids[2], ids[3]}, []uuid.UUID{second.Rows[0].ID, second.Rows[1].ID})
	var logged int64
	require.NoError(t, store.DBForTest().Model(&models.Attempt{}).Where("batch_id = 'msg_1' AND outcome = 'delivered'").Count(&logged).Error)
	require.EqualValues(t, 1, logged)

	store.Clock.Advance(time.Second) // the second claim's lease runs out; another worker takes over
	third, err := store.ClaimBatch(ctx, w.ID, 2, time.Time{}, time.Minute)
	require.NoError(t, err)
	require.Len(t, third.Rows, 2)

	late, err := store.DeliveredAndClaim(ctx, &models.Completion{WebhookID: w.ID, Lease: second.Lease,
		Attempt: &models.Attempt{PanelID: panel.ID, WebhookID: w.ID, BatchID: "msg_2", ItemCount: 2,
			RequestHeaders: json.RawMessage(`{}`), StatusCode: 200, Outcome: models.OutcomeDelivered},
		Delivered: ids[2:]}, 2, time.Minute)
	require.NoError(t, err)
	require.True(t, late.Busy, "the late worker neither records nor claims")
	counts, err := store.CountDeliveries(ctx, w.ID)
	require.NoError(t, err)
	require.Equal(t, map[models.DeliveryStatus]int64{models.DeliveryDelivered: 2, models.DeliveryPending: 2}, counts, "the taken-over batch stays pending with its new holder")
	requireTimeline(t, store, panel.ID, w.ID, ids[2], "msg_2")
}

// requireTimeline checks the batch ids of the requests on a delivery's
// timeline, oldest first.
func requireTimeline(t *testing.T, store *models.Store, panelID, webhookID int64, id uuid.UUID, batches ...string) {
	t.Helper()
	if batches == nil {
		batches = []string{}
	}
	d, err := store.WebhookDelivery(context.Background(), panelID, webhookID, id)
	require.NoError(t, err)
	timeline, err := store.DeliveryTimeline(context.Background(), d)
	require.NoError(t, err)
	require.Equal(t, batches, pluck(timeline, func(a models.Attempt) string { return a.BatchID }),
		"the timeline lists every request that carried the delivery")
}

// A request whose lease ran out and was taken over records nothing of its
// rows, but it carried them: it is on their timelines.
func TestCompletionAfterATakeOverJoinsTheTimeline(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, panel, w, ids, first := takenOver(t)
	attempts := func() []int {
		var out []int
		require.NoError(t, store.DBForTest().Raw(`SELECT attempts FROM deliveries WHERE webhook_id = ? ORDER BY id`, w.ID).
			Scan(&out).Error)
		return out
	}
	before := attempts()

	require.NoError(t, store.CompleteBatch(ctx, &models.Completion{WebhookID: w.ID, Lease: first.Lease, Retry: ids,
		RetryAt: store.Now().Add(time.Minute), Attempt: &models.Attempt{PanelID: panel.ID, WebhookID: w.ID, BatchID: "late",
			ItemCount: 2, RequestHeaders: json.RawMessage(`{}`), StatusCode: 500, Outcome: models.OutcomeRetry}}))
	counts, err := store.CountDeliveries(ctx, w.ID)
	require.NoError(t, err)
	require.Equal(t, map[models.DeliveryStatus]int64{models.DeliveryPending: 2}, counts)
	for _, id := range ids {
		requireTimeline(t, store, panel.ID, w.ID, id, "late")
	}
	require.Equal(t, before, attempts(), "the late request moved nothing else of the rows")
}

// The hand-over between a holder and the claimers it turns away: each
// writer inserts a row and then flushes, and a flush that finds the
// webhook busy just leaves, trusting the holder to look again before it
// lets go. With no sweep to fall back on, every row must still be sent.
func TestBusyClaimersLeaveNothingBehind(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	panel, w := activeHook(t, store, 100)
	flush := func() error {
		c, err := store.ClaimBatch(ctx, w.ID, w.BatchSize, time.Time{}, time.Minute)
		for err == nil && len(c.Rows) > 0 {
			ids := make([]uuid.UUID, len(c.Rows))
			for i, r := range c.Rows {
				ids[i] = r.ID
			}
			attempt := &models.Attempt{PanelID: panel.ID, WebhookID: w.ID, BatchID: "msg_x", ItemCount: len(ids),
				RequestHeaders: json.RawMessage(`{}`), StatusCode: 200, Outcome: models.OutcomeDelivered}
			c, err = store.DeliveredAndClaim(ctx, &models.Completion{WebhookID: w.ID, Lease: c.Lease,
				Attempt: attempt, Delivered: ids}, w.BatchSize, time.Minute)
		}
		return err
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				enqueue(t, store, panel, w, 1)
				if err := flush(); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	counts, err := store.CountDeliveries(ctx, w.ID)
	require.NoError(t, err)
	require.Equal(t, map[models.DeliveryStatus]int64{models.DeliveryDelivered: 400}, counts)
}

// rowState is a delivery's status, stored attempts and row version (xmin
// changes with every write of the row).
type rowState struct {
	Status   models.DeliveryStatus
	Attempts int
	Xmin     string
}

func stateOf(t *testing.T, store *models.Store, id uuid.UUID) rowState {
	t.Helper()
	var st rowState
	require.NoError(t, store.DBForTest().Raw(`SELECT status, attempts, xmin::text AS xmin FROM deliveries WHERE id = ?`, id).
		Scan(&st).Error)
	return st
}

// Issue 15: the lease on the webhook is the claim; its rows are written
// once, by their outcome, not by the claim too.
func TestClaimWritesNoDeliveryRow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	panel, w := activeHook(t, store, 10)
	ids := enqueue(t, store, panel, w, 3)
	before := stateOf(t, store, ids[0])

	c, err := store.ClaimBatch(ctx, w.ID, w.BatchSize, time.Time{}, time.Minute)
	require.NoError(t, err)
	require.Len(t, c.Rows, 3)
	require.Equal(t, 1, c.Rows[0].Attempts, "the request about to be made counts")
	require.Equal(t, before, stateOf(t, store, ids[0]), "the claim left the row as it was")

	require.NoError(t, store.CompleteBatch(ctx, &models.Completion{WebhookID: w.ID, Lease: c.Lease,
		Delivered: ids[:1], Retry: ids[1:2], RetryAt: time.Now().Add(time.Hour), Released: ids[2:]}))
	got := stateOf(t, store, ids[0])
	require.Equal(t, models.DeliveryDelivered, got.Status)
	require.Equal(t, 1, got.Attempts)
	got = stateOf(t, store, ids[1])
	require.Equal(t, models.DeliveryPending, got.Status)
	require.Equal(t, 1, got.Attempts, "a retry counts its attempt")
	require.Equal(t, rowState{Status: models.DeliveryPending, Xmin: before.Xmin}, stateOf(t, store, ids[2]),
		"a released row is not written at all")
}

// A worker that dies mid-request leaves its batch pending at the head of
// the line; the next claim takes it first and counts the dead request, so
// a batch that kills its workers still runs out of attempts.
func TestClaimAfterADeadWorkerCountsItsAttempt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	panel, w := activeHook(t, store, 2)
	ids := enqueue(t, store, panel, w, 3)
	dead, err := store.ClaimBatch(ctx, w.ID, 2, time.Time{}, time.Millisecond)
	require.NoError(t, err)
	require.Len(t, dead.Rows, 2)
	store.Clock.Advance(time.Second) // its lease runs out, never released

	next, err := store.ClaimBatch(ctx, w.ID, 2, time.Time{}, time.Minute)
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{ids[0], ids[1]}, []uuid.UUID{next.Rows[0].ID, next.Rows[1].ID}, "the dead batch goes first")
	require.Equal(t, 2, next.Rows[0].Attempts)
	require.Equal(t, 1, stateOf(t, store, ids[0]).Attempts, "the dead request is counted")

	attempt := &models.Attempt{PanelID: panel.ID, WebhookID: w.ID, BatchID: "msg_1", ItemCount: 2,
		RequestHeaders: json.RawMessage(`{}`), StatusCode: 200, Outcome: models.OutcomeDelivered}
	last, err := store.DeliveredAndClaim(ctx, &models.Completion{WebhookID: w.ID, Lease: next.Lease,
		Attempt: attempt, Delivered: ids[:2]}, 2, time.Minute)
	require.NoError(t, err)
	require.Len(t, last.Rows, 1)
	require.Equal(t, ids[2], last.Rows[0].ID)
	require.Equal(t, 1, last.Rows[0].Attempts, "a renewed lease is not a dead one")
	require.Equal(t, rowState{Status: models.DeliveryDelivered, Attempts: 2}, withoutXmin(stateOf(t, store, ids[0])))
}

func withoutXmin(st rowState) rowState { st.Xmin = ""; return st }

// A person deactivates the webhook while its batch is in flight: the rows
// are held with the others, and the request's outcome still counts.
func TestCompleteAfterDeactivation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	panel, w := activeHook(t, store, 10)
	ids := enqueue(t, store, panel, w, 3)
	c, err := store.ClaimBatch(ctx, w.ID, w.BatchSize, time.Time{}, time.Minute)
	require.NoError(t, err)
	require.Len(t, c.Rows, 3)
	_, err = store.DeactivateWebhook(ctx, panel.ID, w.ID)
	require.NoError(t, err)

	require.NoError(t, store.CompleteBatch(ctx, &models.Completion{WebhookID: w.ID, Lease: c.Lease,
		Delivered: ids[:1], Failed: ids[1:2], Retry: ids[2:], RetryAt: time.Now().Add(time.Hour)}))
	require.Equal(t, models.DeliveryDelivered, stateOf(t, store, ids[0]).Status)
	require.Equal(t, models.DeliveryFailed, stateOf(t, store, ids[1]).Status)
	require.Equal(t, models.DeliveryHeld, stateOf(t, store, ids[2]).Status, "a retry waits until the webhook is back")
}

// carried lists, per attempt of the webhook (oldest first), the deliveries
// it records as carried.
func carried(t *testing.T, store *models.Store, webhookID int64) [][]string {
	t.Helper()
	var lists []string
	require.NoError(t, store.DBForTest().Raw(`SELECT array_to_string(ARRAY(SELECT u::text FROM unnest(delivery_ids) u ORDER BY u), ',')
		FROM attempts WHERE webhook_id = ? ORDER BY id`, webhookID).Scan(&lists).Error)
	out := make([][]string, len(lists))
	for i, l := range lists {
		out[i] = strings.Split(l, ",")
	}
	return out
}

// idStrings are ids as text, sorted as PostgreSQL sorts uuids.
func idStrings(ids ...uuid.UUID) []string {
	out := pluck(ids, uuid.UUID.String)
	slices.Sort(out)
	return out
}

// pluck is f of each of in.
func pluck[T, U any](in []T, f func(T) U) []U {
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

// Issue 15 with the delivery log (issue 14) and contact templates (issue
// 12): a claim that writes no row still returns each row's contact, and
// every attempt records exactly the rows its request carried: not a row
// released unsent, whichever statement completes it.
func TestClaimsReturnContactsAndAttemptsRecordWhatTheyCarried(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	panel, w := activeHook(t, store, 3)
	contacts := []*int64{ptr(int64(41)), nil, ptr(int64(43)), ptr(int64(44)), nil}
	rows := make([]models.Delivery, len(contacts))
	ids := make([]uuid.UUID, len(contacts))
	for i := range rows {
		ids[i] = models.NewID(time.Now())
		rows[i] = models.Delivery{ID: ids[i], PanelID: panel.ID, WebhookID: w.ID, ContactID: contacts[i], Item: json.RawMessage(`{"n":1}`)}
	}
	require.NoError(t, store.EnqueueDeliveries(ctx, rows))
	idsOf := func(rows []models.ClaimedRow) []uuid.UUID {
		return pluck(rows, func(r models.ClaimedRow) uuid.UUID { return r.ID })
	}
	contactsOf := func(rows []models.ClaimedRow) []*int64 {
		return pluck(rows, func(r models.ClaimedRow) *int64 { return r.ContactID })
	}
	attempt := func(outcome string, n int) *models.Attempt {
		return &models.Attempt{PanelID: panel.ID, WebhookID: w.ID, BatchID: "msg_" + outcome, ItemCount: n,
			RequestHeaders: json.RawMessage(`{}`), StatusCode: 500, Outcome: outcome}
	}

	first, err := store.ClaimBatch(ctx, w.ID, w.BatchSize, time.Time{}, time.Minute)
	require.NoError(t, err)
	require.Equal(t, ids[:3], idsOf(first.Rows))
	require.Equal(t, contacts[:3], contactsOf(first.Rows), "ClaimBatch returns each row's contact")
	// The request carried the first two; the third did not fit and was released.
	require.NoError(t, store.CompleteBatch(ctx, &models.Completion{WebhookID: w.ID, Lease: first.Lease,
		Attempt: attempt(models.OutcomeFailed, 2), Delivered: ids[:1], Failed: ids[1:2], Released: ids[2:3]}))

	second, err := store.ClaimBatch(ctx, w.ID, w.BatchSize, first.Lease, time.Minute)
	require.NoError(t, err)
	require.Equal(t, ids[2:], idsOf(second.Rows))
	require.Equal(t, contacts[2:], contactsOf(second.Rows))
	require.Equal(t, 1, second.Rows[0].Attempts, "the released row's first request is this one")
	// The receiver took two; the third is retried, due again at once.
	require.NoError(t, store.CompleteBatch(ctx, &models.Completion{WebhookID: w.ID, Lease: second.Lease,
		Attempt: attempt(models.OutcomeRetry, 3), Delivered: ids[2:4], Retry: ids[4:], RetryAt: store.Now()}))

	store.Clock.Advance(time.Second)
	third, err := store.ClaimBatch(ctx, w.ID, w.BatchSize, second.Lease, time.Minute)
	require.NoError(t, err)
	require.Len(t, third.Rows, 1)
	require.Equal(t, contacts[4:], contactsOf(third.Rows))
	a := attempt(models.OutcomeDelivered, 1)
	a.StatusCode = 200
	last, err := store.DeliveredAndClaim(ctx, &models.Completion{WebhookID: w.ID, Lease: third.Lease,
		Attempt: a, Delivered: ids[4:]}, w.BatchSize, time.Minute)
	require.NoError(t, err)
	require.Empty(t, last.Rows)

	require.Equal(t, [][]string{idStrings(ids[:2]...), idStrings(ids[2:]...), idStrings(ids[4:]...)},
		carried(t, store, w.ID), "each attempt records the rows its request carried")
	d, err := store.WebhookDelivery(ctx, panel.ID, w.ID, ids[2])
	require.NoError(t, err)
	timeline, err := store.DeliveryTimeline(ctx, d)
	require.NoError(t, err)
	require.Len(t, timeline, 1, "the request that left the released row out is not on its timeline")
	require.Equal(t, models.OutcomeRetry, timeline[0].Outcome)
	// The retried row's timeline holds both its requests: the one
	// CompleteBatch recorded and the one DeliveredAndClaim did.
	d, err = store.WebhookDelivery(ctx, panel.ID, w.ID, ids[4])
	require.NoError(t, err)
	timeline, err = store.DeliveryTimeline(ctx, d)
	require.NoError(t, err)
	require.Equal(t, []string{models.OutcomeRetry, models.OutcomeDelivered},
		pluck(timeline, func(a models.Attempt) string { return a.Outcome }))
}

// A claim reads about a batch of rows, not the webhook's whole backlog,
// even when PostgreSQL's statistics were taken while the outbox was empty
// (a burst after a quiet spell): planned from those, "ORDER BY id LIMIT n"
// became a bitmap scan and sort of every pending row.
func TestClaimReadsABatchNotTheBacklog(t *testing.T) {
	t.Parallel()
	store := modeltest.Store(t)
	ctx := context.Background()
	panel, w := activeHook(t, store, 100)
	// Ten webhooks' rows interleaved, as a busy panel's outbox is: one
	// webhook's rows are spread over the table, not side by side.
	hooks := []int64{w.ID}
	for i := range 9 {
		other, err := store.CreateWebhook(ctx, panel.ID, newSpec(fmt.Sprintf("Other %d", i)))
		require.NoError(t, err)
		hooks = append(hooks, other.ID)
	}
	rows := make([]models.Delivery, 30000)
	for i := range rows {
		rows[i] = models.Delivery{ID: models.NewID(time.Now()), PanelID: panel.ID, WebhookID: hooks[i%len(hooks)],
			Item: json.RawMessage(`{"n":1}`)}
	}
	require.NoError(t, store.EnqueueDeliveries(ctx, rows))
	db := store.DBForTest()
	// The test's own statistics: no autoanalyze may refresh them midway.
	require.NoError(t, db.Exec(`ALTER TABLE deliveries SET (autovacuum_enabled = off)`).Error)
	// Statistics taken when a few rows were pending, after a quiet spell.
	require.NoError(t, db.Exec(`UPDATE deliveries SET status = 'delivered' WHERE id NOT IN
		(SELECT id FROM deliveries WHERE webhook_id = ? ORDER BY id LIMIT 30)`, w.ID).Error)
	require.NoError(t, db.Exec(`ANALYZE deliveries`).Error)
	require.NoError(t, db.Exec(`UPDATE deliveries SET status = 'pending' WHERE webhook_id = ?`, w.ID).Error)
	first, next, err := store.ClaimRowsReadForTest(ctx, w.ID, 100)
	require.NoError(t, err)
	t.Logf("rows read: claim %d, delivered-and-claim %d", first, next)
	require.Positive(t, first, "the claim found its batch")
	require.LessOrEqual(t, first, 300, "a claim of 100 rows read %d rows of a 3,000-row backlog", first)
	require.Positive(t, next, "the next claim found its batch")
	require.LessOrEqual(t, next, 600, "a delivered-and-claim of 100 rows read %d rows of a 3,000-row backlog", next)
}

// A claim planned while the outbox was empty still reads about a batch
// once it has filled: PostgreSQL settles on a generic plan after a few
// executions and keeps it until the table is analyzed, and a plan made
// for an empty table may scan it whole (a join back to the claimed rows
// did: 47 ms a claim under 30,000 rows). The claim walks the index and
// carries its rows, so no plan of it scans the table.
func TestClaimPlannedOnAnEmptyOutboxStaysSmall(t *testing.T) {
	t.Parallel()
	store := modeltest.Store(t)
	ctx := context.Background()
	panel, w := activeHook(t, store, 10)
	read, err := store.ClaimRowsReadPlannedEmptyForTest(ctx, w.ID, 10, outboxOf(panel.ID, w.ID, 0, 5000))
	require.NoError(t, err)
	t.Logf("rows read: %d", read)
	require.Positive(t, read, "the claim found its batch")
	require.LessOrEqual(t, read, 40, "a claim of 10 rows planned on an empty outbox read %d of 5,000 rows", read)
}

// Recording a batch reads the batch, not the webhook's history, under a
// plan made while the outbox was empty. Such a plan found the delivered
// rows by the webhook (its index holds every delivery it ever had) and
// filtered them by id: under load each one-row delivered-and-claim read
// the webhook's whole history, growing with every delivery.
func TestRecordingABatchPlannedOnAnEmptyOutboxReadsTheBatch(t *testing.T) {
	t.Parallel()
	store := modeltest.Store(t)
	ctx := context.Background()
	panel, w := activeHook(t, store, 10)
	dac, complete, err := store.CompletionRowsReadPlannedEmptyForTest(ctx, panel.ID, w.ID, 10, outboxOf(panel.ID, w.ID, 5000, 30))
	require.NoError(t, err)
	t.Logf("rows read: delivered-and-claim %d, complete %d", dac, complete)
	require.Positive(t, dac, "delivered-and-claim found its batch")
	require.LessOrEqual(t, dac, 60, "delivered-and-claim of 10 rows read %d rows of a webhook with 5,000 delivered", dac)
	require.Positive(t, complete, "complete found its batch")
	// completeSQL records only batches not wholly delivered and finds its
	// rows by id: under such a plan it may read the table (logged above).
}

// A row a person held while its request ran (the webhook deactivated) is
// recorded all the same, even when the hold commits while the recording
// statement waits for the row: the statement finds such a row by id once
// its address no longer leads to it.
func TestRecordingABatchFollowsARowHeldMeanwhile(t *testing.T) {
	t.Parallel()
	record := map[string]func(store *models.Store, c *models.Completion) error{
		"delivered-and-claim": func(store *models.Store, c *models.Completion) error {
			_, err := store.DeliveredAndClaim(context.Background(), c, 10, time.Minute)
			return err
		},
		"complete": func(store *models.Store, c *models.Completion) error {
			return store.CompleteBatch(context.Background(), c)
		},
		// The same rows carried by two requests recorded together: the
		// held row is the first request's.
		"delivered-all-and-claim": func(store *models.Store, c *models.Completion) error {
			_, err := store.DeliveredAllAndClaim(context.Background(), splitDelivered(c), models.Sizes{Batch: 1, Claim: 10}, time.Minute)
			return err
		},
	}
	for name, record := range record {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			store, panel, w, ids, claim := twoClaimed(t)
			db := store.DBForTest()
			hold := db.Begin()
			require.NoError(t, hold.Exec(`UPDATE deliveries SET status = 'held' WHERE id = ?`, ids[0]).Error)
			done := make(chan error, 1)
			go func() {
				done <- record(store, &models.Completion{WebhookID: w.ID, Lease: claim.Lease, Delivered: ids,
					Attempt: &models.Attempt{PanelID: panel.ID, WebhookID: w.ID, BatchID: "b", ItemCount: 2,
						RequestHeaders: json.RawMessage(`{}`), StatusCode: 200, Outcome: models.OutcomeDelivered}})
			}()
			// The recording statement waits for the held row's lock.
			require.Eventually(t, func() bool {
				var waiting int
				db.Raw(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
					AND query LIKE '%INSERT INTO attempts%'`).Scan(&waiting)
				return waiting > 0
			}, 10*time.Second, 5*time.Millisecond)
			require.NoError(t, hold.Commit().Error)
			require.NoError(t, <-done)
			var statuses []string
			require.NoError(t, db.Raw(`SELECT status FROM deliveries WHERE id IN (?, ?) ORDER BY id`, ids[0], ids[1]).
				Scan(&statuses).Error)
			require.Equal(t, []string{"delivered", "delivered"}, statuses)
			if name == "delivered-all-and-claim" {
				requireTimeline(t, store, panel.ID, w.ID, ids[0], "b1")
				requireTimeline(t, store, panel.ID, w.ID, ids[1], "b2")
			}
		})
	}
}

// splitDelivered makes one completion per row of c, as if each row had
// gone in a request of its own: batch ids b1, b2, ...
func splitDelivered(c *models.Completion) []*models.Completion {
	out := make([]*models.Completion, len(c.Delivered))
	for i, id := range c.Delivered {
		a := *c.Attempt
		a.BatchID, a.ItemCount = fmt.Sprintf("b%d", i+1), 1
		out[i] = &models.Completion{WebhookID: c.WebhookID, Lease: c.Lease, Delivered: []uuid.UUID{id}, Attempt: &a}
	}
	return out
}

// Several requests made from one claim are recorded in one statement, each
// row with the request that carried it: its attempt, status code, time and
// kept response, and each attempt with its own rows. The next claim
// follows, as with one request.
func TestDeliveredAllAndClaimRecordsEachRequestWithItsOwn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	panel, w := activeHook(t, store, 1)
	ids := enqueue(t, store, panel, w, 5)
	db := store.DBForTest()
	require.NoError(t, db.Exec(`UPDATE deliveries SET keep_response = true WHERE id = ?`, ids[1]).Error)
	claim, err := store.ClaimBatch(ctx, w.ID, 3, time.Time{}, time.Minute)
	require.NoError(t, err)
	require.Len(t, claim.Rows, 3)

	sentAt := store.Now().Add(-time.Minute).Truncate(time.Microsecond)
	var done []*models.Completion
	for i, r := range claim.Rows {
		done = append(done, &models.Completion{WebhookID: w.ID, Lease: claim.Lease, Delivered: []uuid.UUID{r.ID},
			Response: []byte(fmt.Sprintf("answer %d", i+1)), Health: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i+1)),
			Attempt: &models.Attempt{PanelID: panel.ID, WebhookID: w.ID, BatchID: fmt.Sprintf("b%d", i+1), ItemCount: 1,
				RequestHeaders: json.RawMessage(`{}`), StatusCode: 200 + i, LatencyMS: 10 + i, Outcome: models.OutcomeDelivered,
				CreatedAt: sentAt.Add(time.Duration(i) * time.Second)}})
	}
	next, err := store.DeliveredAllAndClaim(ctx, done, models.Sizes{Batch: 1, Claim: 3}, time.Minute)
	require.NoError(t, err)
	require.Equal(t, ids[3:], pluck(next.Rows, func(r models.ClaimedRow) uuid.UUID { return r.ID }))

	for i, id := range ids[:3] {
		requireTimeline(t, store, panel.ID, w.ID, id, fmt.Sprintf("b%d", i+1))
		var row struct {
			Status         string
			LastStatusCode int
			DeliveredAt    time.Time
			Response       *string
			BatchID        string
			CreatedAt      time.Time
			LatencyMS      int
			DeliveryIDs    string
		}
		require.NoError(t, db.Raw(`SELECT d.status, d.last_status_code, d.delivered_at, d.response, a.batch_id, a.created_at,
				a.latency_ms, a.delivery_ids::text AS delivery_ids
			FROM deliveries d JOIN attempts a ON a.id = d.last_attempt_id WHERE d.id = ?`, id).Scan(&row).Error)
		require.Equal(t, "delivered", row.Status)
		require.Equal(t, 200+i, row.LastStatusCode)
		require.Equal(t, fmt.Sprintf("b%d", i+1), row.BatchID)
		require.Equal(t, 10+i, row.LatencyMS)
		require.Equal(t, "{"+id.String()+"}", row.DeliveryIDs, "each attempt lists the rows it carried")
		when := sentAt.Add(time.Duration(i) * time.Second)
		require.True(t, row.CreatedAt.Equal(when), "the attempt keeps the time of its request: %v", row.CreatedAt)
		require.True(t, row.DeliveredAt.Equal(when), "delivered when its request was: %v", row.DeliveredAt)
		if i == 1 {
			require.NotNil(t, row.Response)
			require.Equal(t, "answer 2", *row.Response, "a kept response is the one of the row's own request")
		} else {
			require.Nil(t, row.Response)
		}
	}
	var health string
	require.NoError(t, db.Raw(`SELECT health::text FROM webhooks WHERE id = ?`, w.ID).Scan(&health).Error)
	require.JSONEq(t, `{"n":3}`, health, "the webhook's health is the last request's")
}

// A late request's record never waits for a row the worker that took the
// lease over has locked: it skips that row's timeline instead. (Waiting
// could deadlock with the new holder, which locks its rows in its own
// order, and cost it the record of a batch it sent.)
func TestALateRequestSkipsRowsTheNewHolderHolds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, panel, w, ids, first := takenOver(t)

	// The new holder is recording ids[1]: its statement holds the row.
	db := store.DBForTest()
	holder := db.Begin()
	require.NoError(t, holder.Exec(`SELECT 1 FROM deliveries WHERE id = ? FOR UPDATE`, ids[1]).Error)
	defer holder.Rollback()
	// Waiting for that row would hang here; a deadline turns a wait into
	// a failure instead.
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, store.CompleteBatch(wctx, &models.Completion{WebhookID: w.ID, Lease: first.Lease, Retry: ids,
		RetryAt: store.Now().Add(time.Minute), Attempt: &models.Attempt{PanelID: panel.ID, WebhookID: w.ID, BatchID: "late",
			ItemCount: 2, RequestHeaders: json.RawMessage(`{}`), StatusCode: 500, Outcome: models.OutcomeRetry}}))
	requireTimeline(t, store, panel.ID, w.ID, ids[0], "late")
	requireTimeline(t, store, panel.ID, w.ID, ids[1])
}

// claimedHook is a webhook of batch_size batch with pending rows (their
// ids), whose first batch a worker claimed for lease: that claim.
func claimedHook(t *testing.T, batch, pending int, lease time.Duration) (*models.Store, *models.Panel, *models.Webhook, []uuid.UUID, *models.Claim) {
	t.Helper()
	store := modeltest.Store(t)
	panel, w := activeHook(t, store, batch)
	ids := enqueue(t, store, panel, w, pending)
	first, err := store.ClaimBatch(context.Background(), w.ID, batch, time.Time{}, lease)
	require.NoError(t, err)
	require.Len(t, first.Rows, min(batch, pending))
	return store, panel, w, ids, first
}

// takenOver is a webhook whose batch of two rows a first worker claimed
// and, once that lease ran out, a second worker took over: it returns
// the first worker's (stale) claim.
func takenOver(t *testing.T) (*models.Store, *models.Panel, *models.Webhook, []uuid.UUID, *models.Claim) {
	t.Helper()
	store, panel, w, ids, first := claimedHook(t, 2, 2, time.Millisecond)
	store.Clock.Advance(time.Second)
	second, err := store.ClaimBatch(context.Background(), w.ID, 2, time.Time{}, time.Minute)
	require.NoError(t, err)
	require.Len(t, second.Rows, 2, "another worker took the batch over")
	return store, panel, w, ids, first
}

// outboxOf fills a webhook's outbox inside a measuring transaction:
// delivered rows first (its history), then pending ones, all due.
func outboxOf(panelID, webhookID int64, delivered, pending int) func(q models.Querier) error {
	return func(q models.Querier) error {
		_, err := q.ExecContext(context.Background(), `INSERT INTO deliveries (id, panel_id, webhook_id, item, status,
				next_attempt_at, created_at, updated_at)
			SELECT gen_random_uuid(), $1, $2, '{}', CASE WHEN g <= $3::int THEN 'delivered' ELSE 'pending' END,
			       now() - interval '1 minute', now(), now()
			FROM generate_series(1, $3::int + $4::int) g`, panelID, webhookID, delivered, pending)
		return err
	}
}

// A claim of several requests' worth of rows takes the due rows at the
// head and stops at the first row waiting out a backoff: the rows behind
// it do not overtake it, whether the claim follows a record or not.
func TestAClaimStopsAtARowWaitingOutItsBackoff(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	panel, w := activeHook(t, store, 1)
	ids := enqueue(t, store, panel, w, 4)
	waiting := store.Now().Add(time.Hour)
	require.NoError(t, store.DBForTest().Exec(`UPDATE deliveries SET next_attempt_at = ? WHERE id = ?`, waiting, ids[2]).Error)
	size := models.Sizes{Batch: 1, Claim: 16}
	claim, err := store.ClaimRequests(ctx, w.ID, size, time.Time{}, time.Minute)
	require.NoError(t, err)
	require.Equal(t, ids[:2], pluck(claim.Rows, func(r models.ClaimedRow) uuid.UUID { return r.ID }))

	next, err := store.DeliveredAllAndClaim(ctx, splitDelivered(&models.Completion{WebhookID: w.ID, Lease: claim.Lease,
		Delivered: ids[:1], Attempt: &models.Attempt{PanelID: panel.ID, WebhookID: w.ID, RequestHeaders: json.RawMessage(`{}`),
			StatusCode: 200, Outcome: models.OutcomeDelivered}}), size, time.Minute)
	require.NoError(t, err)
	require.Equal(t, ids[1:2], pluck(next.Rows, func(r models.ClaimedRow) uuid.UUID { return r.ID }),
		"after a record too, the claim stops at the waiting row")
}

// After a holder of several requests' worth of rows died, which of its
// requests was out is not known: the next claim takes one request's rows
// and charges them the dead request, not the whole claim's; the claim
// after it takes several again, charging nothing.
func TestAClaimAfterADeadHolderTakesOneRequest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	panel, w := activeHook(t, store, 1)
	ids := enqueue(t, store, panel, w, 5)
	size := models.Sizes{Batch: 1, Claim: 16}
	dead, err := store.ClaimRequests(ctx, w.ID, size, time.Time{}, time.Millisecond)
	require.NoError(t, err)
	require.Len(t, dead.Rows, 5)
	store.Clock.Advance(time.Second)

	first, err := store.ClaimRequests(ctx, w.ID, size, time.Time{}, time.Minute)
	require.NoError(t, err)
	require.Equal(t, ids[:1], pluck(first.Rows, func(r models.ClaimedRow) uuid.UUID { return r.ID }))
	require.Equal(t, 2, first.Rows[0].Attempts, "the dead request counts, and the one about to be made")
	for i, id := range ids {
		require.Equal(t, map[bool]int{true: 1, false: 0}[i == 0], stateOf(t, store, id).Attempts, "row %d charged only if first", i)
	}
	next, err := store.ClaimRequests(ctx, w.ID, size, first.Lease, time.Minute)
	require.NoError(t, err)
	require.Len(t, next.Rows, 5, "the holder that follows claims several requests' worth again")
	require.Equal(t, 1, next.Rows[1].Attempts, "charging nothing")
}

// A record call that fails after its statement recorded says so, with the
// lease the worker still holds: here the webhook left service during the
// request, so the statement recorded the rows without renewing the lease,
// and letting the old one go failed (cancelled while it waited for a
// write under the send lock). Releasing the lease the error names frees
// the webhook.
func TestAFailureAfterTheRecordNamesTheLeaseStillHeld(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, panel, w, ids, claim := twoClaimed(t)
	db := store.DBForTest()
	require.NoError(t, db.Exec(`UPDATE webhooks SET status = 'inactive' WHERE id = ?`, w.ID).Error)
	hold := db.Begin()
	t.Cleanup(func() { hold.Rollback() })
	require.NoError(t, hold.Exec(`SELECT pg_advisory_xact_lock_shared(-(?::bigint))`, w.ID).Error)

	done := make(chan error, 1)
	go func() {
		_, err := store.DeliveredAndClaim(ctx, &models.Completion{WebhookID: w.ID, Lease: claim.Lease, Delivered: ids,
			Attempt: &models.Attempt{PanelID: panel.ID, WebhookID: w.ID, BatchID: "b", ItemCount: 2,
				RequestHeaders: json.RawMessage(`{}`), StatusCode: 200, Outcome: models.OutcomeDelivered}}, 10, time.Minute)
		done <- err
	}()
	var pid int
	require.Eventually(t, func() bool {
		require.NoError(t, db.Raw(`SELECT coalesce(max(pid), 0) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'
			  AND query LIKE 'UPDATE webhooks SET send_lease_until = NULL%'`).Scan(&pid).Error)
		return pid != 0
	}, 10*time.Second, 5*time.Millisecond, "the release waiting")
	require.NoError(t, db.Exec(`SELECT pg_cancel_backend(?)`, pid).Error)
	err := <-done
	require.NoError(t, hold.Rollback().Error)

	var after *models.AfterRecordError
	require.ErrorAs(t, err, &after)
	require.ErrorIs(t, err, models.ErrAfterRecord)
	require.True(t, claim.Lease.Equal(after.Lease), "the lease kept (%v), not the one the statement would have taken (%v)",
		claim.Lease, after.Lease)
	var statuses []string
	require.NoError(t, db.Raw(`SELECT status FROM deliveries WHERE id IN (?, ?)`, ids[0], ids[1]).Scan(&statuses).Error)
	require.Equal(t, []string{"delivered", "delivered"}, statuses, "recorded")
	_, err = store.ReleaseWebhook(ctx, w.ID, after.Lease)
	require.NoError(t, err)
	var free bool
	require.NoError(t, db.Raw(`SELECT send_lease_until IS NULL FROM webhooks WHERE id = ?`, w.ID).Scan(&free).Error)
	require.True(t, free)
}

// twoClaimed is a store with an active webhook (batches of 10) and two of
// its rows claimed under a lease of a minute.
func twoClaimed(t *testing.T) (*models.Store, *models.Panel, *models.Webhook, []uuid.UUID, *models.Claim) {
	t.Helper()
	store := modeltest.Store(t)
	panel, w := activeHook(t, store, 10)
	ids := enqueue(t, store, panel, w, 2)
	claim, err := store.ClaimBatch(context.Background(), w.ID, w.BatchSize, time.Time{}, time.Minute)
	require.NoError(t, err)
	require.Len(t, claim.Rows, 2)
	return store, panel, w, ids, claim
}
