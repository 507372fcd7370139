package delivery

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modeltest"
)

// The requests of a panel that arrive while its write runs are written
// together, in one statement (their rows share the statement's time), and
// each gets its own answer: a request whose webhook is not as it expected
// writes nothing and fails no other.
func TestWriteGroupsWriteAPanelsWaitingRequestsTogether(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	panel, err := store.EnsurePanel(ctx, "write_groups")
	require.NoError(t, err)
	spec := models.DefaultWebhookSpec()
	spec.Label, spec.URL = "First", "http://127.0.0.1:9/hook"
	first := modeltest.ActiveWebhook(t, store, panel, spec)
	spec.Label = "Second"
	second := modeltest.ActiveWebhook(t, store, panel, spec)
	write := func(w *models.Webhook, hashPII bool) models.WebhookWrite {
		return models.WebhookWrite{Expect: models.WebhookExpectation{PanelID: panel.ID, WebhookID: w.ID, HashPII: hashPII},
			Rows: []models.Delivery{{ID: models.NewID(time.Now()), Item: json.RawMessage(`{"n":1}`), EventName: "open"}}}
	}

	// Something holds the first webhook's send lock exclusively (as a
	// worker letting go does): the first write waits for it, and the
	// writes that come meanwhile queue up behind it.
	db := store.SQLDB()
	hold, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = hold.Rollback() })
	_, err = hold.ExecContext(ctx, `SELECT pg_advisory_xact_lock(-$1::bigint)`, first.ID)
	require.NoError(t, err)

	var g WriteGroups
	writes := []models.WebhookWrite{write(first, false), write(second, false), write(first, true), write(second, false)}
	out, errs := make([]models.WrittenFor, len(writes)), make([]error, len(writes))
	var wg sync.WaitGroup
	start := func(i int) {
		wg.Go(func() { out[i], errs[i] = g.write(ctx, store, writes[i]) })
	}
	start(0)
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&n))
		return n > 0
	}, 10*time.Second, 5*time.Millisecond, "the first write waits for the lock")
	for i := 1; i < len(writes); i++ {
		start(i)
	}
	require.Eventually(t, func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return len(g.panels[panel.ID].queue) == 3
	}, 10*time.Second, time.Millisecond, "the other writes queue up")
	require.NoError(t, hold.Rollback())
	wg.Wait()

	for i, err := range errs {
		require.NoError(t, err, "write %d", i)
	}
	require.True(t, out[0].OK && out[1].OK && out[3].OK)
	require.False(t, out[2].OK, "the write expecting hash_pii, which the webhook does not have, writes nothing")
	var stamps []time.Time
	for _, i := range []int{0, 1, 3} {
		var at time.Time
		require.NoError(t, db.QueryRowContext(ctx, `SELECT created_at FROM deliveries WHERE id = $1`, writes[i].Rows[0].ID).Scan(&at))
		stamps = append(stamps, at)
	}
	require.True(t, stamps[1].Equal(stamps[2]), "the queued writes went in one statement")
	require.False(t, stamps[0].Equal(stamps[1]), "after the first one's")
	var stale int
	require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM deliveries WHERE id = $1`, writes[2].Rows[0].ID).Scan(&stale))
	require.Zero(t, stale)
	g.mu.Lock()
	require.Empty(t, g.panels, "an idle panel's queue is let go")
	g.mu.Unlock()
}
