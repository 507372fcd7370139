package app_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
)

type nodeStats struct {
	Entered, Waiting, Sent, Failed, Held int64
	Exits                                map[string]int64
}

func journeyStats(t *testing.T, env *apptest.Env, id int64) map[string]nodeStats {
	t.Helper()
	var out struct{ Nodes map[string]nodeStats }
	code, raw := env.Call("GET", fmt.Sprintf("/api/v1/journeys/%d/stats", id), nil, &out)
	require.Equal(t, http.StatusOK, code, raw)
	return out.Nodes
}

// The stats count what the runs did at each step: one contact orders in
// time, one does not and the webhook fires for them.
func TestJourneyStats(t *testing.T) {
	t.Parallel()
	env, recv, key, hook := journeyEnv(t, apptest.Options{})
	// A wait of 3 s: the waiting runs are counted before it ends, which a
	// wait of 1 s did not leave time for on a loaded machine (it flaked).
	id := env.LiveJourney(fmt.Sprintf(abandonedCart, "3s", hook))
	before := journeyStats(t, env, id)
	require.Equal(t, nodeStats{Exits: map[string]int64{"happened": 0, "timeout": 0}}, before["wait"], "every step, zeros included")
	require.Equal(t, nodeStats{Exits: map[string]int64{}}, before["end"])

	cart := func(email string) map[string]any {
		return map[string]any{"event": "Added to Cart", "user": map[string]any{"email": email}}
	}
	ingestOK(t, env, key, cart("leaves@example.com"))
	ingestOK(t, env, key, cart("buys@example.com"))
	env.WaitRuns(id, "waiting", 2)
	require.Equal(t, int64(2), journeyStats(t, env, id)["wait"].Waiting)
	ingestOK(t, env, key, map[string]any{"event": "Placed Order", "user": map[string]any{"email": "buys@example.com"}})
	env.WaitRuns(id, "completed", 2)
	recv.WaitFor(t, 10*time.Second, "the abandoned-cart webhook", func() bool { return len(recv.Delivered()) == 1 })
	require.Eventually(t, func() bool { return journeyStats(t, env, id)["hook"].Sent == 1 }, 10*time.Second, 20*time.Millisecond,
		"the delivery is recorded as delivered")

	got := journeyStats(t, env, id)
	require.Equal(t, map[string]nodeStats{
		"start": {Entered: 2, Exits: map[string]int64{"next": 2}},
		"wait":  {Entered: 2, Exits: map[string]int64{"happened": 1, "timeout": 1}},
		"hook":  {Entered: 1, Sent: 1, Exits: map[string]int64{"next": 1}},
		"end":   {Entered: 2, Exits: map[string]int64{}},
	}, got)

	// Another panel's journey is not found.
	other := env.TokenFor("other-panel")
	code, _ := env.CallAs(other, "GET", fmt.Sprintf("/api/v1/journeys/%d/stats", id), nil, nil)
	require.Equal(t, http.StatusNotFound, code)
}

// The builder and the stats stay fast with 10,000 runs and 100,000
// deliveries in a journey: each count is one indexed aggregate.
func TestJourneyStatsAtScale(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	recv := apptest.NewReceiver(t)
	hook := env.ActiveWebhook("Journey Webhook", recv.URL, nil)
	id := env.LiveJourney(fmt.Sprintf(abandonedCart, "30m", hook))
	db := env.Store.DBForTest()
	require.NoError(t, db.Exec(`INSERT INTO journey_runs (id, journey_id, panel_id, contact_id, status, node, state, started_at, updated_at)
		SELECT gen_random_uuid(), $1, $2, g, CASE WHEN g % 4 = 0 THEN 'waiting' ELSE 'completed' END,
		       CASE WHEN g % 4 = 0 THEN 'wait' ELSE 'end' END, '{}', now(), now()
		FROM generate_series(1, 10000) g`, id, env.Panel.ID).Error)
	require.NoError(t, db.Exec(`INSERT INTO deliveries (id, panel_id, webhook_id, journey_id, journey_node, item, status,
		       next_attempt_at, created_at, updated_at)
		SELECT gen_random_uuid(), $2, $3, $1, 'hook', '{}', CASE WHEN g % 10 = 0 THEN 'failed' ELSE 'delivered' END, now(), now(), now()
		FROM generate_series(1, 100000) g`, id, env.Panel.ID, hook).Error)
	require.NoError(t, db.Exec(`INSERT INTO journey_node_counts (journey_id, node, counter, shard, n) VALUES
		($1, 'start', 'entered', 0, 10000), ($1, 'wait', 'entered', 3, 10000)`, id).Error)
	start := time.Now()
	journeyStats(t, env, id)
	coldTook := time.Since(start)
	// As autovacuum leaves them: the counts become index-only scans.
	require.NoError(t, db.Exec(`VACUUM ANALYZE journey_runs`).Error)
	require.NoError(t, db.Exec(`VACUUM ANALYZE deliveries`).Error)

	start = time.Now()
	got := journeyStats(t, env, id)
	statsTook := time.Since(start)
	require.Equal(t, int64(2500), got["wait"].Waiting)
	require.Equal(t, int64(90000), got["hook"].Sent)
	require.Equal(t, int64(10000), got["hook"].Failed)
	require.Equal(t, int64(10000), got["start"].Entered)

	env.User(uiEmail, uiPassword)
	ui := env.SignIn(uiEmail, uiPassword)
	start = time.Now()
	res := ui.Get(fmt.Sprintf("/journeys/%d", id))
	pageTook := time.Since(start)
	require.Equal(t, http.StatusOK, res.Status)
	require.Contains(t, res.Body, "90000 sent")
	require.Contains(t, res.Body, "2500 waiting now")
	// The figures are for the note and make bench's readers, not a
	// threshold: a timed assertion fails on a loaded machine, not on slow code.
	t.Logf("10,000 runs, 100,000 deliveries: stats API %s just after the inserts, %s vacuumed; builder page %s",
		coldTook, statsTook, pageTook)
}

// A webhook node that branches on its delivery counts its outcome exits:
// the endpoint answers 200 for one contact and 500 for the other (no
// retries), and each run leaves by its exit.
func TestJourneyStatsCountOutcomeExits(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	crm := apptest.NewReceiver(t)
	crm.Answer = func(_ int, r *apptest.Request) apptest.Answer {
		if !r.Test && len(r.Items) == 1 && r.Items[0]["att_params"].(map[string]any)["EMAIL"] == "down@example.com" {
			return apptest.Answer{Status: http.StatusInternalServerError}
		}
		return apptest.Answer{Status: http.StatusOK}
	}
	hook := env.ActiveWebhook("CRM", crm.URL, map[string]any{"batch_wait_ms": 0, "batch_size": 1, "max_attempts": 1})
	id := env.LiveJourney(fmt.Sprintf(`{"name": "Branch on outcome", "reentry": "always", "nodes": [
	  {"id": "start", "type": "trigger", "event": "Signed Up", "next": "crm"},
	  {"id": "crm", "type": "webhook", "webhook_id": %d, "att_params": ["EMAIL"], "delivered": "synced", "failed": "gave_up"},
	  {"id": "synced", "type": "stop"},
	  {"id": "gave_up", "type": "stop"}]}`, hook))
	require.Equal(t, nodeStats{Exits: map[string]int64{"delivered": 0, "failed": 0}}, journeyStats(t, env, id)["crm"],
		"the outcome exits, zeros included, and no next")

	key := env.IngestKey()
	for _, email := range []string{"up@example.com", "down@example.com"} {
		ingestOK(t, env, key, map[string]any{"event": "Signed Up", "user": map[string]any{"email": email}})
	}
	env.WaitRuns(id, "completed", 2)
	require.Equal(t, map[string]nodeStats{
		"start":   {Entered: 2, Exits: map[string]int64{"next": 2}},
		"crm":     {Entered: 2, Sent: 1, Failed: 1, Exits: map[string]int64{"delivered": 1, "failed": 1}},
		"synced":  {Entered: 1, Exits: map[string]int64{}},
		"gave_up": {Entered: 1, Exits: map[string]int64{}},
	}, journeyStats(t, env, id))
}
