package models_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modeltest"
)

func TestParseDeliveryIDs(t *testing.T) {
	t.Parallel()
	a, b := models.NewID(time.Now()), models.NewID(time.Now())
	for _, tc := range []struct {
		name string
		in   []string
		want []uuid.UUID
		bad  string // the message of the ValidationError, "" when parsed
	}{
		{name: "none", in: nil, want: []uuid.UUID{}},
		{name: "two, in order", in: []string{models.DeliveryID(b), models.DeliveryID(a)}, want: []uuid.UUID{b, a}},
		{name: "no prefix", in: []string{models.DeliveryID(a), "01ARZ3NDEKTSV4RRFFQ69G5FAV"},
			bad: `"01ARZ3NDEKTSV4RRFFQ69G5FAV" is not a delivery id (dlv_...)`},
		{name: "not a ULID", in: []string{"dlv_nope"}, bad: `"dlv_nope" is not a delivery id (dlv_...)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := models.ParseDeliveryIDs(tc.in)
			if tc.bad == "" {
				require.NoError(t, err)
				require.Equal(t, tc.want, got)
				return
			}
			var ve *models.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, "delivery_id", ve.Field)
			require.Equal(t, tc.bad, ve.Message)
		})
	}
}

// A list of deliveries never carries the response bodies kept for journey
// runs: the row has one, the listed delivery does not.
func TestListDeliveriesLeavesTheKeptResponseOut(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	panel, err := store.EnsurePanel(ctx, "kept_response")
	require.NoError(t, err)
	w, err := store.CreateWebhook(ctx, panel.ID, newSpec("Scoring"))
	require.NoError(t, err)
	body := `{"score": 87}`
	now := time.Now()
	d := models.Delivery{ID: models.NewID(now), PanelID: panel.ID, WebhookID: w.ID, Item: json.RawMessage(`{}`),
		Status: models.DeliveryDelivered, KeepResponse: true, Response: &body, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
	require.NoError(t, store.DBForTest().Create(&d).Error)

	got, err := store.ListDeliveries(ctx, panel.ID, w.ID, models.DeliveryFilter{Limit: 10})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, d.ID, got[0].ID)
	require.Equal(t, models.DeliveryDelivered, got[0].Status)
	require.True(t, got[0].KeepResponse)
	require.Nil(t, got[0].Response)
}

// hookRows are n API rows for w, not yet written.
func hookRows(w *models.Webhook, n int) []models.Delivery {
	rows := make([]models.Delivery, n)
	for i := range rows {
		rows[i] = models.Delivery{ID: models.NewID(time.Now()), Item: json.RawMessage(`{"n":1}`), EventName: "open"}
	}
	return rows
}

// A webhook's rows are written only while it is as the writer expected:
// the deliveries API prepares items from what it last read of the webhook,
// and this check is what keeps a stale read from writing anything.
func TestEnqueueForWebhookWritesOnlyForTheWebhookExpected(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		change string // run on the webhook row ($1: its id) before writing
		expect func(panel *models.Panel, w *models.Webhook) models.WebhookExpectation
		want   *models.OutboxWrite // nil: nothing written
	}{
		{name: "as expected", want: &models.OutboxWrite{Status: models.DeliveryPending, BatchWaitMS: 1000}},
		{name: "out of service", change: `UPDATE webhooks SET status = 'inactive' WHERE id = $1`,
			want: &models.OutboxWrite{Status: models.DeliveryHeld, BatchWaitMS: 1000}},
		{name: "held by a worker", change: `UPDATE webhooks SET send_lease_until = now() + interval '1 minute' WHERE id = $1`,
			want: &models.OutboxWrite{Status: models.DeliveryPending, BatchWaitMS: 1000, Leased: true}},
		{name: "lease run out", change: `UPDATE webhooks SET send_lease_until = now() - interval '1 second' WHERE id = $1`,
			want: &models.OutboxWrite{Status: models.DeliveryPending, BatchWaitMS: 1000}},
		{name: "now hashing PII", change: `UPDATE webhooks SET hash_pii = true WHERE id = $1`},
		{name: "untested again", change: `UPDATE webhooks SET status = 'untested' WHERE id = $1`},
		{name: "deleted", change: `DELETE FROM webhooks WHERE id = $1`},
		{name: "another panel's", expect: func(_ *models.Panel, w *models.Webhook) models.WebhookExpectation {
			return models.WebhookExpectation{PanelID: w.PanelID + 1000, WebhookID: w.ID}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			store := modeltest.Store(t)
			panel, w := activeHook(t, store, 1)
			if tc.change != "" {
				require.NoError(t, store.DBForTest().Exec(tc.change, w.ID).Error)
			}
			expect := models.WebhookExpectation{PanelID: panel.ID, WebhookID: w.ID}
			if tc.expect != nil {
				expect = tc.expect(panel, w)
			}
			rows := hookRows(w, 2)
			got, ok, err := store.EnqueueForWebhook(ctx, expect, rows)
			require.NoError(t, err)
			var written int64
			require.NoError(t, store.DBForTest().Raw(`SELECT count(*) FROM deliveries WHERE id IN (?, ?)`, rows[0].ID, rows[1].ID).
				Scan(&written).Error)
			if tc.want == nil {
				require.False(t, ok)
				require.Zero(t, written)
				return
			}
			require.True(t, ok)
			require.Equal(t, *tc.want, got)
			require.EqualValues(t, 2, written)
			listed, err := store.ListDeliveries(ctx, panel.ID, w.ID, models.DeliveryFilter{Limit: 10})
			require.NoError(t, err)
			require.Len(t, listed, 2)
			for _, d := range listed {
				require.Equal(t, tc.want.Status, d.Status)
				require.Equal(t, "open", d.EventName)
				require.JSONEq(t, `{"n":1}`, string(d.Item))
			}
		})
	}
}

// Rows written while a worker holds the webhook need no flush because the
// holder, letting go, waits for them and then finds them: its release
// waits for the write's lock, and its look for pending rows comes after.
func TestAReleaseFindsRowsWrittenUnderTheLease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	panel, w := activeHook(t, store, 1)
	lease := store.Now().Add(time.Minute).Truncate(time.Microsecond)
	require.NoError(t, store.DBForTest().Exec(`UPDATE webhooks SET send_lease_until = ? WHERE id = ?`, lease, w.ID).Error)

	type released struct {
		pending bool
		err     error
	}
	done := make(chan released, 1)
	err := store.InTx(ctx, func(q models.Querier) error {
		writeUnderLease(t, store, q, panel, w)
		go func() {
			pending, err := store.ReleaseWebhook(ctx, w.ID, lease)
			done <- released{pending, err}
		}()
		// The holder's release waits for the write to commit, or it
		// finished without waiting, which is the failure.
		require.True(t, waitingOrDone(t, store, "UPDATE webhooks SET send_lease_until = NULL", done),
			"the release did not wait for the write")
		return nil
	})
	require.NoError(t, err)
	r := <-done
	require.NoError(t, r.err)
	require.True(t, r.pending, "the holder, letting go, finds the row written under its lease")
}

// waitingOrDone waits until a statement starting with prefix waits for a
// lock, and reports true; or until done has a value first, which it puts
// back, and reports false.
func waitingOrDone[T any](t *testing.T, store *models.Store, prefix string, done chan T) bool {
	t.Helper()
	for {
		select {
		case r := <-done:
			done <- r
			return false
		default:
		}
		var waiting int
		require.NoError(t, store.DBForTest().Raw(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
			AND wait_event_type = 'Lock' AND ltrim(query) LIKE ?`, prefix+"%").Scan(&waiting).Error)
		if waiting > 0 {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// holding is a webhook with pending one-row batches, the first of them
// claimed: its holder's claim.
func holding(t *testing.T, pending int) (*models.Store, *models.Panel, *models.Webhook, *models.Claim) {
	t.Helper()
	store, panel, w, _, first := claimedHook(t, 1, pending, time.Minute)
	return store, panel, w, first
}

// writeUnderLease writes one row through q, the deliveries API's way, and
// checks that it saw the webhook held.
func writeUnderLease(t *testing.T, store *models.Store, q models.Querier, panel *models.Panel, w *models.Webhook) []models.Delivery {
	t.Helper()
	rows := hookRows(w, 1)
	got, ok, err := store.EnqueueForWebhookIn(context.Background(), q, models.WebhookExpectation{PanelID: panel.ID, WebhookID: w.ID}, rows)
	require.NoError(t, err)
	require.True(t, ok)
	require.True(t, got.Leased, "the writer sees the holder")
	return rows
}

// claimed is what a claiming call returned.
type claimed struct {
	c   *models.Claim
	err error
}

// recordAside records the one-row batch of claim c as delivered, and
// claims the next, on another goroutine; the channel gets the answer.
func recordAside(store *models.Store, panel *models.Panel, w *models.Webhook, c *models.Claim) chan claimed {
	out := make(chan claimed, 1)
	go func() {
		next, err := store.DeliveredAndClaim(context.Background(), deliveredOne(panel, w, c), 1, time.Minute)
		out <- claimed{next, err}
	}()
	return out
}

// deliveredOne is the completion of a one-row batch the receiver took.
func deliveredOne(panel *models.Panel, w *models.Webhook, c *models.Claim) *models.Completion {
	return &models.Completion{WebhookID: w.ID, Lease: c.Lease, Delivered: []uuid.UUID{c.Rows[0].ID},
		Attempt: &models.Attempt{PanelID: panel.ID, WebhookID: w.ID, BatchID: "b", ItemCount: 1,
			RequestHeaders: json.RawMessage(`{}`), StatusCode: 200, Outcome: models.OutcomeDelivered}}
}

// A write under the lease does not hold up the holder: recording a batch
// and claiming the next (which renews the lease, an UPDATE of the webhook
// row) goes on while the write is in flight. A share lock on the webhook
// row made it wait for every such write, and overlapping writes to a busy
// webhook kept it waiting for seconds.
func TestAWriteUnderTheLeaseDoesNotHoldUpTheHolder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, panel, w, first := holding(t, 2)
	require.NoError(t, store.InTx(ctx, func(q models.Querier) error {
		writeUnderLease(t, store, q, panel, w)
		// The write stays open until the holder is through.
		hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		next, err := store.DeliveredAndClaim(hctx, deliveredOne(panel, w, first), 1, time.Minute)
		require.NoError(t, err, "the holder waited for the write")
		require.Len(t, next.Rows, 1)
		return nil
	}))
}

// A holder with nothing left to send lets go only after the writes that
// saw its lease (and so enqueued no flush) are in: its release waits for
// them, and it finds their rows and claims them.
func TestAHolderLettingGoClaimsAWriteInFlight(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, panel, w, first := holding(t, 1)
	var written []models.Delivery
	var done chan claimed
	require.NoError(t, store.InTx(ctx, func(q models.Querier) error {
		written = writeUnderLease(t, store, q, panel, w)
		done = recordAside(store, panel, w, first)
		require.True(t, waitingOrDone(t, store, "UPDATE webhooks SET send_lease_until = NULL", done),
			"the holder let go without waiting for the write")
		return nil
	}))
	r := <-done
	require.NoError(t, r.err)
	require.Len(t, r.c.Rows, 1, "the holder claims the row written under its lease")
	require.Equal(t, written[0].ID, r.c.Rows[0].ID)
}

// A holder that finds its webhook out of service when it records a batch
// lets the webhook go; another worker's lease it leaves alone.
func TestAHolderTurnedAwayByDeactivationLetsGo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		change   string // run on the webhook row ($1: its id) while the request is out
		wantFree bool
	}{
		{name: "deactivated", change: `UPDATE webhooks SET status = 'inactive' WHERE id = $1`, wantFree: true},
		{name: "taken over", change: `UPDATE webhooks SET send_lease_until = now() + interval '5 minutes', send_seq = send_seq + 1 WHERE id = $1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			store, panel, w, first := holding(t, 2)
			require.NoError(t, store.DBForTest().Exec(tc.change, w.ID).Error)
			next, err := store.DeliveredAndClaim(ctx, deliveredOne(panel, w, first), 1, time.Minute)
			require.NoError(t, err)
			require.Empty(t, next.Rows)
			var free bool
			require.NoError(t, store.DBForTest().Raw(`SELECT send_lease_until IS NULL FROM webhooks WHERE id = ?`, w.ID).Scan(&free).Error)
			require.Equal(t, tc.wantFree, free)
		})
	}
}

// waitForLock waits until n sessions wait for a lock in a statement that
// contains what.
func waitForLock(t *testing.T, store *models.Store, what string, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		var waiting int
		require.NoError(t, store.DBForTest().Raw(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
			AND wait_event_type = 'Lock' AND query LIKE ?`, "%"+what+"%").Scan(&waiting).Error)
		return waiting >= n
	}, 10*time.Second, 5*time.Millisecond, "no statement with %q waits for a lock", what)
}

// A write that began while the holder was letting go, and queued behind
// its release for the send lock, reads the lease as released: the holder
// has looked for pending rows already, so the write must enqueue a flush.
// (Read in the statement's own snapshot, taken before it waited, the lease
// still looked held.) Found by review.
func TestAWriteQueuedBehindAReleaseSeesItReleased(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, panel, w, first := holding(t, 1)

	// A write on a stale assumption (hash_pii) takes the send lock shared,
	// writes nothing, and stays open until released.
	stale, staleGo, staleErr := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		staleErr <- store.InTx(ctx, func(q models.Querier) error {
			_, ok, err := store.EnqueueForWebhookIn(ctx, q, models.WebhookExpectation{PanelID: panel.ID, WebhookID: w.ID, HashPII: true}, hookRows(w, 1))
			if err == nil && ok {
				err = errors.New("the stale write wrote")
			}
			close(stale)
			<-staleGo
			return err
		})
	}()
	<-stale

	// The holder's last batch is delivered; nothing is left, so it lets go
	// (waiting for the stale write) and looks for pending rows.
	holder := recordAside(store, panel, w, first)
	waitForLock(t, store, "UPDATE webhooks SET send_lease_until = NULL", 1)

	// A write arriving now queues behind the release.
	written := make(chan models.OutboxWrite, 1)
	writeErr := make(chan error, 1)
	go func() {
		got, ok, err := store.EnqueueForWebhook(ctx, models.WebhookExpectation{PanelID: panel.ID, WebhookID: w.ID}, hookRows(w, 1))
		if err == nil && !ok {
			err = errors.New("the write wrote nothing")
		}
		written <- got
		writeErr <- err
	}()
	waitForLock(t, store, "webhook_for_write", 1)

	close(staleGo)
	require.NoError(t, <-staleErr)
	h := <-holder
	require.NoError(t, h.err) // it may have found the write's row too, if that came in before it looked
	require.NoError(t, <-writeErr)
	require.False(t, (<-written).Leased, "the write saw the lease its holder had let go")
}

// Writes and a holder letting go at about the same time, many times over:
// no write reports the webhook held once its holder has let go. Each round
// starts the two together, the write a little later each time, to land on
// every part of the release; the count of rounds is what finds a window.
func TestWritesRacingAReleaseLeaveNothingBehind(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, panel, w, c := holding(t, 1)
	expect := models.WebhookExpectation{PanelID: panel.ID, WebhookID: w.ID}
	left := 0
	for i := range 400 {
		holder := recordAside(store, panel, w, c)
		time.Sleep(time.Duration(i%20) * 50 * time.Microsecond) // the offset, not a wait for anything
		got, ok, err := store.EnqueueForWebhook(ctx, expect, hookRows(w, 1))
		require.NoError(t, err)
		require.True(t, ok)
		h := <-holder
		require.NoError(t, h.err)
		if len(h.c.Rows) > 0 { // the holder took the written row: it sends that next
			c = h.c
			continue
		}
		var held bool
		require.NoError(t, store.DBForTest().Raw(`SELECT send_lease_until IS NOT NULL FROM webhooks WHERE id = ?`, w.ID).Scan(&held).Error)
		if got.Leased && !held {
			left++
		}
		c, err = store.ClaimBatch(ctx, w.ID, 1, time.Time{}, time.Minute)
		require.NoError(t, err)
		require.Len(t, c.Rows, 1)
	}
	require.Zero(t, left, "rounds whose write saw the webhook held after its holder let go, so no flush was enqueued")
}

// Disabling a webhook lets its lease go, and so it waits, like a release,
// for the writes that saw the lease held: it holds their rows with the
// others. Found by review: it left them pending on a disabled webhook.
func TestDisablingWaitsForAWriteUnderTheLease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, panel, w, first := holding(t, 1)
	disabled := make(chan error, 1)
	var written []models.Delivery
	require.NoError(t, store.InTx(ctx, func(q models.Querier) error {
		written = writeUnderLease(t, store, q, panel, w)
		go func() {
			_, err := store.DisableWebhook(ctx, w.ID, first.Lease, json.RawMessage(`{}`))
			disabled <- err
		}()
		require.True(t, waitingOrDone(t, store, "SELECT pg_advisory_xact_lock(", disabled), "disabling did not wait for the write")
		return nil
	}))
	require.NoError(t, <-disabled)
	require.Equal(t, models.DeliveryHeld, stateOf(t, store, written[0].ID).Status)
}

// The deliveries API's write settles on a generic plan, planned once per
// connection rather than on every call: the function it calls says it
// returns one row (ROWS 1). Without that, the planner's guess of 1,000
// rows kept every call on a custom plan (about 80 µs of planning). Found by
// review.
func TestTheAPIWriteIsPlannedOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	panel, w := activeHook(t, store, 1)
	require.NoError(t, store.InTx(ctx, func(q models.Querier) error { // one connection throughout
		for range 8 {
			_, ok, err := store.EnqueueForWebhookIn(ctx, q, models.WebhookExpectation{PanelID: panel.ID, WebhookID: w.ID}, hookRows(w, 1))
			require.NoError(t, err)
			require.True(t, ok)
		}
		var generic int
		require.NoError(t, q.QueryRowContext(ctx, `SELECT coalesce(sum(generic_plans), 0) FROM pg_prepared_statements
			WHERE statement LIKE '%webhook_for_write%'`).Scan(&generic))
		// PostgreSQL plans the first five calls for their parameters, then
		// keeps to the generic plan if it costs no more: calls 6 to 8.
		require.GreaterOrEqual(t, generic, 3, "calls after the fifth planned afresh")
		return nil
	}))
}
