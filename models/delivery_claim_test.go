package models_test

import (
	"context"
	"encoding/json"
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
	store := modeltest.Store(t)
	panel, w := activeHook(t, store, 2)
	ids := enqueue(t, store, panel, w, 4)
	first, err := store.ClaimBatch(ctx, w.ID, 2, time.Time{}, time.Minute)
	require.NoError(t, err)
	require.Len(t, first.Rows, 2)

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
