package ui

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/jobs/journey"
	"github.com/heraldhq/herald/models"
)

func TestChannelName(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]string{"email": "Email", "sms": "SMS", "apn": "iOS push", "bpn": "Web push",
		"whatsapp": "WhatsApp", "rcs": "RCS", "APN": "iOS push", "fax": "fax"} {
		t.Run(code, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, want, channelName(code))
		})
	}
}

// The wait's "happened" exit goes down, "timeout" to the right; a stop two
// rows down is joined by a straight line past the empty cell.
func TestCanvasGrid(t *testing.T) {
	t.Parallel()
	d := cart(t)
	require.Equal(t, map[string][2]int{"start": {0, 0}, "wait": {1, 0}, "hook": {2, 1}, "end": {3, 0}, "orphan": {4, 0}},
		canvasGrid(d))
	loop := &journey.Definition{Nodes: []journey.Node{
		{ID: "t", Type: journey.TypeTrigger, Event: "x", Next: "w"},
		{ID: "w", Type: journey.TypeWait, Event: "y", Within: "1h", Happened: "w", Timeout: "s"},
		{ID: "s", Type: journey.TypeStop}}}
	require.Equal(t, map[string][2]int{"t": {0, 0}, "w": {1, 0}, "s": {2, 1}}, canvasGrid(loop), "a loop back does not push rows down")
}

func TestCanvasLayoutCounts(t *testing.T) {
	t.Parallel()
	stats := map[string]*models.NodeStats{
		"wait": {Entered: 2, Waiting: 1, Exits: map[string]int64{"happened": 1, "timeout": 0}},
		"hook": {Entered: 1, Sent: 1, Failed: 2, Held: 3, Exits: map[string]int64{"next": 1}},
	}
	cv := canvasLayout(9, cart(t), stats, stepNames{assets: map[int64]string{7: "CRM"}})
	heads := map[string]string{}
	for _, n := range cv.Nodes {
		heads[n.ID] = n.Head
	}
	require.Equal(t, map[string]string{"start": "Trigger: Added to Cart", "wait": "Wait for event: Placed Order",
		"hook": "Webhook: “CRM”", "end": "Stop", "orphan": "Send a message: “x” by SMS"}, heads, "steps named as the drop-downs name them, not by id")
	texts := map[string][]string{}
	for _, n := range cv.Nodes {
		for _, l := range n.Lines {
			texts[n.ID] = append(texts[n.ID], l.Text+" → "+l.Href)
		}
	}
	require.Equal(t, []string{"2 entered → /journeys/9/runs?node=wait", "1 waiting now → /journeys/9/runs?node=wait&status=waiting"}, texts["wait"])
	require.Equal(t, []string{"1 entered → /journeys/9/runs?node=hook", "1 sent → /webhooks/7?status=delivered#logs",
		"2 failed · 3 held → /webhooks/7?status=failed#logs"}, texts["hook"])
	var labels []string
	for _, e := range cv.Edges {
		labels = append(labels, e.Label)
	}
	require.Equal(t, []string{"then · 0", "happened · 1", "timed out · 0", "then · 1", "then · 0"}, labels)
}
