package app_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/models/modeltest"
)

// Redis is wiped twice: right after the event is accepted (its processing
// task is lost) and while the run waits (its timer is lost). The sweeps
// find both in PostgreSQL: the run starts, and its wait times out.
func TestTimerSurvivesRedisFlush(t *testing.T) {
	t.Parallel()
	rs := modeltest.StartRedis(t)
	env, recv, key, hook := journeyEnv(t, apptest.Options{RedisURL: rs.URL, NoWorker: true})
	id := env.LiveJourney(fmt.Sprintf(abandonedCart, "1h", hook))
	flush := func() {
		opt, _ := redis.ParseURL(rs.URL)
		c := redis.NewClient(opt)
		defer func() { _ = c.Close() }()
		require.NoError(t, c.FlushAll(context.Background()).Err())
	}
	ingestOK(t, env, key, map[string]any{"event": "Added to Cart", "user": map[string]any{"email": "a@b.com"}})
	flush() // the event's processing task is gone before any worker saw it
	env.StartWorker()
	env.SweepEvery(200 * time.Millisecond)
	env.WaitRuns(id, "waiting", 1)
	flush() // and now the timer
	env.WaitSettled(10 * time.Second)
	require.Empty(t, recv.Requests(), "the wait has not run out yet")
	env.Store.Clock.Advance(time.Hour) // it has now, and only the sweep knows
	recv.WaitFor(t, 10*time.Second, "the webhook after the sweep", func() bool { return len(recv.Delivered()) == 1 })
}

func TestPausedJourneyFiresNothingAndResumes(t *testing.T) {
	t.Parallel()
	env, recv, key, hook := journeyEnv(t, apptest.Options{})
	env.SweepEvery(100 * time.Millisecond)
	id := env.LiveJourney(fmt.Sprintf(`{"name": "Order follow-up", "reentry": "always", "nodes": [
	  {"id": "t", "type": "trigger", "event": "Added to Cart", "next": "w"},
	  {"id": "w", "type": "wait_for_event", "event": "Placed Order", "within": "2s", "happened": "thanks", "timeout": "s"},
	  {"id": "thanks", "type": "webhook", "webhook_id": %d, "custom_params": {"why": "ordered"}, "next": "s"},
	  {"id": "s", "type": "stop"}]}`, hook))
	path := fmt.Sprintf("/api/v1/journeys/%d", id)
	ingestOK(t, env, key, map[string]any{"event": "Added to Cart", "user": map[string]any{"email": "p@x.com"}})
	var runs struct {
		Runs []struct{ Status, Node string }
	}
	require.Eventually(t, func() bool {
		env.Call("GET", path+"/runs", nil, &runs)
		return len(runs.Runs) == 1
	}, 10*time.Second, 20*time.Millisecond, "the event is processed and the run waits")
	code, _ := env.Call("POST", path+"/pause", nil, nil)
	require.Equal(t, http.StatusOK, code)

	// While paused: no new entries, and the awaited event is noted but does
	// not move the run.
	ingestOK(t, env, key, map[string]any{"event": "Added to Cart", "user": map[string]any{"email": "new@x.com"}})
	ingestOK(t, env, key, map[string]any{"event": "Placed Order", "user": map[string]any{"email": "p@x.com"}})
	env.Store.Clock.Advance(3 * time.Second) // past the wait, too
	require.NoError(t, env.Engine.SweepRuns(context.Background(), 0))
	env.WaitSettled(10 * time.Second)
	require.Empty(t, recv.Requests(), "a paused journey fires nothing")
	env.Call("GET", path+"/runs", nil, &runs)
	require.Len(t, runs.Runs, 1, "no entry while paused")
	require.Equal(t, "waiting", runs.Runs[0].Status)

	// Live again: the order came in time, so the run takes "happened".
	code, raw := env.Call("POST", path+"/publish", nil, nil)
	require.Equal(t, http.StatusOK, code, raw)
	recv.WaitFor(t, 10*time.Second, "the resumed run's webhook", func() bool { return len(recv.Delivered()) == 1 })
	require.Equal(t, map[string]any{"why": "ordered"}, recv.Requests()[0].Items[0]["custom_params"])

	code, _ = env.Call("POST", path+"/stop", nil, nil)
	require.Equal(t, http.StatusOK, code)
	code, raw = env.Call("POST", path+"/publish", nil, nil)
	require.Equal(t, http.StatusConflict, code, "a stopped journey stays stopped: %s", raw)
}

func TestJourneyAPIValidation(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	recv := apptest.NewReceiver(t)
	hook := env.ActiveWebhook("Hook", recv.URL, nil)

	var e struct {
		Error    string
		Field    string
		Problems []struct{ Node, Field, Message string }
	}
	code, raw := env.Call("POST", "/api/v1/journeys", `{"name": "x", "nodes": [{"id": "t", "type": "trigger", "next": "nowhere"}]}`, &e)
	require.Equal(t, http.StatusBadRequest, code, raw)
	require.GreaterOrEqual(t, len(e.Problems), 2, "every problem is listed: %s", raw)
	code, _ = env.Call("POST", "/api/v1/journeys", `{"name": "x", "nodes": [], "colour": "red"}`, &e)
	require.Equal(t, http.StatusBadRequest, code)
	require.Equal(t, "colour", e.Field)

	// Well formed, but its webhook is not active and a node is unreachable.
	code, _ = env.Call("POST", hookPath(hook, "/deactivate"), nil, nil)
	require.Equal(t, 200, code)
	var j struct{ ID int64 }
	code, raw = env.Call("POST", "/api/v1/journeys", fmt.Sprintf(`{"name": "Draft", "nodes": [
	  {"id": "t", "type": "trigger", "event": "x", "next": "h"},
	  {"id": "h", "type": "webhook", "webhook_id": %d, "next": "s"},
	  {"id": "s", "type": "stop"}, {"id": "lost", "type": "stop"}]}`, hook), &j)
	require.Equal(t, http.StatusCreated, code, raw)
	code, raw = env.Call("POST", fmt.Sprintf("/api/v1/journeys/%d/publish", j.ID), nil, &e)
	require.Equal(t, http.StatusUnprocessableEntity, code, raw)
	require.Len(t, e.Problems, 2, raw)
	require.Contains(t, raw, "cannot be reached")
	require.Contains(t, raw, "not active")
	var got struct{ Status string }
	env.Call("GET", fmt.Sprintf("/api/v1/journeys/%d", j.ID), nil, &got)
	require.Equal(t, "draft", got.Status, "a refused publish changes nothing")

	// Another panel sees none of it, and cannot use this panel's webhook.
	other := env.TokenFor("other")
	code, _ = env.CallAs(other, "GET", fmt.Sprintf("/api/v1/journeys/%d", j.ID), nil, nil)
	require.Equal(t, http.StatusNotFound, code)
	code, _ = env.CallAs(other, "POST", fmt.Sprintf("/api/v1/journeys/%d/publish", j.ID), nil, nil)
	require.Equal(t, http.StatusNotFound, code)
	var oj struct{ ID int64 }
	code, raw = env.CallAs(other, "POST", "/api/v1/journeys", fmt.Sprintf(`{"name": "Theft", "nodes": [
	  {"id": "t", "type": "trigger", "event": "x", "next": "h"}, {"id": "h", "type": "webhook", "webhook_id": %d, "next": "s"},
	  {"id": "s", "type": "stop"}]}`, hook), &oj)
	require.Equal(t, http.StatusCreated, code, raw)
	code, raw = env.CallAs(other, "POST", fmt.Sprintf("/api/v1/journeys/%d/publish", oj.ID), nil, &e)
	require.Equal(t, http.StatusUnprocessableEntity, code)
	require.Contains(t, raw, "does not exist", "another panel's webhook is as good as missing")
}

func TestListAndSegmentTriggers(t *testing.T) {
	t.Parallel()
	env, recv, _, hook := journeyEnv(t, apptest.Options{})
	var list, seg struct{ ID int64 }
	code, _ := env.Call("POST", "/api/v1/lists", map[string]any{"name": "VIP"}, &list)
	require.Equal(t, http.StatusCreated, code)
	code, raw := env.Call("POST", "/api/v1/segments", map[string]any{"name": "Canadians",
		"filters": []map[string]any{{"attribute": "COUNTRY", "op": "eq", "value": "Canada"}}}, &seg)
	require.Equal(t, http.StatusCreated, code, raw)
	env.LiveJourney(fmt.Sprintf(`{"name": "Welcome VIPs", "nodes": [
	  {"id": "t", "type": "trigger", "list": %d, "next": "h"},
	  {"id": "h", "type": "webhook", "webhook_id": %d, "att_params": ["EMAIL"], "custom_params": {"via": "list"}, "next": "s"},
	  {"id": "s", "type": "stop"}]}`, list.ID, hook))
	env.LiveJourney(fmt.Sprintf(`{"name": "Canada", "nodes": [
	  {"id": "t", "type": "trigger", "segment": %d, "next": "h"},
	  {"id": "h", "type": "webhook", "webhook_id": %d, "att_params": ["EMAIL"], "custom_params": {"via": "segment"}, "next": "s"},
	  {"id": "s", "type": "stop"}]}`, seg.ID, hook))

	var added struct{ Added int }
	code, raw = env.Call("POST", fmt.Sprintf("/api/v1/lists/%d/members", list.ID),
		map[string]any{"members": []map[string]any{{"email": "vip@x.com"}, {"email": "vip2@x.com"}}}, &added)
	require.Equal(t, 200, code, raw)
	require.Equal(t, 2, added.Added)
	env.Call("POST", fmt.Sprintf("/api/v1/lists/%d/members", list.ID), map[string]any{"members": []map[string]any{{"email": "vip@x.com"}}}, &added)
	require.Equal(t, 0, added.Added, "a member added twice enters once")

	// Moving to Canada enters the segment; staying there does not re-enter.
	for _, country := range []string{"India", "Canada", "Canada"} {
		code, raw = env.Call("POST", "/api/v1/contacts", map[string]any{"email": "mover@x.com", "attributes": map[string]any{"country": country}}, nil)
		require.Equal(t, 200, code, raw)
	}
	recv.WaitFor(t, 10*time.Second, "3 webhooks", func() bool { return len(recv.Delivered()) == 3 })
	env.WaitSettled(10 * time.Second)
	vias := map[string]int{}
	for _, r := range recv.Requests() {
		for _, it := range r.Items {
			vias[it["custom_params"].(map[string]any)["via"].(string)]++
		}
	}
	require.Equal(t, map[string]int{"list": 2, "segment": 1}, vias)

	var c struct {
		ID         int64
		Attributes map[string]any
	}
	code, _ = env.Call("GET", "/api/v1/contacts?email=Mover@X.com", nil, &c)
	require.Equal(t, 200, code)
	require.Equal(t, "Canada", c.Attributes["COUNTRY"])
	code, _ = env.CallAs(env.TokenFor("other"), "GET", fmt.Sprintf("/api/v1/contacts/%d", c.ID), nil, nil)
	require.Equal(t, http.StatusNotFound, code)
}
