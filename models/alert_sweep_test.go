package models_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models/modeltest"
)

// 25 panels whose alerts can never go out (a recipient the mail server
// refuses), 20 old unsent alerts each, do not fill the sweep's 500 for
// good: it takes every panel's oldest before any panel's second oldest, so
// a 26th panel's newer alert, whose task was lost, is swept. (Found by
// review: it took the 500 lowest ids of all panels.)
func TestAlertSweepTwentyFivePanelsDoNotHideATwentySixth(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	db := store.DBForTest()
	for i := range 25 {
		p, err := store.EnsurePanel(ctx, fmt.Sprintf("stuck%d", i))
		require.NoError(t, err)
		w, err := store.CreateWebhook(ctx, p.ID, newSpec("Stuck"))
		require.NoError(t, err)
		require.NoError(t, db.Exec(`INSERT INTO alerts (panel_id, webhook_id, state, details, created_at)
			SELECT ?, ?, 'disabled', '{}', now() - interval '1 day' FROM generate_series(1, 20)`, p.ID, w.ID).Error)
	}
	victim, err := store.EnsurePanel(ctx, "victim")
	require.NoError(t, err)
	w, err := store.CreateWebhook(ctx, victim.ID, newSpec("Victim"))
	require.NoError(t, err)
	id, err := store.QueueAlert(ctx, victim.ID, w.ID, "disabled", map[string]any{})
	require.NoError(t, err)
	store.Clock.Advance(time.Minute)

	ids, err := store.UnsentAlerts(ctx, 30*time.Second)
	require.NoError(t, err)
	require.Len(t, ids, 500)
	require.True(t, slices.Contains(ids, id), "the victim panel's alert is in the sweep")
}
