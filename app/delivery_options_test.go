package app_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/models"
)

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestDeactivatedWebhookHoldsThenReleasesInOrder(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	recv := apptest.NewReceiver(t)
	id := env.ActiveWebhook("Paused", recv.URL, map[string]any{"batch_wait_ms": 0, "batch_size": 3})
	code, _ := env.Call("POST", hookPath(id, "/deactivate"), nil, nil)
	require.Equal(t, http.StatusOK, code)

	var ids []string
	for range 3 {
		var out struct {
			DeliveryIDs []string `json:"delivery_ids"`
			Status      string
		}
		code, raw := env.Call("POST", hookPath(id, "/deliveries"), map[string]any{"items": items(2, "h")}, &out)
		require.Equal(t, http.StatusAccepted, code, raw)
		require.Equal(t, "held", out.Status, "accepted and held, not dropped")
		ids = append(ids, out.DeliveryIDs...)
	}
	env.WaitStatus(time.Second, models.DeliveryHeld, ids...)
	require.Empty(t, recv.Requests())

	code, _ = env.Call("POST", hookPath(id, "/activate"), nil, nil)
	require.Equal(t, http.StatusOK, code)
	env.WaitStatus(10*time.Second, models.DeliveryDelivered, ids...)
	require.Equal(t, ids, recv.Delivered(), "released in their original order")
}

func TestUntestedWebhookRefusesDeliveries(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	var w struct{ ID int64 }
	env.Call("POST", "/api/v1/webhooks", map[string]any{"label": "New", "url": "https://hooks.example.com/x"}, &w)
	var e struct{ Error string }
	code, _ := env.Call("POST", hookPath(w.ID, "/deliveries"), map[string]any{"items": items(1, "u")}, &e)
	require.Equal(t, http.StatusConflict, code)
	require.Contains(t, e.Error, "untested")
}

func TestHashPII(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	recv := apptest.NewReceiver(t)
	id := env.ActiveWebhook("Hashed", recv.URL, map[string]any{"batch_wait_ms": 0, "hash_pii": true})
	ids := env.Deliver(id, map[string]any{
		"event_params": map[string]any{"email": " A@B.com ", "foreignkey": "a@b.com", "ip_addr": "10.0.0.1"},
		"att_params": map[string]any{"EMAIL": "a@b.com", "MOBILE": "+91 98450-12345", "CITY": "Pune",
			"FIRSTNAME": " John ", "LASTNAME": "Lee"},
	})
	recv.WaitDelivered(t, 10*time.Second, ids)
	item := recv.Requests()[0].Items[0]
	ep := item["event_params"].(map[string]any)
	ap := item["att_params"].(map[string]any)
	require.Equal(t, sha("a@b.com"), ep["email"], "normalised: trimmed, lower-case")
	require.Equal(t, sha("a@b.com"), ep["foreignkey"])
	require.Equal(t, sha("a@b.com"), ap["EMAIL"])
	require.Equal(t, sha("+919845012345"), ap["MOBILE"])
	require.Equal(t, sha("john"), ap["FIRSTNAME"], "names too: trimmed, lower-case")
	require.Equal(t, sha("lee"), ap["LASTNAME"])
	require.Equal(t, "Pune", ap["CITY"], "other attributes untouched")
	require.Equal(t, "10.0.0.1", ep["ip_addr"])

	var stored string
	env.Store.DBForTest().Raw(`SELECT item::text FROM deliveries`).Scan(&stored)
	require.NotContains(t, stored, "a@b.com", "the raw address never reaches the outbox")

	// The asset says which fields it hashes; one that hashes nothing lists none.
	var shown struct {
		HashedFields []string `json:"hashed_fields"`
	}
	env.Call("GET", hookPath(id, ""), nil, &shown)
	require.Subset(t, shown.HashedFields, []string{"email", "phone", "mobile", "first_name", "firstname", "last_name", "lastname"})
	plain := env.ActiveWebhook("Plain", recv.URL, nil)
	env.Call("GET", hookPath(plain, ""), nil, &shown)
	require.Empty(t, shown.HashedFields)
}

func TestBodyCapSplitsBatch(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	recv := apptest.NewReceiver(t)
	id := env.ActiveWebhook("Small bodies", recv.URL, map[string]any{"batch_wait_ms": 0, "batch_size": 10, "max_body_bytes": 16384})
	big := strings.Repeat("x", 6000) // three such items exceed 16 KiB
	var its []map[string]any
	for i := range 5 {
		its = append(its, map[string]any{"n": i, "blob": big})
	}
	its = append(its, map[string]any{"n": 5, "blob": strings.Repeat("y", 20000)}) // can never fit
	its = append(its, map[string]any{"n": 6})
	ids := env.Deliver(id, its...)
	env.WaitStatus(10*time.Second, models.DeliveryFailed, ids[5])
	env.WaitStatus(10*time.Second, models.DeliveryDelivered, append(ids[:5:5], ids[6])...)
	for _, r := range recv.Requests() {
		require.LessOrEqual(t, len(r.Body), 16384)
	}
	require.Equal(t, append(ids[:5:5], ids[6]), recv.Delivered())
	var list struct {
		Deliveries []struct {
			LastError string `json:"last_error"`
		}
	}
	env.Call("GET", hookPath(id, "/deliveries?status=failed"), nil, &list)
	require.Len(t, list.Deliveries, 1)
	require.Contains(t, list.Deliveries[0].LastError, "max_body_bytes")
}

func TestRateLimitSpacesRequests(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	recv := apptest.NewReceiver(t)
	id := env.ActiveWebhook("Limited", recv.URL, map[string]any{"batch_wait_ms": 0, "batch_size": 1, "rate_limit_per_s": 2})
	ids := env.Deliver(id, items(6, "l")...)
	env.WaitStatus(20*time.Second, models.DeliveryDelivered, ids...)
	reqs := recv.Requests()
	require.Len(t, reqs, 6)
	// Two may go at once (a second's allowance), then one every 500 ms.
	require.GreaterOrEqual(t, reqs[5].At.Sub(reqs[0].At), 1800*time.Millisecond)
}

func TestDeliveryRoutesBadInputAndIsolation(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	recv := apptest.NewReceiver(t)
	id := env.ActiveWebhook("Any", recv.URL, nil)
	for _, tc := range []struct {
		method, path string
		body         any
		status       int
		field        string
	}{
		{"POST", hookPath(id, "/deliveries"), map[string]any{"items": []any{}}, 400, "items"},
		{"POST", hookPath(id, "/deliveries"), map[string]any{"items": []any{"text"}}, 400, "items[0]"},
		{"POST", hookPath(id, "/deliveries"), map[string]any{"items": []any{map[string]any{}, 5}}, 400, "items[1]"},
		{"POST", hookPath(id, "/deliveries"), `{"items": [{}]`, 400, ""},
		{"POST", hookPath(id, "/deliveries"), map[string]any{"things": []any{}}, 400, "things"},
		{"GET", hookPath(id, "/deliveries?status=lost"), nil, 400, "status"},
		{"GET", hookPath(id, "/deliveries?since=yesterday"), nil, 400, "since"},
		{"GET", hookPath(id, "/deliveries?limit=0"), nil, 400, "limit"},
		{"GET", hookPath(id, "/deliveries?cursor=abc"), nil, 400, "delivery_id"},
		{"GET", hookPath(id, "/attempts?outcome=maybe"), nil, 400, "outcome"},
		{"GET", hookPath(id, "/attempts?cursor=x"), nil, 400, "cursor"},
		{"POST", hookPath(999, "/deliveries"), map[string]any{"items": items(1, "x")}, 404, ""},
	} {
		var e struct{ Error, Field string }
		code, raw := env.Call(tc.method, tc.path, tc.body, &e)
		require.Equal(t, tc.status, code, "%s %s: %s", tc.method, tc.path, raw)
		require.Equal(t, tc.field, e.Field, "%s %s: %s", tc.method, tc.path, raw)
	}
	var n int64
	env.Store.DBForTest().Model(&models.Delivery{}).Count(&n)
	require.Zero(t, n, "bad input wrote nothing")

	other, _ := env.Store.EnsurePanel(t.Context(), "other")
	token, _, _ := env.Store.CreateToken(t.Context(), other.ID, models.TokenAdmin, "")
	for _, path := range []string{"/deliveries", "/attempts", "/replay"} {
		method := "GET"
		if path == "/replay" {
			method = "POST"
		}
		code, _ := env.CallAs(token, method, hookPath(id, path), nil, nil)
		require.Equal(t, http.StatusNotFound, code, path)
	}
	code, _ := env.CallAs(token, "POST", hookPath(id, "/deliveries"), map[string]any{"items": items(1, "x")}, nil)
	require.Equal(t, http.StatusNotFound, code)
}

func TestDeliveryListPagination(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	recv := apptest.NewReceiver(t)
	id := env.ActiveWebhook("Paged", recv.URL, nil)
	ids := env.Deliver(id, items(5, "p")...)
	var seen []string
	cursor := ""
	for {
		var page struct {
			Deliveries []struct {
				DeliveryID string `json:"delivery_id"`
			}
			NextCursor *string `json:"next_cursor"`
		}
		path := hookPath(id, "/deliveries?limit=2")
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		code, raw := env.Call("GET", path, nil, &page)
		require.Equal(t, 200, code, raw)
		for _, d := range page.Deliveries {
			seen = append(seen, d.DeliveryID)
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	require.Equal(t, []string{ids[4], ids[3], ids[2], ids[1], ids[0]}, seen, "newest first, each once")
}

// The deliveries API does not load the webhook for every request: it
// prepares items as it last read hash_pii, and PostgreSQL checks that. A
// setting switched between two requests reaches the very next one, both
// ways, and an item is never written unhashed on the stale reading.
func TestHashPIISwitchedReachesTheNextRequest(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	recv := apptest.NewReceiver(t)
	id := env.ActiveWebhook("Switched", recv.URL, map[string]any{"batch_wait_ms": 0})
	for n, hashPII := range []bool{false, true, true, false} {
		var got map[string]any
		code, raw := env.Call("PATCH", hookPath(id, ""), map[string]any{"hash_pii": hashPII}, &got)
		require.Equal(t, http.StatusOK, code, raw)
		require.Equal(t, "active", got["status"], "hash_pii is not part of what a test verified")
		email := fmt.Sprintf("n%d@example.com", n)
		ids := env.Deliver(id, map[string]any{"email": email})
		recv.WaitDelivered(t, 10*time.Second, ids)
		want := email
		if hashPII {
			want = sha(email)
		}
		reqs := recv.Requests()
		require.Equal(t, want, reqs[len(reqs)-1].Items[0]["email"], "request %d, hash_pii %v", n, hashPII)
	}
}
