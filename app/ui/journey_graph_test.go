package ui

import (
	"encoding/json"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/jobs/journey"
)

// cart is the README's example journey: added to cart, no order within 30 minutes,
// then the webhook.
func cart(t *testing.T) *journey.Definition {
	t.Helper()
	var d journey.Definition
	require.NoError(t, json.Unmarshal([]byte(`{"name": "Cart recovery", "nodes": [
	  {"id": "start", "type": "trigger", "event": "Added to Cart", "next": "wait"},
	  {"id": "end", "type": "stop"},
	  {"id": "wait", "type": "wait_for_event", "event": "Placed Order", "within": "30m", "happened": "end", "timeout": "hook"},
	  {"id": "hook", "type": "webhook", "webhook_id": 7, "next": "end"},
	  {"id": "orphan", "type": "action", "channel": "sms", "message_name": "x", "next": "end"}]}`), &d))
	return &d
}

func TestStepOrder(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"start", "wait", "hook", "end", "orphan"}, stepOrder(cart(t)),
		"as a run meets them, stops last, unreachable steps after")
	require.Empty(t, stepOrder(&journey.Definition{}))
}

func TestInsertStep(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, after, exit string
		node              journey.Node
		want              map[string][3]string // id → next, happened, timeout
		err               string
	}{
		{name: "after the trigger", after: "start", node: journey.Node{ID: "mail", Type: journey.TypeAction},
			want: map[string][3]string{"start": {"mail"}, "mail": {"wait"}}},
		{name: "on a wait's timeout", after: "wait", exit: "timeout", node: journey.Node{ID: "mail", Type: journey.TypeAction},
			want: map[string][3]string{"wait": {"", "end", "mail"}, "mail": {"hook"}}},
		{name: "on a wait's happened", after: "wait", exit: "happened", node: journey.Node{ID: "w2", Type: journey.TypeWait},
			want: map[string][3]string{"wait": {"", "w2", "hook"}, "w2": {"", "end", "end"}}},
		{name: "a stop", after: "hook", node: journey.Node{ID: "end2", Type: journey.TypeStop},
			want: map[string][3]string{"hook": {"end2"}, "end2": {}}},
		{name: "after a stop", after: "end", node: journey.Node{ID: "x", Type: journey.TypeAction}, err: "nothing comes after a stop"},
		{name: "unknown", after: "nope", node: journey.Node{ID: "x", Type: journey.TypeAction}, err: `there is no step "nope"`},
		{name: "taken id", after: "start", node: journey.Node{ID: "hook", Type: journey.TypeAction}, err: `a step "hook" exists already`},
	} {
		d := cart(t)
		err := insertStep(d, tc.after, tc.exit, tc.node)
		if tc.err != "" {
			require.EqualError(t, err, tc.err, tc.name)
			continue
		}
		require.NoError(t, err, tc.name)
		for id, want := range tc.want {
			n := d.Node(id)
			require.NotNil(t, n, tc.name)
			require.Equal(t, want, [3]string{n.Next, n.Happened, n.Timeout}, "%s: %s", tc.name, id)
		}
	}
}

func TestRemoveStep(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, id string
		want     map[string][3]string
		err      string
	}{
		{name: "a wait joins to the exit that goes on", id: "wait", want: map[string][3]string{"start": {"hook"}}},
		{name: "a webhook", id: "hook", want: map[string][3]string{"wait": {"", "end", "end"}}},
		{name: "the trigger", id: "start", err: "a journey keeps its trigger; change it instead"},
		{name: "a stop in use", id: "end", err: "steps lead to this stop: point them elsewhere first"},
		{name: "unknown", id: "nope", err: `there is no step "nope"`},
	} {
		d := cart(t)
		err := removeStep(d, tc.id)
		if tc.err != "" {
			require.EqualError(t, err, tc.err, tc.name)
			require.Len(t, d.Nodes, 5, "%s: nothing changed", tc.name)
			continue
		}
		require.NoError(t, err, tc.name)
		require.Nil(t, d.Node(tc.id), tc.name)
		for id, want := range tc.want {
			n := d.Node(id)
			require.Equal(t, want, [3]string{n.Next, n.Happened, n.Timeout}, "%s: %s", tc.name, id)
		}
	}
}

func TestNewStepID(t *testing.T) {
	t.Parallel()
	d := cart(t)
	require.Equal(t, "hook2", newStepID(d, journey.TypeWebhook))
	require.Equal(t, "wait2", newStepID(d, journey.TypeWait))
	require.Equal(t, "action", newStepID(d, journey.TypeAction))
	require.Equal(t, "end2", newStepID(d, journey.TypeStop))
	require.Equal(t, "step", newStepID(d, "bogus"))
}

func TestStepFromForm(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   journey.Node
		form url.Values
		want journey.Node
		errs formErrors
	}{
		{name: "webhook", in: journey.Node{ID: "h", Type: journey.TypeWebhook, WebhookID: 1},
			form: url.Values{"webhook_id": {"9"}, "event_params": {"ts", "email"}, "event_params_other": {" items, ts ,"},
				"att_params": {"EMAIL"}, "att_params_other": {"city"}, "custom_key": {"A", "", ""}, "custom_value": {"1", "", "orphan"}, "next": {"end"}},
			want: journey.Node{ID: "h", Type: journey.TypeWebhook, WebhookID: 9, EventParams: []string{"ts", "email", "items"},
				AttParams: []string{"EMAIL", "CITY"}, CustomParams: map[string]any{"A": "1"}, Next: "end"},
			errs: formErrors{"custom_params": "Every custom value needs a name."}},
		{name: "webhook with its answer", in: journey.Node{ID: "h", Type: journey.TypeWebhook, WebhookID: 1},
			form: url.Values{"webhook_id": {"9"}, "next": {"end"}, "delivered": {"thanks"}, "failed": {""},
				"save_path": {" data.score ", "", "data.tier"}, "save_attribute": {"score", "", ""}},
			want: journey.Node{ID: "h", Type: journey.TypeWebhook, WebhookID: 9, Next: "end", Delivered: "thanks",
				Save: []journey.SaveRule{{Path: "data.score", Attribute: "SCORE"}, {Path: "data.tier"}}},
			errs: formErrors{}},
		{name: "webhook without one", in: journey.Node{ID: "h", Type: journey.TypeWebhook},
			form: url.Values{"webhook_id": {""}},
			want: journey.Node{ID: "h", Type: journey.TypeWebhook},
			errs: formErrors{"webhook_id": "Pick a webhook."}},
		{name: "trigger filters", in: journey.Node{ID: "t", Type: journey.TypeTrigger},
			form: url.Values{"event": {" open "}, "channel": {"email"}, "next": {"w"},
				"filter_kind": {"attribute", "property", "attribute"}, "filter_name": {"city", "total", ""},
				"filter_op": {"eq", "gt", "eq"}, "filter_value": {"Pune", "10", ""}},
			want: journey.Node{ID: "t", Type: journey.TypeTrigger, Event: "open", Channel: "email", Next: "w",
				Filters: []journey.Filter{{Attribute: "CITY", Op: "eq", Value: "Pune"}, {Property: "total", Op: "gt", Value: "10"}}},
			errs: formErrors{}},
		{name: "a segment trigger keeps its segment", in: journey.Node{ID: "t", Type: journey.TypeTrigger, Segment: 3},
			form: url.Values{"event": {"open"}, "next": {"w"}},
			want: journey.Node{ID: "t", Type: journey.TypeTrigger, Segment: 3, Next: "w"}, errs: formErrors{}},
		{name: "an activity trigger becomes a list trigger", in: journey.Node{ID: "t", Type: journey.TypeTrigger, Event: "open", Channel: "email"},
			form: url.Values{"trigger_kind": {"list"}, "list": {"7"}, "segment": {""}, "event": {"open"}, "next": {"w"}},
			want: journey.Node{ID: "t", Type: journey.TypeTrigger, List: 7, Next: "w"}, errs: formErrors{}},
		{name: "a segment trigger becomes an activity trigger", in: journey.Node{ID: "t", Type: journey.TypeTrigger, Segment: 3},
			form: url.Values{"trigger_kind": {"activity"}, "event": {" click "}, "channel": {"sms"}, "segment": {"3"}, "next": {"w"}},
			want: journey.Node{ID: "t", Type: journey.TypeTrigger, Event: "click", Channel: "sms", Next: "w"}, errs: formErrors{}},
		{name: "a segment trigger needs a segment", in: journey.Node{ID: "t", Type: journey.TypeTrigger},
			form: url.Values{"trigger_kind": {"segment"}, "segment": {""}, "next": {"w"}},
			want: journey.Node{ID: "t", Type: journey.TypeTrigger, Next: "w"}, errs: formErrors{"segment": "Pick a segment."}},
		{name: "wait", in: journey.Node{ID: "w", Type: journey.TypeWait},
			form: url.Values{"event": {"click"}, "channel": {""}, "within_number": {"2"}, "within_unit": {"hours"}, "of_node": {"t"},
				"happened": {"h"}, "timeout": {"end"}},
			want: journey.Node{ID: "w", Type: journey.TypeWait, Event: "click", Within: "2h", OfNode: "t", Happened: "h", Timeout: "end"},
			errs: formErrors{}},
		{name: "a wait for zero days keeps its period", in: journey.Node{ID: "w", Type: journey.TypeWait, Within: "1h"},
			form: url.Values{"event": {"click"}, "within_number": {"0"}, "within_unit": {"days"}, "happened": {"h"}, "timeout": {"end"}},
			want: journey.Node{ID: "w", Type: journey.TypeWait, Event: "click", Within: "1h", Happened: "h", Timeout: "end"},
			errs: formErrors{"within": "Must be more than 0 (at least 1 second)."}},
	} {
		got, errs, _ := stepFromForm(tc.in, tc.form)
		require.Equal(t, tc.want, got, tc.name)
		require.Equal(t, tc.errs, errs, tc.name)
	}
	require.Equal(t, "Canada, India", filterValue([]any{"Canada", "India"}))
	require.Equal(t, "3", filterValue(float64(3)))
	require.Empty(t, filterValue(nil))
}

// A webhook step that waits for its answer: a step added on its failed
// exit takes that exit (which led to next), one on delivered keeps the
// other exit, and removing a step an exit leads to joins the exit on.
func TestStepsOnWebhookOutcome(t *testing.T) {
	t.Parallel()
	load := func() *journey.Definition {
		var d journey.Definition
		require.NoError(t, json.Unmarshal([]byte(`{"name": "Scoring", "nodes": [
		  {"id": "start", "type": "trigger", "event": "Signed Up", "next": "hook"},
		  {"id": "hook", "type": "webhook", "webhook_id": 7, "delivered": "end", "next": "end"},
		  {"id": "end", "type": "stop"}]}`), &d))
		return &d
	}
	for _, tc := range []struct {
		name, exit                 string
		wantDelivered, wantFailed  string
		wantNext, wantActionNextTo string
	}{
		{"on failed", "failed", "end", "alert", "end", "end"},
		{"on delivered", "delivered", "alert", "", "end", "end"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := load()
			require.NoError(t, insertStep(d, "hook", tc.exit, journey.Node{ID: "alert", Type: journey.TypeAction, Channel: "sms", MessageName: "Alert"}))
			h := d.Node("hook")
			require.Equal(t, [3]string{tc.wantNext, tc.wantDelivered, tc.wantFailed}, [3]string{h.Next, h.Delivered, h.Failed})
			require.Equal(t, tc.wantActionNextTo, d.Node("alert").Next)
			require.Empty(t, d.Check())

			require.NoError(t, removeStep(d, "alert"))
			h = d.Node("hook")
			require.Equal(t, "end", h.OutcomeExit(true))
			require.Equal(t, "end", h.OutcomeExit(false))
		})
	}
	d := load()
	require.Equal(t, []stepExit{{Label: "if delivered", To: "end"}, {Label: "if it fails for good", To: "end"}}, webhookExits(d.Node("hook")))
	require.Equal(t, []stepExit{{Label: "then", To: "end"}}, webhookExits(cart(t).Node("hook")))
}

// Steps are named by what they do; twins get their ids.
func TestStepLabels(t *testing.T) {
	t.Parallel()
	d := &journey.Definition{Nodes: []journey.Node{
		{ID: "start", Type: journey.TypeTrigger, Event: "open", Channel: "email"},
		{ID: "seg", Type: journey.TypeTrigger, Segment: 4},
		{ID: "a", Type: journey.TypeAction, Channel: "sms", MessageName: "Welcome"},
		{ID: "w", Type: journey.TypeWait, Event: "Placed Order"},
		{ID: "h", Type: journey.TypeWebhook, WebhookID: 7},
		{ID: "h2", Type: journey.TypeWebhook, WebhookID: 9},
		{ID: "end", Type: journey.TypeStop},
		{ID: "end2", Type: journey.TypeStop},
	}}
	names := stepNames{assets: map[int64]string{7: "CRM"}, segments: map[int64]string{4: "VIPs"}}
	require.Equal(t, map[string]string{
		"start": "Trigger: Email open", "seg": "Trigger: joins “VIPs”", "a": "Send a message: “Welcome” by SMS",
		"w": "Wait for event: Placed Order", "h": "Webhook: “CRM”", "h2": "Webhook: webhook 9 (missing)",
		"end": "Stop (end)", "end2": "Stop (end2)",
	}, stepLabels(d, names))
}
