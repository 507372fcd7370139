package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
)

func contactDataPath(contactID int64, table string) string {
	return "/api/v1/contacts/" + strconv.FormatInt(contactID, 10) + "/data/" + table
}

// A contact's data-table rows are loaded, read back, replaced and removed
// through the API, within the panel; bad input is a 400 naming the field.
func TestContactDataAPI(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	var contact struct{ ID int64 }
	code, raw := env.Call("POST", "/api/v1/contacts", map[string]any{"email": "ann@example.com"}, &contact)
	require.Equal(t, http.StatusOK, code, raw)
	path := contactDataPath(contact.ID, "orders")

	code, _ = env.Call("GET", path, nil, nil)
	require.Equal(t, http.StatusNotFound, code, "nothing loaded yet")
	rows := []any{map[string]any{"order_id": json.Number("12345678901234567890"), "sku": "A1"}, map[string]any{"order_id": 2, "sku": "B2"}}
	code, raw = env.Call("PUT", path, map[string]any{"rows": rows}, nil)
	require.Equal(t, http.StatusOK, code, raw)
	code, raw = env.Call("GET", path, nil, nil)
	require.Equal(t, http.StatusOK, code, raw)
	require.Contains(t, raw, `"order_id":12345678901234567890`, "numbers keep their digits")
	require.Contains(t, raw, `"table":"orders"`)

	// Another panel sees no such contact.
	other := env.TokenFor("contact_data_other")
	code, _ = env.CallAs(other, "PUT", path, map[string]any{"rows": []any{}}, nil)
	require.Equal(t, http.StatusNotFound, code)
	code, _ = env.CallAs(other, "GET", path, nil, nil)
	require.Equal(t, http.StatusNotFound, code)

	many := make([]any, 101)
	for i := range many {
		many[i] = map[string]any{"n": i}
	}
	// Refused in parallel, each on its own; the group ends when all have.
	t.Run("refused", func(t *testing.T) {
		for _, tc := range []struct {
			name, path string
			body       any
			field      string
		}{
			{"bad table name", contactDataPath(contact.ID, "or%20ders"), map[string]any{"rows": []any{}}, "table"},
			{"no rows", path, map[string]any{}, "rows"},
			{"rows not a list", path, map[string]any{"rows": map[string]any{}}, "rows"},
			{"a row not an object", path, map[string]any{"rows": []any{map[string]any{}, "x"}}, "rows[1]"},
			{"too many rows", path, map[string]any{"rows": many}, "rows"},
			{"too large", path, map[string]any{"rows": []any{map[string]any{"blob": strings.Repeat("x", 70000)}}}, "rows"},
			{"unknown field", path, map[string]any{"rows": []any{}, "row": 1}, "row"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				var e struct{ Error, Field string }
				code, raw := env.Call("PUT", tc.path, tc.body, &e)
				require.Equal(t, http.StatusBadRequest, code, raw)
				require.Equal(t, tc.field, e.Field, raw)
			})
		}
	})
	code, raw = env.Call("GET", path, nil, nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, raw, `"sku":"B2"`, "a refused PUT changed nothing")

	code, _ = env.Call("DELETE", path, nil, nil)
	require.Equal(t, http.StatusNoContent, code)
	code, _ = env.Call("GET", path, nil, nil)
	require.Equal(t, http.StatusNotFound, code)
}

// A webhook node's udt_params carry the contact's rows of the tables it
// names; a table the contact has no rows in is [].
func TestJourneyWebhookSendsUDTParams(t *testing.T) {
	t.Parallel()
	env, recv, key, hook := journeyEnv(t, apptest.Options{})
	var contact struct{ ID int64 }
	code, raw := env.Call("POST", "/api/v1/contacts", map[string]any{"email": "ann@example.com"}, &contact)
	require.Equal(t, http.StatusOK, code, raw)
	code, raw = env.Call("PUT", contactDataPath(contact.ID, "orders"), map[string]any{"rows": []any{
		map[string]any{"order_id": json.Number("12345678901234567890"), "sku": "A1"}}}, nil)
	require.Equal(t, http.StatusOK, code, raw)
	env.LiveJourney(fmt.Sprintf(`{"name": "With data", "reentry": "always", "nodes": [
	  {"id": "t", "type": "trigger", "event": "Purchased", "next": "h"},
	  {"id": "h", "type": "webhook", "webhook_id": %d, "udt_params": ["orders", "loyalty"], "next": "s"},
	  {"id": "s", "type": "stop"}]}`, hook))
	ingestOK(t, env, key, map[string]any{"event": "Purchased", "email": "ann@example.com"})
	recv.WaitFor(t, 10*time.Second, "the webhook", func() bool { return len(recv.Delivered()) == 1 })
	it := recv.Requests()[0].Items[0]
	t.Logf("the receiver saw: %s", recv.Requests()[0].Body)
	require.Equal(t, map[string]any{"orders": []any{map[string]any{"order_id": 1.2345678901234567e+19, "sku": "A1"}}, "loyalty": []any{}},
		it["udt_params"])
	require.Contains(t, string(recv.Requests()[0].Body), "12345678901234567890", "the receiver gets every digit")

	var e struct {
		Problems []struct{ Node, Field string }
	}
	code, _ = env.Call("POST", "/api/v1/journeys", json.RawMessage(fmt.Sprintf(`{"name": "Bad", "nodes": [
	  {"id": "t", "type": "trigger", "event": "Purchased", "next": "h"},
	  {"id": "h", "type": "webhook", "webhook_id": %d, "udt_params": ["no such/table"], "next": "s"},
	  {"id": "s", "type": "stop"}]}`, hook)), &e)
	require.Equal(t, http.StatusBadRequest, code)
	require.Equal(t, "h", e.Problems[0].Node)
	require.Equal(t, "udt_params[0]", e.Problems[0].Field)
}

// "Clicked this link within 1 h": a click on another link leaves the run
// waiting; the click on the link moves it on.
func TestJourneyWaitForEventFilters(t *testing.T) {
	t.Parallel()
	env, recv, key, hook := journeyEnv(t, apptest.Options{})
	env.LiveJourney(fmt.Sprintf(`{"name": "Clicked the offer", "nodes": [
	  {"id": "t", "type": "trigger", "event": "open", "channel": "email", "next": "w"},
	  {"id": "w", "type": "wait_for_event", "event": "click", "channel": "email", "within": "1h", "happened": "h", "timeout": "s",
	   "filters": [{"property": "url", "op": "eq", "value": "https://shop.example/offer"}]},
	  {"id": "h", "type": "webhook", "webhook_id": %d, "event_params": ["url"], "next": "s"},
	  {"id": "s", "type": "stop"}]}`, hook))
	user := map[string]any{"email": "bo@example.com"}
	click := func(url string) map[string]any {
		return map[string]any{"event": "click", "properties": map[string]any{"channel": "email", "msgid": "546", "url": url}, "user": user}
	}
	ingestOK(t, env, key, map[string]any{"event": "open", "properties": map[string]any{"channel": "email", "msgid": "546"}, "user": user})
	ingestOK(t, env, key, click("https://shop.example/unsubscribe"))
	ingestOK(t, env, key, click("https://shop.example/offer"))
	recv.WaitFor(t, 10*time.Second, "the webhook", func() bool { return len(recv.Delivered()) == 1 })
	require.Equal(t, map[string]any{"url": "https://shop.example/offer"}, recv.Requests()[0].Items[0]["event_params"],
		"the click on the other link did not end the wait")

	var e struct {
		Problems []struct{ Node, Field string }
	}
	code, _ := env.Call("POST", "/api/v1/journeys", json.RawMessage(`{"name": "Bad", "nodes": [
	  {"id": "t", "type": "trigger", "event": "open", "next": "w"},
	  {"id": "w", "type": "wait_for_event", "event": "click", "within": "1h", "happened": "s", "timeout": "s",
	   "filters": [{"property": "url", "op": "like", "value": "x"}]},
	  {"id": "s", "type": "stop"}]}`), &e)
	require.Equal(t, http.StatusBadRequest, code)
	require.Equal(t, "w", e.Problems[0].Node)
	require.Equal(t, "filters[0]", e.Problems[0].Field)
}
