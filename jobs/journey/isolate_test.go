package journey

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/jobs/queue"
	"github.com/heraldhq/herald/models"
)

// Only the event refused is set aside: one with an earlier id that commits
// between the refusal and the set-aside (a slow insert group, a replica
// whose clock is behind) is processed, not set aside in its place. (Found
// by review: the set-aside took whatever event came first.)
func TestIsolateSetsAsideTheRefusedEventNotOneThatCommittedMeanwhile(t *testing.T) {
	t.Parallel()
	b := setupEngine(t)
	ctx := context.Background()
	db := b.store.DBForTest()
	require.NoError(t, db.Exec(`CREATE SEQUENCE refusals`).Error)
	require.NoError(t, db.Exec(`CREATE TABLE refusal_gate (k int PRIMARY KEY); INSERT INTO refusal_gate VALUES (1)`).Error)
	// The event 'bad' is refused each time it is processed; on the third
	// attempt (batch, isolate, isolate's retry) the refusal waits for the gate.
	require.NoError(t, db.Exec(`CREATE FUNCTION refuse_bad() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF nextval('refusals') = 3 THEN PERFORM 1 FROM refusal_gate WHERE k = 1 FOR UPDATE; END IF;
			RAISE EXCEPTION 'bad refused' USING ERRCODE = 'check_violation';
		END $$`).Error)
	require.NoError(t, db.Exec(`CREATE TRIGGER refuse_bad BEFORE UPDATE ON events FOR EACH ROW
		WHEN (NEW.event_id = 'bad' AND NEW.contact_id IS NOT NULL) EXECUTE FUNCTION refuse_bad()`).Error)

	b.insertEvent(t, 3, "bad", "bad@example.com")

	gate, err := b.store.SQLDB().BeginTx(ctx, nil)
	require.NoError(t, err)
	_, err = gate.ExecContext(ctx, `SELECT 1 FROM refusal_gate WHERE k = 1 FOR UPDATE`)
	require.NoError(t, err)
	var gatePID int
	require.NoError(t, gate.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&gatePID))

	done := make(chan error, 1)
	go func() {
		done <- b.engine.HandleIngest(ctx, asynq.NewTask(queue.TypeIngest, fmt.Appendf(nil, `{"panel_id": %d, "part": 3}`, b.panel.ID)))
	}()
	// Wait for the third attempt to block on the gate.
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, b.store.SQLDB().QueryRowContext(ctx,
			`SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, gatePID).Scan(&n))
		return n > 0
	}, 10*time.Second, 10*time.Millisecond)

	// An innocent event, accepted a moment before 'bad', commits late.
	early := time.Now().Add(-time.Second)
	innocent := models.Event{ID: models.NewID(early), PanelID: b.panel.ID, EventID: "innocent", Source: "test", Name: "open",
		Properties: map[string]any{}, OccurredAt: early, ReceivedAt: early, Part: 3, User: &models.Identity{Email: "ok@example.com"}}
	_, err = b.store.InsertEvents(ctx, []models.Event{innocent})
	require.NoError(t, err)
	require.NoError(t, gate.Rollback())
	require.NoError(t, <-done)

	failures, _, err := b.store.EventFailures(ctx, b.panel.ID, 10)
	require.NoError(t, err)
	var aside []string
	for _, f := range failures {
		aside = append(aside, f.EventID)
	}
	require.Equal(t, []string{"bad"}, aside, "only the refused event is set aside")
}
