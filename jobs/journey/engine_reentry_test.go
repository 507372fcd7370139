package journey

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A contact enters a journey again by its reentry rule: never, always, or
// after a cool-down since it last entered. (Moved from package app: no
// HTTP, no worker; the deliveries the runs wrote are counted.)
func TestReentryRules(t *testing.T) {
	t.Parallel()
	b := setupEngine(t)
	for _, tc := range []struct{ event, reentry string }{{"never", "never"}, {"always", "always"}, {"after", "after:1s"}} {
		b.live(t, fmt.Sprintf(`{"name": "%s", "reentry": "%s", "nodes": [
		  {"id": "t", "type": "trigger", "event": "%s", "next": "h"},
		  {"id": "h", "type": "webhook", "webhook_id": %%d, "custom_params": {"rule": "%s"}, "next": "s"},
		  {"id": "s", "type": "stop"}]}`, tc.event, tc.reentry, tc.event, tc.event))
	}
	send := func() {
		for _, ev := range []string{"never", "always", "after"} {
			b.ingest(t, ev, "again@x.com")
		}
	}
	count := func() map[string]int {
		var items []string
		require.NoError(t, b.store.DBForTest().Raw(`SELECT item::text FROM deliveries WHERE panel_id = $1`, b.panel.ID).
			Scan(&items).Error)
		out := map[string]int{}
		for _, raw := range items {
			var it struct {
				CustomParams struct{ Rule string } `json:"custom_params"`
			}
			require.NoError(t, json.Unmarshal([]byte(raw), &it))
			out[it.CustomParams.Rule]++
		}
		return out
	}
	send()
	send() // at once: only "always" enters again
	require.Equal(t, map[string]int{"never": 1, "always": 2, "after": 1}, count())
	b.store.Clock.Advance(2 * time.Second) // past the cool-down
	send()                                 // "after" enters again too
	require.Equal(t, map[string]int{"never": 1, "always": 3, "after": 2}, count())
}
