package journey

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestExplainEntry(t *testing.T) {
	t.Parallel()
	d := parse(t, cartJourney)
	cart := &Event{Name: "Added to Cart", At: t0}
	india := &Contact{Attributes: map[string]any{"COUNTRY": "India"}}
	nowhere := &Contact{Attributes: map[string]any{}}
	re24h, _ := ParseReentry("after:24h")
	for _, tc := range []struct {
		name    string
		q       EntryQuestion
		entered bool
		reason  string
	}{
		{name: "enters", q: EntryQuestion{Event: cart, Contact: contact, Live: true, At: t0},
			entered: true, reason: "the trigger and every filter matched"},
		{name: "paused journey", q: EntryQuestion{Event: cart, Contact: contact, Status: "paused", At: t0},
			reason: "the journey is paused: it takes no entries"},
		{name: "wrong event", q: EntryQuestion{Event: &Event{Name: "Viewed"}, Contact: contact, Live: true, At: t0},
			reason: `wrong event: the journey starts on "Added to Cart", this was "Viewed"`},
		{name: "filter failed", q: EntryQuestion{Event: cart, Contact: india, Live: true, At: t0},
			reason: `filter COUNTRY eq "Canada" failed: the contact's COUNTRY is "India"`},
		{name: "filter on a missing attribute", q: EntryQuestion{Event: cart, Contact: nowhere, Live: true, At: t0},
			reason: `filter COUNTRY eq "Canada" failed: the contact's COUNTRY is not set`},
		{name: "re-entry within the period", q: EntryQuestion{Event: cart, Contact: contact, Live: true, Reentry: re24h,
			LastEntry: t0.Add(-time.Hour), At: t0},
			reason: "re-entry rule: a contact may enter again 24h0m0s after the last entry (2022-12-02T14:48:05Z)"},
		{name: "re-entry after the period", q: EntryQuestion{Event: cart, Contact: contact, Live: true, Reentry: re24h,
			LastEntry: t0.Add(-25 * time.Hour), At: t0}, entered: true, reason: "the trigger and every filter matched"},
		{name: "enters once", q: EntryQuestion{Event: cart, Contact: contact, Live: true, LastEntry: t0.Add(-time.Hour), At: t0},
			reason: "re-entry rule: a contact enters this journey once, and this one entered at 2022-12-02T14:48:05Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := d.ExplainEntry(tc.q)
			require.Equal(t, EntryAnswer{Entered: tc.entered, Reason: tc.reason}, got)
			triggerFails := strings.HasPrefix(tc.reason, "wrong") || strings.HasPrefix(tc.reason, "filter")
			require.Equal(t, !triggerFails, d.StartsOn(tc.q.Event, tc.q.Contact), "the same trigger check as the engine's")
		})
	}
	channel := parse(t, `{"name": "x", "nodes": [{"id": "t", "type": "trigger", "event": "open", "channel": "email", "next": "s"},
	  {"id": "s", "type": "stop"}]}`)
	require.Equal(t, `wrong channel: the journey wants "email", this came on "sms"`,
		channel.ExplainEntry(EntryQuestion{Event: &Event{Name: "open", Channel: "sms"}, Contact: contact, Live: true}).Reason)
}

func TestStepPasses(t *testing.T) {
	t.Parallel()
	d := parse(t, cartJourney)
	cart := &Event{Name: "Added to Cart", At: t0}
	var st State
	step := d.Enter(&st, cart, contact, env(t0))
	require.Equal(t, []Pass{{Node: "start", Entered: true, Exit: ExitNext}, {Node: "wait", Entered: true}}, step.Passes)
	step = d.Resume(&st, "wait", nil, contact, env(t0))
	require.Equal(t, []Pass{{Node: "wait", Exit: ExitTimeout}, {Node: "hook", Entered: true, Exit: ExitNext},
		{Node: "end", Entered: true}}, step.Passes)
	require.Equal(t, "hook", step.Fires[0].Node)
	var st2 State
	d.Enter(&st2, cart, contact, env(t0))
	step = d.Resume(&st2, "wait", &Event{Name: "Placed Order", At: t0}, contact, env(t0))
	require.Equal(t, []Pass{{Node: "wait", Exit: ExitHappened}, {Node: "end", Entered: true}}, step.Passes)
}
