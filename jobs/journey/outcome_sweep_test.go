package journey

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/jobs/queue"
	"github.com/heraldhq/herald/models"
)

// The sweep for runs whose delivery settled looks through the awaiting
// runs a slice a pass, and comes round to every one: its cost does not
// grow with the runs that wait. (Found by review: every pass, every 5 s,
// joined every awaiting run with its delivery; 148 ms with 100,000 runs
// waiting on a disabled webhook, which one panel can make.)
func TestSettledAwaitsGoesThroughTheAwaitingRunsBySlices(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := setupEngine(t).store
	db := store.DBForTest()
	p, err := store.EnsurePanel(ctx, "settled_slices")
	require.NoError(t, err)
	var journeyID int64
	require.NoError(t, db.Raw(`INSERT INTO journeys (panel_id, name, status, definition, created_at, updated_at)
		VALUES ($1, 'slices', 'live', '{}', now(), now()) RETURNING id`, p.ID).Scan(&journeyID).Error)
	// 25 runs waiting on deliveries that are gone, as settled as can be.
	require.NoError(t, db.Exec(`INSERT INTO journey_runs (id, journey_id, panel_id, contact_id, status, node, state,
		started_at, updated_at, awaits_delivery)
		SELECT gen_random_uuid(), $1, $2, g, 'waiting', 'crm', '{}', now(), now() - interval '1 minute', gen_random_uuid()
		FROM generate_series(1, 25) g`, journeyID, p.ID).Error)

	seen := map[uuid.UUID]bool{}
	from := uuid.Nil
	var passes []int
	for {
		got, next, err := store.SettledAwaits(ctx, 0, from, 10, 1000)
		require.NoError(t, err)
		passes = append(passes, len(got))
		for _, a := range got {
			require.False(t, seen[a.RunID], "a run is found once a round")
			seen[a.RunID] = true
		}
		if next == uuid.Nil {
			break
		}
		from = next
	}
	require.Equal(t, []int{10, 10, 5}, passes, "three slices of at most 10")
	require.Len(t, seen, 25, "every settled run, in one round")
}

// A journey published again moves its runs whose delivery settled while it
// was paused at once, wherever the sweep's round stands.
func TestPublishMovesRunsWhoseDeliverySettledWhilePaused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupEngine(t)
	b.live(t, signUpSync)
	_, err := b.store.DeactivateWebhook(ctx, b.panel.ID, b.hook)
	require.NoError(t, err)
	b.ingest(t, "Signed Up", "ann@example.com")
	_, err = b.store.SetJourneyStatus(ctx, b.panel.ID, b.journeyID, models.JourneyPaused, nil)
	require.NoError(t, err)
	var runID string
	require.NoError(t, b.store.DBForTest().Raw(`UPDATE deliveries SET status = 'failed', updated_at = now() - interval '1 second'
		WHERE id = (SELECT awaits_delivery FROM journey_runs WHERE journey_id = $1)
		RETURNING (SELECT id::text FROM journey_runs WHERE journey_id = $1)`, b.journeyID).Scan(&runID).Error)
	require.NotEmpty(t, runID)
	// The sweep's round stands past this run: its next pass would not see it.
	b.engine.awaits.from = uuid.Max
	_, _, err = b.store.ActivateWebhook(ctx, b.panel.ID, b.hook) // publishing needs it
	require.NoError(t, err)

	_, err = b.engine.Publish(ctx, b.panel.ID, b.journeyID)
	require.NoError(t, err)
	tasks, err := b.enqueuer.Inspector.ListPendingTasks(b.namespace + ":journey")
	require.NoError(t, err)
	var asked bool
	for _, task := range tasks {
		var p queue.OutcomePayload
		if task.Type == queue.TypeOutcome {
			require.NoError(t, json.Unmarshal(task.Payload, &p))
			asked = asked || p.RunID.String() == runID
		}
	}
	require.True(t, asked, "publishing asked for the run's move")
}
