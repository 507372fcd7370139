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
	id := env.LiveJourney(fmt.Sprintf(abandonedCart, "1s", hook))
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
