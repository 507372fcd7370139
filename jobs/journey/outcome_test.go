package journey

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// scoringJourney waits at its webhook node for the outcome and saves the
// score; the node after it sends the score on.
const scoringJourney = `{"name": "Lead scoring", "nodes": [
  {"id": "start", "type": "trigger", "event": "Signed Up", "next": "score"},
  {"id": "score", "type": "webhook", "webhook_id": 7, "save": [{"path": "data.score", "attribute": "SCORE"}],
   "delivered": "tell", "failed": "end_failed"},
  {"id": "tell", "type": "webhook", "webhook_id": 7, "att_params": ["SCORE"], "next": "end"},
  {"id": "end", "type": "stop"},
  {"id": "end_failed", "type": "stop"}]}`

func TestWalkWaitsAtWebhookNodeWithOutcome(t *testing.T) {
	t.Parallel()
	d := parse(t, scoringJourney)
	require.Empty(t, d.CheckPublish(map[int64]Asset{7: {Label: "Cart Webhook", Active: true, BatchSize: 1}}))
	var st State
	step := d.Enter(&st, &Event{Name: "Signed Up", At: t0}, contact, env(t0))
	require.True(t, step.AwaitsOutcome)
	require.False(t, step.Waiting, "no timer: the delivery's completion moves it")
	require.Equal(t, "score", step.Node)
	require.Len(t, step.Fires, 1)
	require.True(t, step.Fires[0].Awaited)
	require.True(t, step.Fires[0].KeepResponse)
	require.Equal(t, []Pass{{Node: "start", Entered: true, Exit: ExitNext}, {Node: "score", Entered: true}}, step.Passes,
		"the run stays at the node: no exit counted yet")
}

func TestAfterDelivery(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		journey   string
		node      string
		outcome   Outcome
		wantNode  string
		wantSaved map[string]any
		wantFires int
		wantSent  any // SCORE as the next node's item carries it
		wantNote  string
		wantEnded string
		wantExit  string // the webhook node's exit as counted
	}{
		{name: "delivered with a score", journey: scoringJourney, node: "score",
			outcome:  Outcome{Delivered: true, Response: []byte(`{"data": {"score": 87}}`)},
			wantNode: "end", wantSaved: map[string]any{"SCORE": jsonNumber("87")}, wantFires: 1, wantSent: jsonNumber("87"),
			wantExit: ExitDelivered},
		{name: "delivered, field absent", journey: scoringJourney, node: "score",
			outcome:  Outcome{Delivered: true, Response: []byte(`{"data": {}}`)},
			wantNode: "end", wantFires: 1, wantNote: "data.score"},
		{name: "delivered, not JSON", journey: scoringJourney, node: "score",
			outcome:  Outcome{Delivered: true, Response: []byte(`<html>ok</html>`)},
			wantNode: "end", wantFires: 1, wantNote: "not JSON"},
		{name: "delivered, no body kept", journey: scoringJourney, node: "score",
			outcome: Outcome{Delivered: true}, wantNode: "end", wantFires: 1, wantNote: "no response body"},
		{name: "failed for good", journey: scoringJourney, node: "score",
			outcome: Outcome{Response: []byte(`{"data": {"score": 87}}`)}, wantNode: "end_failed", wantExit: ExitFailed},
		{name: "failed, no failed exit: next", journey: `{"name": "j", "nodes": [
		  {"id": "start", "type": "trigger", "event": "e", "next": "hook"},
		  {"id": "hook", "type": "webhook", "webhook_id": 7, "delivered": "yes", "next": "no"},
		  {"id": "yes", "type": "stop"}, {"id": "no", "type": "stop"}]}`, node: "hook",
			outcome: Outcome{}, wantNode: "no", wantExit: ExitNext},
		{name: "node gone", journey: scoringJourney, node: "elsewhere", outcome: Outcome{Delivered: true},
			wantNode: "elsewhere", wantEnded: "no longer has the webhook node"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := parse(t, tc.journey)
			var st State
			step := d.AfterDelivery(&st, tc.node, tc.outcome, contact, env(t0))
			require.Equal(t, tc.wantNode, step.Node)
			require.Equal(t, tc.wantSaved, nilIfEmptyMap(step.Saved))
			require.Len(t, step.Fires, tc.wantFires)
			if tc.wantSent != nil {
				require.Equal(t, tc.wantSent, step.Fires[0].Item.AttParams["SCORE"])
			}
			if tc.wantNote == "" {
				require.Empty(t, step.SaveNote)
			} else {
				require.Contains(t, step.SaveNote, tc.wantNote)
			}
			require.Contains(t, step.Reason, tc.wantEnded)
			if tc.wantExit != "" {
				require.Equal(t, Pass{Node: tc.node, Exit: tc.wantExit}, step.Passes[0])
			}
			require.NotContains(t, contact.Attributes, "SCORE", "the caller's contact is left alone")
		})
	}
}

func TestSaveFromResponse(t *testing.T) {
	t.Parallel()
	rules := []SaveRule{{Path: "data.score", Attribute: "SCORE"}, {Path: "items.1.id", Attribute: "SECOND"}, {Path: "tags", Attribute: "TAGS"}}
	for _, tc := range []struct {
		name, body string
		want       map[string]any
		note       string
	}{
		{"every field", `{"data": {"score": 12345678901234567890}, "items": [{"id": "a"}, {"id": "b"}], "tags": ["x"]}`,
			map[string]any{"SCORE": jsonNumber("12345678901234567890"), "SECOND": "b", "TAGS": []any{"x"}}, ""},
		{"null is saved", `{"data": {"score": null}}`, map[string]any{"SCORE": nil}, "items.1.id, tags"},
		{"a NUL is not", `{"data": {"score": "a\u0000b"}, "tags": {"k\u0000": 1}}`, map[string]any{}, "data.score, items.1.id, tags"},
		// jsonb would write it out as 131,001 digits on every read of the
		// contact (found by review).
		{"a number written out far longer", `{"data": {"score": 1e131000}, "items": [0, {"id": 1e1000}], "tags": [1e1000, 1e1000, 1e1000, 1e1000, 1e1000]}`,
			map[string]any{"SECOND": jsonNumber("1e1000")}, "data.score, tags"},
		{"not an object", `[1, 2]`, nil, "not a JSON object"},
		{"two documents", `{} {}`, nil, "not JSON"},
		{"empty", ``, nil, "not JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, note := SaveFromResponse(rules, []byte(tc.body))
			require.Equal(t, tc.want, got)
			if tc.note == "" {
				require.Empty(t, note)
			} else {
				require.Contains(t, note, tc.note)
			}
		})
	}
}

// The values saved from one answer share one budget for what their
// numbers add written out: each rule had its own, so twenty rules naming
// one field saved twenty times as much (found by review).
func TestSaveFromResponseSharesOneNumberBudget(t *testing.T) {
	t.Parallel()
	var rules []SaveRule
	for i := range 20 {
		rules = append(rules, SaveRule{Path: "a", Attribute: fmt.Sprintf("A%d", i)})
	}
	saved, note := SaveFromResponse(rules, []byte(`{"a": [1e1000]}`))
	require.Equal(t, map[string]any{"A0": []any{jsonNumber("1e1000")}}, saved)
	require.Contains(t, note, "a, a")
}

func TestCheckOutcome(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, hook string
		want       string // "node.field: ..." of the first problem; "" for none
	}{
		{"both exits, no next", `"delivered": "end", "failed": "end"`, ""},
		{"save alone needs next", `"save": [{"path": "a", "attribute": "A"}]`, "hook.next"},
		{"save and next", `"save": [{"path": "a.b-c.0", "attribute": "a_b"}], "next": "end"`, ""},
		{"unknown exit", `"delivered": "nope", "failed": "end"`, "hook.delivered"},
		{"exit to the trigger", `"delivered": "start", "failed": "end"`, "hook.delivered"},
		{"empty path", `"save": [{"path": " ", "attribute": "A"}], "next": "end"`, "hook.save[0].path"},
		{"path with spaces", `"save": [{"path": "a b", "attribute": "A"}], "next": "end"`, "hook.save[0].path"},
		{"path too deep", `"save": [{"path": "` + strings.Repeat("a.", 16) + `a", "attribute": "A"}], "next": "end"`, "hook.save[0].path"},
		{"attribute with a dash", `"save": [{"path": "a", "attribute": "A-B"}], "next": "end"`, "hook.save[0].attribute"},
		{"identity attribute", `"save": [{"path": "a", "attribute": "mobile"}], "next": "end"`, "hook.save[0].attribute"},
		{"attribute twice", `"save": [{"path": "a", "attribute": "A"}, {"path": "b", "attribute": "a"}], "next": "end"`, "hook.save[1].attribute"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := parse(t, `{"name": "j", "nodes": [{"id": "start", "type": "trigger", "event": "e", "next": "hook"},
			  {"id": "hook", "type": "webhook", "webhook_id": 7, `+tc.hook+`}, {"id": "end", "type": "stop"}]}`)
			ps := d.Check()
			if tc.want == "" {
				require.Empty(t, ps)
				return
			}
			require.NotEmpty(t, ps)
			require.True(t, strings.HasPrefix(ps[0].String(), tc.want+":"), "got %v", ps)
		})
	}
}

func TestCheckBatching(t *testing.T) {
	t.Parallel()
	d := parse(t, scoringJourney)
	require.Empty(t, d.CheckBatching(map[int64]Asset{7: {Label: "Scorer", BatchSize: 1}}))
	require.Empty(t, d.CheckBatching(nil), "a missing asset is the publish check's to report")
	ps := d.CheckBatching(map[int64]Asset{7: {Label: "Scorer", BatchSize: 100}})
	require.Len(t, ps, 1)
	require.Equal(t, "score", ps[0].Node)
	require.Equal(t, "save", ps[0].Field)
	require.Contains(t, ps[0].Message, "batch_size 1")
}

func TestLoopThroughAwaitingWebhookIsRefused(t *testing.T) {
	t.Parallel()
	d := parse(t, `{"name": "j", "nodes": [{"id": "start", "type": "trigger", "event": "e", "next": "hook"},
	  {"id": "hook", "type": "webhook", "webhook_id": 7, "delivered": "end", "failed": "hook"}, {"id": "end", "type": "stop"}]}`)
	ps := d.CheckPublish(map[int64]Asset{7: {Label: "w", Active: true, BatchSize: 1}})
	require.NotEmpty(t, ps)
	require.Contains(t, ps[0].Message, "loop with no wait_for_event", "retrying by looping would send without end")
}

func nilIfEmptyMap(m map[string]any) map[string]any {
	if len(m) == 0 {
		return nil
	}
	return m
}

func jsonNumber(s string) any { return json.Number(s) }
