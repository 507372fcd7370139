package app_test

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/models"
)

// A webhook node with delivered and failed exits: the endpoint answers 500
// until the delivery is out of attempts, and the run, which waited at the
// node meanwhile, takes the failed exit (here another webhook, an alert).
func TestJourneyWebhookFailedExit(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	crm := apptest.NewReceiver(t)
	crm.Answer = func(_ int, r *apptest.Request) apptest.Answer {
		if r.Test {
			return apptest.Answer{Status: http.StatusOK}
		}
		return apptest.Answer{Status: http.StatusInternalServerError, Body: `{"error": "down"}`}
	}
	alerts := apptest.NewReceiver(t)
	crmHook := env.ActiveWebhook("CRM", crm.URL, map[string]any{"batch_wait_ms": 0, "max_attempts": 2})
	alertHook := env.ActiveWebhook("Alerts", alerts.URL, map[string]any{"batch_wait_ms": 0})
	key := env.IngestKey()
	journeyID := env.LiveJourney(fmt.Sprintf(`{"name": "Sign-up sync", "nodes": [
	  {"id": "start", "type": "trigger", "event": "Signed Up", "next": "crm"},
	  {"id": "crm", "type": "webhook", "webhook_id": %d, "att_params": ["EMAIL"], "delivered": "synced", "failed": "alert"},
	  {"id": "alert", "type": "webhook", "webhook_id": %d, "custom_params": {"Action": "CRM sync failed"}, "next": "gave_up"},
	  {"id": "synced", "type": "stop"},
	  {"id": "gave_up", "type": "stop"}]}`, crmHook, alertHook))

	ingestOK(t, env, key, map[string]any{"event": "Signed Up", "user": map[string]any{"email": "ann@example.com"}})
	alerts.WaitFor(t, 15*time.Second, "the alert", func() bool { return len(alerts.Delivered()) == 1 })
	require.Len(t, crm.Requests(), 2, "the CRM got the delivery and its one retry, both answered 500")
	it := alerts.Requests()[0].Items[0]
	require.Equal(t, map[string]any{"Action": "CRM sync failed"}, it["custom_params"])
	run := env.WaitRun(journeyID, "completed at gave_up", func(r apptest.Run) bool { return r.Status == "completed" })
	require.Equal(t, "gave_up", run.Node)
	require.Empty(t, run.AwaitsDelivery)
	env.WaitStatus(time.Second, models.DeliveryFailed, crm.Requests()[0].DeliveryIDs()...)
}

// A webhook node saves a field of its JSON response into the contact: a
// later step of the same run sends it, and a trigger filter of another
// journey on that attribute lets the contact in (and keeps out a contact
// without it). Only the saving delivery keeps its response body.
func TestJourneyWebhookResponseSetsAttribute(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	scorer := apptest.NewReceiver(t)
	scorer.Answer = func(_ int, r *apptest.Request) apptest.Answer {
		if r.Test {
			return apptest.Answer{Status: http.StatusOK}
		}
		return apptest.Answer{Status: http.StatusOK, Body: `{"data": {"score": 87, "tier": "gold"}, "ok": true}`}
	}
	crm := apptest.NewReceiver(t)
	scoreHook := env.ActiveWebhook("Scorer", scorer.URL, map[string]any{"batch_wait_ms": 0, "batch_size": 1})
	crmHook := env.ActiveWebhook("CRM", crm.URL, map[string]any{"batch_wait_ms": 0})
	key := env.IngestKey()
	scoring := env.LiveJourney(fmt.Sprintf(`{"name": "Lead scoring", "nodes": [
	  {"id": "start", "type": "trigger", "event": "Signed Up", "filters": [{"attribute": "SOURCE", "op": "eq", "value": "ads"}], "next": "score"},
	  {"id": "score", "type": "webhook", "webhook_id": %d, "att_params": ["EMAIL"],
	   "save": [{"path": "data.score", "attribute": "SCORE"}, {"path": "data.tier", "attribute": "tier"},
	            {"path": "data.missing", "attribute": "NOPE"}],
	   "delivered": "tell_crm", "failed": "end"},
	  {"id": "tell_crm", "type": "webhook", "webhook_id": %d, "att_params": ["SCORE", "TIER"],
	   "custom_params": {"Action": "Scored"}, "next": "end"},
	  {"id": "end", "type": "stop"}]}`, scoreHook, crmHook))
	vip := env.LiveJourney(fmt.Sprintf(`{"name": "VIP buyers", "reentry": "always", "nodes": [
	  {"id": "start", "type": "trigger", "event": "Purchased", "filters": [{"attribute": "SCORE", "op": "gt", "value": 50}], "next": "hook"},
	  {"id": "hook", "type": "webhook", "webhook_id": %d, "att_params": ["SCORE"], "custom_params": {"Action": "VIP purchase"}, "next": "end"},
	  {"id": "end", "type": "stop"}]}`, crmHook))

	ingestOK(t, env, key, map[string]any{"event": "Signed Up", "user": map[string]any{"email": "ann@example.com", "source": "ads"}})
	crm.WaitFor(t, 15*time.Second, "the scored lead", func() bool { return len(crm.Delivered()) == 1 })
	it := crm.Requests()[0].Items[0]
	require.Equal(t, "Scored", it["custom_params"].(map[string]any)["Action"])
	require.Equal(t, map[string]any{"SCORE": float64(87), "TIER": "gold"}, it["att_params"], "the next step sees what the response set")
	run := env.WaitRun(scoring, "completed", func(r apptest.Run) bool { return r.Status == "completed" })
	require.Equal(t, "end", run.Node)

	var contact struct{ Attributes map[string]any }
	code, raw := env.Call("GET", "/api/v1/contacts?email=ann@example.com", nil, &contact)
	require.Equal(t, http.StatusOK, code, raw)
	require.InDelta(t, 87, contact.Attributes["SCORE"], 0)
	require.Equal(t, "gold", contact.Attributes["TIER"])
	require.NotContains(t, contact.Attributes, "NOPE", "a path the response lacks sets nothing")

	// Only the delivery whose node saves keeps its response body.
	var kept []struct {
		WebhookID int64
		Response  *string
	}
	require.NoError(t, env.Store.DBForTest().Raw(`SELECT webhook_id, response FROM deliveries ORDER BY id`).Scan(&kept).Error)
	require.Len(t, kept, 2)
	require.Equal(t, scoreHook, kept[0].WebhookID)
	require.NotNil(t, kept[0].Response)
	require.JSONEq(t, `{"data": {"score": 87, "tier": "gold"}, "ok": true}`, *kept[0].Response)
	require.Nil(t, kept[1].Response, "a delivery that saves nothing keeps no body")

	// The other journey's filter on SCORE: bob (no score) stays out, ann is in.
	ingestOK(t, env, key, map[string]any{"event": "Purchased", "user": map[string]any{"email": "bob@example.com"}})
	env.WaitProcessed()
	ingestOK(t, env, key, map[string]any{"event": "Purchased", "user": map[string]any{"email": "ann@example.com"}})
	crm.WaitFor(t, 15*time.Second, "the VIP purchase", func() bool { return len(crm.Delivered()) == 2 })
	it = crm.Requests()[1].Items[0]
	require.Equal(t, map[string]any{"Action": "VIP purchase"}, it["custom_params"])
	require.Equal(t, map[string]any{"SCORE": float64(87)}, it["att_params"])
	env.WaitRuns(vip, "completed", 1)
}

// What a webhook node's outcome exits and save rules may be: each fault is
// a 400 naming the field, and nothing is stored.
func TestJourneyWebhookOutcomeValidation(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	recv := apptest.NewReceiver(t)
	single := env.ActiveWebhook("Single", recv.URL, map[string]any{"batch_size": 1})
	batched := env.ActiveWebhook("Batched", recv.URL, map[string]any{"batch_size": 100})
	journeyWith := func(hook string) string {
		return `{"name": "Outcomes", "nodes": [
		  {"id": "start", "type": "trigger", "event": "Signed Up", "next": "hook"},
		  ` + hook + `,
		  {"id": "end", "type": "stop"}]}`
	}
	// Each case alone; then nothing was stored by any of them.
	t.Run("refused", func(t *testing.T) {
		refusals(t, env, journeyWith, single, batched)
	})
	var list struct{ Journeys []any }
	env.Call("GET", "/api/v1/journeys", nil, &list)
	require.Empty(t, list.Journeys, "nothing was stored")

	// Publishing checks batching too: the asset may have changed since.
	var j struct{ ID int64 }
	code, raw := env.Call("POST", "/api/v1/journeys", journeyWith(fmt.Sprintf(
		`{"id": "hook", "type": "webhook", "webhook_id": %d, "save": [{"path": "data.score", "attribute": "score"}], "next": "end"}`, single)), &j)
	require.Equal(t, http.StatusCreated, code, raw)
	require.Contains(t, raw, `"attribute":"SCORE"`, "the attribute is stored upper-case")
	code, raw = env.Call("PATCH", "/api/v1/webhooks/"+strconv.FormatInt(single, 10), map[string]any{"batch_size": 10}, nil)
	require.Equal(t, http.StatusOK, code, raw)
	var out struct{ Field string }
	code, raw = env.Call("POST", "/api/v1/journeys/"+strconv.FormatInt(j.ID, 10)+"/publish", nil, &out)
	require.Equal(t, http.StatusUnprocessableEntity, code, raw)
	require.Equal(t, "nodes.hook.save", out.Field, raw)
}

func refusals(t *testing.T, env *apptest.Env, journeyWith func(string) string, single, batched int64) {
	t.Helper()
	for _, tc := range []struct {
		name, hook, field string
	}{
		{"unknown delivered exit", fmt.Sprintf(`{"id": "hook", "type": "webhook", "webhook_id": %d, "delivered": "nowhere", "failed": "end"}`, single), "nodes.hook.delivered"},
		{"unknown failed exit", fmt.Sprintf(`{"id": "hook", "type": "webhook", "webhook_id": %d, "delivered": "end", "failed": "nowhere"}`, single), "nodes.hook.failed"},
		{"one exit and no next", fmt.Sprintf(`{"id": "hook", "type": "webhook", "webhook_id": %d, "delivered": "end"}`, single), "nodes.hook.next"},
		{"save from a batched webhook", fmt.Sprintf(`{"id": "hook", "type": "webhook", "webhook_id": %d, "save": [{"path": "data.score", "attribute": "SCORE"}], "next": "end"}`, batched), "nodes.hook.save"},
		{"bad path", fmt.Sprintf(`{"id": "hook", "type": "webhook", "webhook_id": %d, "save": [{"path": "data..score", "attribute": "SCORE"}], "next": "end"}`, single), "nodes.hook.save[0].path"},
		{"no path", fmt.Sprintf(`{"id": "hook", "type": "webhook", "webhook_id": %d, "save": [{"attribute": "SCORE"}], "next": "end"}`, single), "nodes.hook.save[0].path"},
		{"bad attribute", fmt.Sprintf(`{"id": "hook", "type": "webhook", "webhook_id": %d, "save": [{"path": "score", "attribute": "1 score"}], "next": "end"}`, single), "nodes.hook.save[0].attribute"},
		{"identity attribute", fmt.Sprintf(`{"id": "hook", "type": "webhook", "webhook_id": %d, "save": [{"path": "email", "attribute": "email"}], "next": "end"}`, single), "nodes.hook.save[0].attribute"},
		{"exit on another node", fmt.Sprintf(`{"id": "hook", "type": "webhook", "webhook_id": %d, "next": "end"},
		  {"id": "act", "type": "action", "channel": "email", "message_name": "Hi", "next": "end", "delivered": "end"}`, single), "nodes.act.delivered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out struct{ Field string }
			code, raw := env.Call("POST", "/api/v1/journeys", journeyWith(tc.hook), &out)
			require.Equal(t, http.StatusBadRequest, code, raw)
			require.Equal(t, tc.field, out.Field, raw)
		})
	}
}

// A run at a webhook node whose delivery is held (its webhook out of
// service) waits as long as it is held, shown so in the API and on the
// runs page, and moves on once the webhook is back and the delivery goes.
func TestJourneyRunWaitsOnAHeldDelivery(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	recv := apptest.NewReceiver(t)
	hook := env.ActiveWebhook("CRM", recv.URL, map[string]any{"batch_wait_ms": 0})
	hookPath := "/api/v1/webhooks/" + strconv.FormatInt(hook, 10)
	journeyID := env.LiveJourney(fmt.Sprintf(`{"name": "Held sync", "nodes": [
	  {"id": "start", "type": "trigger", "event": "Signed Up", "next": "crm"},
	  {"id": "crm", "type": "webhook", "webhook_id": %d, "delivered": "synced", "failed": "gave_up"},
	  {"id": "synced", "type": "stop"},
	  {"id": "gave_up", "type": "stop"}]}`, hook))
	code, raw := env.Call("POST", hookPath+"/deactivate", nil, nil)
	require.Equal(t, http.StatusOK, code, raw)

	ingestOK(t, env, env.IngestKey(), map[string]any{"event": "Signed Up", "user": map[string]any{"email": "ann@example.com"}})
	env.WaitRun(journeyID, "waiting at crm", func(r apptest.Run) bool { return r.Status == "waiting" })
	env.WaitSettled(10 * time.Second)
	run := env.WaitRun(journeyID, "still waiting", func(r apptest.Run) bool { return r.Status == "waiting" })
	require.Equal(t, apptest.Run{Status: "waiting", Node: "crm", AwaitsDelivery: run.AwaitsDelivery, AwaitsStatus: "held"}, run)

	env.User(uiEmail, uiPassword)
	page := env.SignIn(uiEmail, uiPassword).Get(fmt.Sprintf("/journeys/%d/runs", journeyID))
	require.Equal(t, http.StatusOK, page.Status)
	require.Contains(t, page.Body, "on a held delivery")

	code, raw = env.Call("POST", hookPath+"/activate", nil, nil)
	require.Equal(t, http.StatusOK, code, raw)
	run = env.WaitRun(journeyID, "completed", func(r apptest.Run) bool { return r.Status == "completed" })
	require.Equal(t, "synced", run.Node)
	require.Empty(t, run.AwaitsStatus)
}
