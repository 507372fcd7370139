package journey

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/jobs/queue"
	"github.com/heraldhq/herald/models"
)

// The move of a run is not lost with its task: a delivery that settled
// (here failed, written as a completion would, with no task enqueued, as
// when the worker dies between its commit and the enqueue) is found by the
// journey sweep, whose outcome task moves the waiting run along "failed".
// (Moved from package app: no HTTP, no worker; the test runs the tasks.)
func TestJourneyWebhookOutcomeSurvivesLostTask(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupEngine(t)
	b.live(t, signUpSync)
	// Out of service: the delivery is held and the run waits for it.
	_, err := b.store.DeactivateWebhook(ctx, b.panel.ID, b.hook)
	require.NoError(t, err)

	b.ingest(t, "Signed Up", "ann@example.com")
	var run struct {
		Status, Node   string
		AwaitsDelivery *uuid.UUID
	}
	readRun := func() {
		t.Helper()
		require.NoError(t, b.store.DBForTest().Raw(`SELECT status, node, awaits_delivery FROM journey_runs WHERE journey_id = $1`,
			b.journeyID).Scan(&run).Error)
	}
	readRun()
	require.Equal(t, "waiting", run.Status)
	require.Equal(t, "crm", run.Node)
	require.NotNil(t, run.AwaitsDelivery)
	var status models.DeliveryStatus
	require.NoError(t, b.store.DBForTest().Raw(`SELECT status FROM deliveries WHERE id = $1`, *run.AwaitsDelivery).Scan(&status).Error)
	require.Equal(t, models.DeliveryHeld, status)

	require.NoError(t, b.store.DBForTest().Exec(`UPDATE deliveries SET status = 'failed', updated_at = now() - interval '1 second'
		WHERE id = $1`, *run.AwaitsDelivery).Error)
	require.NoError(t, b.engine.SweepRuns(ctx, 0))
	tasks, err := b.enqueuer.Inspector.ListPendingTasks(b.namespace + ":journey")
	require.NoError(t, err)
	var outcomes int
	for _, task := range tasks {
		if task.Type == queue.TypeOutcome {
			outcomes++
			require.NoError(t, b.engine.HandleOutcome(ctx, asynq.NewTask(task.Type, task.Payload)))
		}
	}
	require.Equal(t, 1, outcomes, "the sweep asked for the run's move once")
	readRun()
	require.Equal(t, "completed", run.Status)
	require.Equal(t, "gave_up", run.Node)
}
