package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/models"
)

func hookPath(id int64, suffix string) string {
	return "/api/v1/webhooks/" + strconv.FormatInt(id, 10) + suffix
}

func items(n int, prefix string) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = map[string]any{"event": "open", "seq": i, "ref": fmt.Sprintf("%s-%d", prefix, i)}
	}
	return out
}

// The exact request a receiver gets, read as a receiver would read it.
func TestDeliveryExactBodyAuthHeadersAndSignature(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	recv := apptest.NewReceiver(t)
	secret := models.NewSigningSecret()
	id := env.ActiveWebhook("Email Open Webhook", recv.URL+"/hook", map[string]any{
		"basic_auth":     map[string]any{"username": "mkt", "password": "pw"},
		"headers":        []map[string]any{{"name": "X-Api-Key", "value": "k1"}, {"name": "X-Tenant", "value": "acme"}},
		"signing_secret": secret,
		"batch_wait_ms":  0,
	})
	ids := env.Deliver(id, map[string]any{
		"webhook_name": "Email Open Webhook", "msgid": "546", "channel": "email", "event": "open",
		"event_params": map[string]any{"email": "a@b.com", "ts": 221202154805, "note": "<b>&</b>"},
		"delivery_id":  "forged",
	})
	recv.WaitDelivered(t, 10*time.Second, ids)
	env.WaitStatus(10*time.Second, models.DeliveryDelivered, ids...)

	req := recv.Requests()[0]
	require.Equal(t, "application/x-www-form-urlencoded", req.Header.Get("Content-Type"))
	require.Equal(t, "Herald/test", req.Header.Get("User-Agent"))
	require.Equal(t, "k1", req.Header.Get("X-Api-Key"))
	require.Equal(t, "acme", req.Header.Get("X-Tenant"))
	hr := http.Request{Header: req.Header}
	user, pass, ok := hr.BasicAuth()
	require.True(t, ok)
	require.Equal(t, "mkt:pw", user+":"+pass)

	form, err := url.ParseQuery(string(req.Body))
	require.NoError(t, err)
	require.Len(t, form, 1, "one form key: data")
	want := `{"acme_prod":[{"delivery_id":"` + ids[0] + `","channel":"email","event":"open",` +
		`"event_params":{"email":"a@b.com","note":"<b>&</b>","ts":221202154805},"msgid":"546","webhook_name":"Email Open Webhook"}]}`
	require.JSONEq(t, want, form.Get("data"))
	require.True(t, strings.HasPrefix(form.Get("data"), `{"acme_prod":[{"delivery_id":"`+ids[0]+`"`), "delivery_id comes first")
	require.Contains(t, form.Get("data"), `"note":"<b>&</b>"`, "no HTML escaping")

	verifier, err := standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	require.NoError(t, verifier.Verify(req.Body, req.Header), "signature per the Standard Webhooks reference library")

	var list struct {
		Deliveries []struct {
			DeliveryID string `json:"delivery_id"`
			Status     string
			Attempts   int
		}
	}
	env.Call("GET", hookPath(id, "/deliveries"), nil, &list)
	require.Len(t, list.Deliveries, 1)
	require.Equal(t, "delivered", list.Deliveries[0].Status)
	require.Equal(t, 1, list.Deliveries[0].Attempts)

	var attempts struct {
		Attempts []struct {
			Outcome        string
			StatusCode     int             `json:"status_code"`
			ItemCount      int             `json:"item_count"`
			BatchID        string          `json:"batch_id"`
			RequestHeaders json.RawMessage `json:"request_headers"`
		}
	}
	env.Call("GET", hookPath(id, "/attempts"), nil, &attempts)
	require.Len(t, attempts.Attempts, 1)
	a := attempts.Attempts[0]
	require.Equal(t, "delivered", a.Outcome)
	require.Equal(t, 200, a.StatusCode)
	require.Equal(t, 1, a.ItemCount)
	require.Equal(t, req.Header.Get("webhook-id"), a.BatchID)
	for _, secret := range []string{`"k1"`, `"acme"`, "bWt0OnB3"} {
		require.NotContains(t, string(a.RequestHeaders), secret, "secrets are redacted in the attempt log")
	}
}

func TestBatchSizeAndWait(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	recv := apptest.NewReceiver(t)
	const wait = 500 * time.Millisecond
	id := env.ActiveWebhook("Batched", recv.URL, map[string]any{"batch_size": 3, "batch_wait_ms": wait.Milliseconds()})

	// Seven events written within one window leave together when it ends,
	// in batches of at most 3, in creation order.
	apptest.AlignToWindow(wait)
	created := time.Now()
	var ids []string
	ids = append(ids, env.Deliver(id, items(4, "a")...)...)
	ids = append(ids, env.Deliver(id, items(2, "b")...)...)
	ids = append(ids, env.Deliver(id, items(1, "c")...)...)
	recv.WaitDelivered(t, 10*time.Second, ids)
	var sizes []int
	for _, r := range recv.Requests() {
		sizes = append(sizes, len(r.Items))
		require.False(t, r.At.Before(created.Truncate(wait).Add(wait)), "no batch leaves before its window ends: created %v, arrived %v", created.Format("05.000"), r.At.Format("05.000"))
	}
	require.Equal(t, []int{3, 3, 1}, sizes)
	require.Equal(t, ids, recv.Delivered(), "in creation order")
}

func TestZeroWaitSendsAtOnce(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	recv := apptest.NewReceiver(t)
	id := env.ActiveWebhook("Immediate", recv.URL, map[string]any{"batch_wait_ms": 0})
	for i := range 5 {
		ids := env.Deliver(id, items(1, strconv.Itoa(i))...)
		recv.WaitDelivered(t, 10*time.Second, ids)
	}
	require.Len(t, recv.Delivered(), 5)
}

// A delivery written while the webhook's holder is finishing its claim is
// sent at once, not left for the reconciler. Right after a re-test and
// activation, the activation's flush holds the webhook while the next
// item is written; that holder found the new row "not due yet" against
// the time its claim began (the row is due from its insert, a moment
// later), handed it to a flush task of a window that had already run,
// and the row waited: half of the runs of this test before the fix.
func TestADeliveryWrittenAsTheHolderFinishesGoesOut(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	recv := apptest.NewReceiver(t)
	id := env.ActiveWebhook("Re-tested", recv.URL, map[string]any{"batch_wait_ms": 0})
	retest := func(hashPII bool) {
		code, raw := env.Call("PATCH", hookPath(id, ""), map[string]any{"hash_pii": hashPII}, nil)
		require.Equal(t, http.StatusOK, code, raw)
		code, raw = env.Call("POST", hookPath(id, "/test"), nil, nil)
		require.Equal(t, http.StatusOK, code, raw)
		code, raw = env.Call("POST", hookPath(id, "/activate"), nil, nil)
		require.Equal(t, http.StatusOK, code, raw)
	}
	recv.WaitDelivered(t, 10*time.Second, env.Deliver(id, map[string]any{"n": 0}))
	for n := range 4 {
		retest(n%2 == 0)
		recv.WaitDelivered(t, 10*time.Second, env.Deliver(id, map[string]any{"n": n + 1}))
	}
}

// An item written while a worker holds its webhook is sent by that worker,
// with no flush task of its own. With one worker slot, held by the request
// in flight, a flush task enqueued for the second item would wait in
// Redis, so the count of tasks shows whether one was enqueued.
func TestAnItemWrittenWhileTheWebhookIsHeldGoesWithItsHolder(t *testing.T) {
	t.Parallel()
	// The first request is held for as long as the test needs: neither
	// the lease nor the HTTP timeout may run out meanwhile.
	env := apptest.Start(t, apptest.Options{WorkerConcurrency: 1, Lease: time.Minute, HTTPTimeout: time.Minute})
	recv := apptest.NewReceiver(t)
	id := env.ActiveWebhook("Held", recv.URL, map[string]any{"batch_wait_ms": 0, "batch_size": 1})
	hold := make(chan struct{})
	recv.Answer = func(_ int, r *apptest.Request) apptest.Answer {
		if r.Test {
			return apptest.Answer{Status: http.StatusOK}
		}
		return apptest.Answer{Status: http.StatusOK, Hold: hold}
	}
	first := env.Deliver(id, items(1, "first")...)
	recv.WaitFor(t, 10*time.Second, "the first item in flight", func() bool { return len(recv.Requests()) == 1 })
	require.Equal(t, 1, env.QueuedTasks(), "the flush sending the first item")

	second := env.Deliver(id, items(1, "second")...)
	require.Equal(t, 1, env.QueuedTasks(), "no flush task for an item whose webhook a worker holds")
	close(hold)
	recv.WaitDelivered(t, 10*time.Second, append(first, second...))
	require.Equal(t, append(first, second...), recv.Delivered(), "in order, one request each")
	require.Len(t, recv.Requests(), 2)
}

// A webhook deactivated while its request is out, and activated again
// after the request ended, takes deliveries at once: the worker found it
// out of service when it recorded the request, and let it go then. It kept
// the webhook until its lease ran out before, so the activation's flush and
// every later item waited for the reconciler.
func TestAWebhookPausedDuringARequestResumesAtOnce(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{Lease: time.Minute, HTTPTimeout: time.Minute})
	recv := apptest.NewReceiver(t)
	id := env.ActiveWebhook("Paused", recv.URL, map[string]any{"batch_wait_ms": 0, "batch_size": 1})
	hold := make(chan struct{})
	recv.Answer = func(n int, r *apptest.Request) apptest.Answer {
		if !r.Test && n == 1 { // after the activation's test request
			return apptest.Answer{Status: http.StatusOK, Hold: hold}
		}
		return apptest.Answer{Status: http.StatusOK}
	}
	first := env.Deliver(id, items(1, "first")...)
	recv.WaitFor(t, 10*time.Second, "the first item in flight", func() bool { return len(recv.Requests()) == 1 })
	code, raw := env.Call("POST", hookPath(id, "/deactivate"), nil, nil)
	require.Equal(t, http.StatusOK, code, raw)
	close(hold)
	env.WaitStatus(10*time.Second, models.DeliveryDelivered, first...)

	code, raw = env.Call("POST", hookPath(id, "/activate"), nil, nil)
	require.Equal(t, http.StatusOK, code, raw)
	next := env.Deliver(id, items(1, "next")...)
	recv.WaitDelivered(t, 10*time.Second, append(first, next...))
}

// deliveryOf reads one delivery of the webhook and the batch ids of the
// requests that carried it, oldest first.
func deliveryOf(t *testing.T, env *apptest.Env, webhookID int64, id string) (*models.Delivery, []string) {
	t.Helper()
	uid, err := models.ParseDeliveryID(id)
	require.NoError(t, err)
	d, err := env.Store.WebhookDelivery(context.Background(), env.Panel.ID, webhookID, uid)
	require.NoError(t, err)
	timeline, err := env.Store.DeliveryTimeline(context.Background(), d)
	require.NoError(t, err)
	var batches []string
	for _, a := range timeline {
		batches = append(batches, a.BatchID)
	}
	return d, batches
}

// oneRowBatchesHeldAt is a webhook of one-row batches, sent at once, whose
// receiver holds the request carrying the item with ref until release is
// called (at the latest when the test ends, before the receiver closes).
// Requests made from one claim may go unrecorded for as long as the test
// needs.
func oneRowBatchesHeldAt(t *testing.T, ref string) (env *apptest.Env, recv *apptest.Receiver, id int64, release func()) {
	t.Helper()
	env = apptest.Start(t, apptest.Options{Lease: time.Minute, HTTPTimeout: time.Minute, HoldUnrecorded: time.Minute})
	recv = apptest.NewReceiver(t)
	id = env.ActiveWebhook("One row each", recv.URL, map[string]any{"batch_wait_ms": 0, "batch_size": 1})
	hold := make(chan struct{})
	release = sync.OnceFunc(func() { close(hold) })
	t.Cleanup(release)
	recv.Answer = func(_ int, r *apptest.Request) apptest.Answer {
		if !r.Test && len(r.Items) == 1 && r.Items[0]["ref"] == ref {
			return apptest.Answer{Status: http.StatusOK, Hold: hold}
		}
		return apptest.Answer{Status: http.StatusOK}
	}
	return env, recv, id, release
}

// Batches of one row claimed together go out one request after another,
// and the requests the receiver took are recorded together, after the
// last: while the third request is out, the first two are answered but
// their rows still read as pending. Each row ends with its own attempt.
func TestSmallBatchesFromOneClaimAreRecordedTogether(t *testing.T) {
	t.Parallel()
	env, recv, id, release := oneRowBatchesHeldAt(t, "item-2")
	sent := env.Deliver(id, items(4, "item")...)
	recv.WaitFor(t, 10*time.Second, "the third request in flight", func() bool { return len(recv.Requests()) == 3 })
	for _, d := range sent[:2] {
		row, _ := deliveryOf(t, env, id, d)
		require.Equal(t, models.DeliveryPending, row.Status, "answered, not recorded yet")
	}
	release()
	env.WaitStatus(10*time.Second, models.DeliveryDelivered, sent...)
	require.Equal(t, sent, recv.Delivered(), "in order, one request each")
	seen := map[string]bool{}
	for _, d := range sent {
		row, batches := deliveryOf(t, env, id, d)
		require.Equal(t, 1, row.Attempts)
		require.Len(t, batches, 1, "one request carried it")
		require.False(t, seen[batches[0]], "each row has an attempt of its own")
		seen[batches[0]] = true
	}
}

// When the statement that records the requests made from one claim (and
// claims the next rows) fails, the requests have gone out all the same:
// the worker records them one by one and lets the webhook go, rather than
// leave them to be sent again once its lease runs out (a minute here).
func TestAFailedRecordOfSmallBatchesRecordsThemOneByOne(t *testing.T) {
	t.Parallel()
	// Hold the webhook's row so the recording statement waits, then
	// cancel that statement: it fails and records nothing.
	env, recv, id, sent, hold := fourRequestsOutUnder(t, `SELECT 1 FROM webhooks WHERE id = ? FOR UPDATE`)
	db := env.Store.DBForTest()
	cancelWaiting(t, env, recv, "the record statement", recordStatement)
	require.NoError(t, hold.Rollback().Error)

	env.WaitStatus(10*time.Second, models.DeliveryDelivered, sent...)
	for _, d := range sent {
		row, batches := deliveryOf(t, env, id, d)
		require.Equal(t, 1, row.Attempts)
		require.Len(t, batches, 1, "one request carried it")
	}
	require.Equal(t, sent, recv.Delivered(), "each once, in order")
	var free bool
	require.NoError(t, db.Raw(`SELECT send_lease_until IS NULL FROM webhooks WHERE id = ?`, id).Scan(&free).Error)
	require.True(t, free, "the webhook let go")
}

// The recording statement may commit and a later step of the same call
// fail: here letting the webhook go, after the claim found nothing more.
// The requests are recorded then, and the worker does not record them a
// second time (two attempts each in the log); it lets the webhook go
// rather than leave it to wait out the lease (a minute here).
func TestAFailureAfterTheRecordDoesNotRecordTwice(t *testing.T) {
	t.Parallel()
	// A deliveries-API write in progress holds the send lock shared, so
	// the release that follows the record waits; cancel it.
	env, recv, id, sent, hold := fourRequestsOutUnder(t, `SELECT pg_advisory_xact_lock_shared(-(?::bigint))`)
	db := env.Store.DBForTest()
	task := activeFlush(t, env, recv)
	cancelWaiting(t, env, recv, "the release", `UPDATE webhooks SET send_lease_until = NULL%`)
	require.NoError(t, hold.Rollback().Error)

	require.Contains(t, env.WaitTaskError(task), models.ErrAfterRecord.Error())
	env.WaitStatus(10*time.Second, models.DeliveryDelivered, sent...)
	for _, d := range sent {
		row, batches := deliveryOf(t, env, id, d)
		require.Equal(t, 1, row.Attempts)
		require.Len(t, batches, 1, "one attempt in its log")
	}
	var attempts int
	require.NoError(t, db.Raw(`SELECT count(*) FROM attempts WHERE webhook_id = ?`, id).Scan(&attempts).Error)
	require.Equal(t, 4, attempts)
	// The task's retry may take and release the lease meanwhile: wait
	// for it free, which it would not be for a minute were it kept.
	recv.WaitFor(t, 10*time.Second, "the webhook let go", func() bool {
		var free bool
		require.NoError(t, db.Raw(`SELECT send_lease_until IS NULL FROM webhooks WHERE id = ?`, id).Scan(&free).Error)
		return free
	})
}

// A request that brings a degraded webhook back to health calls for the
// "recovered" alert; when its record fails and the worker records it on
// its own, the alert still goes out.
func TestAFailedRecordStillSendsItsAlert(t *testing.T) {
	t.Parallel()
	env, recv, id, release := oneRowBatchesHeldAt(t, "item-0")
	db := env.Store.DBForTest()
	require.NoError(t, db.Exec(`UPDATE webhooks SET health = '{"state":"degraded","alerted":true}' WHERE id = ?`, id).Error)
	sent := env.Deliver(id, items(1, "item")...)
	recv.WaitFor(t, 10*time.Second, "the request in flight", func() bool { return len(recv.Requests()) == 1 })

	hold := db.Begin()
	t.Cleanup(func() { hold.Rollback() })
	require.NoError(t, hold.Exec(`SELECT 1 FROM webhooks WHERE id = ? FOR UPDATE`, id).Error)
	release()
	cancelWaiting(t, env, recv, "the record statement", recordStatement)
	require.NoError(t, hold.Rollback().Error)

	env.WaitStatus(10*time.Second, models.DeliveryDelivered, sent...)
	recv.WaitFor(t, 10*time.Second, "the recovered alert", func() bool {
		var n int
		require.NoError(t, db.Raw(`SELECT count(*) FROM alerts WHERE webhook_id = ? AND state = 'recovered'`, id).Scan(&n).Error)
		return n > 0
	})
}

// fourRequestsOutUnder sends four rows of a webhook one per request, from
// one claim, and has the receiver answer the last once lock (SQL taking a
// lock that names the webhook's id as ?) is held, in a transaction of the
// test's that it returns.
func fourRequestsOutUnder(t *testing.T, lock string) (env *apptest.Env, recv *apptest.Receiver, id int64, sent []string, hold *gorm.DB) {
	t.Helper()
	env, recv, id, release := oneRowBatchesHeldAt(t, "item-3")
	sent = env.Deliver(id, items(4, "item")...)
	recv.WaitFor(t, 10*time.Second, "the last request in flight", func() bool { return len(recv.Requests()) == 4 })
	hold = env.Store.DBForTest().Begin()
	t.Cleanup(func() { hold.Rollback() })
	require.NoError(t, hold.Exec(lock, id).Error)
	release()
	return env, recv, id, sent, hold
}

// recordStatement matches the statement that records requests and claims
// the next rows (deliveredAndClaimSQL) in pg_stat_activity.
const recordStatement = `%WITH RECURSIVE a AS (%INSERT INTO attempts%`

// cancelWaiting waits until a statement of this test's database matching
// like waits for a lock, and cancels it (pg_cancel_backend): it fails as
// a statement the database refused would.
func cancelWaiting(t *testing.T, env *apptest.Env, recv *apptest.Receiver, what, like string) {
	t.Helper()
	db := env.Store.DBForTest()
	var pid int
	recv.WaitFor(t, 10*time.Second, what+" waiting", func() bool {
		require.NoError(t, db.Raw(`SELECT coalesce(max(pid), 0) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE ?`, like).Scan(&pid).Error)
		return pid != 0
	})
	var cancelled bool
	require.NoError(t, db.Raw(`SELECT pg_cancel_backend(?)`, pid).Scan(&cancelled).Error)
	require.True(t, cancelled)
}

// activeFlush is the id of the one flush task running.
func activeFlush(t *testing.T, env *apptest.Env, recv *apptest.Receiver) string {
	t.Helper()
	var id string
	recv.WaitFor(t, 10*time.Second, "the flush running", func() bool {
		tasks, err := env.Enqueuer.Inspector.ListActiveTasks(env.Namespace + ":deliver")
		require.NoError(t, err)
		if len(tasks) == 1 {
			id = tasks[0].ID
		}
		return id != ""
	})
	return id
}

// A request that fails among those made from one claim records the ones
// before it, as delivered, and its own, for a retry; the rows after it
// wait behind it: they go out only after its retry.
func TestAFailureAmongSmallBatchesRecordsTheOnesBefore(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{Lease: time.Minute, HTTPTimeout: time.Minute, HoldUnrecorded: time.Minute,
		RetrySchedule: []time.Duration{time.Minute}})
	recv := apptest.NewReceiver(t)
	id := env.ActiveWebhook("Failing third", recv.URL, map[string]any{"batch_wait_ms": 0, "batch_size": 1})
	recv.Answer = func(_ int, r *apptest.Request) apptest.Answer {
		if !r.Test && len(r.Items) == 1 && r.Items[0]["ref"] == "item-2" {
			return apptest.Answer{Status: http.StatusInternalServerError}
		}
		return apptest.Answer{Status: http.StatusOK}
	}
	sent := env.Deliver(id, items(4, "item")...)
	env.WaitStatus(10*time.Second, models.DeliveryDelivered, sent[:2]...)
	recv.WaitFor(t, 10*time.Second, "the failed request recorded", func() bool {
		row, _ := deliveryOf(t, env, id, sent[2])
		return row.Attempts == 1
	})
	for i, d := range sent[:2] {
		row, batches := deliveryOf(t, env, id, d)
		require.Equal(t, models.DeliveryDelivered, row.Status, "row %d", i)
		require.Len(t, batches, 1)
	}
	third, batches := deliveryOf(t, env, id, sent[2])
	require.Equal(t, models.DeliveryPending, third.Status)
	require.Equal(t, http.StatusInternalServerError, third.LastStatusCode)
	require.Len(t, batches, 1)
	fourth, batches := deliveryOf(t, env, id, sent[3])
	require.Equal(t, models.DeliveryPending, fourth.Status)
	require.Zero(t, fourth.Attempts, "not sent ahead of the row waiting for its retry")
	require.Empty(t, batches)
	require.Len(t, recv.Requests(), 3, "three requests: the fourth row waits")
}

// A webhook deactivated while requests made from one claim go out holds
// its rows, those requests' rows among them; the ones that went out are
// recorded as delivered all the same, so the activation does not send
// them again.
func TestAWebhookPausedAmongSmallBatchesKeepsWhatWentOut(t *testing.T) {
	t.Parallel()
	env, recv, id, release := oneRowBatchesHeldAt(t, "item-1")
	sent := env.Deliver(id, items(2, "item")...)
	recv.WaitFor(t, 10*time.Second, "the second request in flight", func() bool { return len(recv.Requests()) == 2 })
	code, raw := env.Call("POST", hookPath(id, "/deactivate"), nil, nil)
	require.Equal(t, http.StatusOK, code, raw)
	row, _ := deliveryOf(t, env, id, sent[0])
	require.Equal(t, models.DeliveryHeld, row.Status, "answered but not recorded yet: held with the rest")
	release()
	env.WaitStatus(10*time.Second, models.DeliveryDelivered, sent...)
	for _, d := range sent {
		_, batches := deliveryOf(t, env, id, d)
		require.Len(t, batches, 1)
	}

	code, raw = env.Call("POST", hookPath(id, "/activate"), nil, nil)
	require.Equal(t, http.StatusOK, code, raw)
	next := env.Deliver(id, items(1, "next")...)
	recv.WaitDelivered(t, 10*time.Second, append(sent, next...))
	require.Equal(t, append(sent, next...), recv.Delivered(), "nothing sent twice")
}

// A worker that stops while its request is out cuts the request off after
// its grace, hands the row back and lets the webhook go, with a flush task
// for the next worker: the row goes out again at once, not when the send
// lease runs out (a minute here).
func TestAStoppingWorkerHandsItsWebhookOver(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{Lease: time.Minute, HTTPTimeout: time.Minute, StopGrace: 50 * time.Millisecond})
	recv := apptest.NewReceiver(t)
	id := env.ActiveWebhook("Deployed", recv.URL, map[string]any{"batch_wait_ms": 0, "batch_size": 1})
	hold := make(chan struct{})
	release := sync.OnceFunc(func() { close(hold) })
	t.Cleanup(release)
	recv.Answer = func(n int, r *apptest.Request) apptest.Answer {
		if !r.Test && n == 1 { // the first request after the activation's test
			return apptest.Answer{Status: http.StatusOK, Hold: hold}
		}
		return apptest.Answer{Status: http.StatusOK}
	}
	sent := env.Deliver(id, items(1, "item")...)
	recv.WaitFor(t, 10*time.Second, "the request in flight", func() bool { return len(recv.Requests()) == 1 })
	began := time.Now()
	env.StopWorker()
	// Not a speed target: asynq's shutdown timeout (30 s) is what a
	// stopping worker waited for when its flushes did not hand over, and
	// a process exits when that timeout ends.
	require.Less(t, time.Since(began), 20*time.Second, "the flush handed over before asynq stopped waiting for it")
	env.StartWorker()
	recv.WaitFor(t, 10*time.Second, "the row sent again", func() bool { return len(recv.Requests()) == 2 })
	env.WaitStatus(10*time.Second, models.DeliveryDelivered, sent...)
}

// A worker that stops while a webhook has a backlog stops after the
// request in flight: it records what went out and leaves the rest to the
// next worker, which sends it without sending anything twice. It used to
// go on until its task's budget ran out, and a request cut off by the
// process's exit left the webhook to wait for its lease.
func TestAStoppingWorkerLeavesTheBacklogToTheNext(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{Lease: time.Minute, HTTPTimeout: time.Minute})
	recv := apptest.NewReceiver(t)
	id := env.ActiveWebhook("Backlog", recv.URL, map[string]any{"batch_wait_ms": 0, "batch_size": 1})
	recv.Answer = func(_ int, r *apptest.Request) apptest.Answer {
		if r.Test {
			return apptest.Answer{Status: http.StatusOK}
		}
		return apptest.Answer{Status: http.StatusOK, Delay: 20 * time.Millisecond}
	}
	sent := env.Deliver(id, items(100, "item")...)
	recv.WaitFor(t, 10*time.Second, "the first request", func() bool { return len(recv.Requests()) >= 1 })
	before := len(recv.Requests())
	env.StopWorker()
	require.LessOrEqual(t, len(recv.Requests()), before+2, "the request in flight, and one begun before Stop at most")
	pending := 0
	for _, d := range sent {
		if row, _ := deliveryOf(t, env, id, d); row.Status == models.DeliveryPending {
			pending++
		}
	}
	require.Positive(t, pending, "the stopping worker left the backlog")
	require.Less(t, len(recv.Requests()), len(sent))
	env.StartWorker()
	recv.WaitDelivered(t, 20*time.Second, sent)
	require.Equal(t, sent, recv.Delivered(), "in order, nothing twice")
}

// A worker that stops while a flush reads the contacts for its template
// (here a lock holds the read up) cuts the read off after its grace and
// hands the webhook over, as it does a request: the next worker sends the
// row at once, not when the send lease runs out.
func TestAStopWhileReadingContactsHandsTheWebhookOver(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{Lease: time.Minute, HTTPTimeout: time.Minute, StopGrace: 50 * time.Millisecond,
		RetrySchedule: []time.Duration{2 * time.Second}})
	recv := apptest.NewReceiver(t)
	hook := env.ActiveWebhook("Template", recv.URL, map[string]any{"batch_wait_ms": 0, "batch_size": 1,
		"subscriptions": []any{map[string]any{"event": "Bought"}},
		"body_format":   "template", "body_template": `{"email": {{ contact.email | json }}, "id": {{ delivery_id | json }}}`})
	recv.Answer = func(n int, r *apptest.Request) apptest.Answer {
		if !r.Test && n == 1 { // the first request fails: its retry comes in 2 s
			return apptest.Answer{Status: http.StatusServiceUnavailable}
		}
		return apptest.Answer{Status: http.StatusOK}
	}
	ingestOK(t, env, env.IngestKey(), map[string]any{"event": "Bought", "user": map[string]any{"email": "ann@example.com"}})
	waitRequests(t, recv, 1)

	ctx := context.Background()
	db := env.Store.SQLDB()
	tx, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = tx.Rollback() })
	_, err = tx.ExecContext(ctx, `LOCK TABLE contacts IN ACCESS EXCLUSIVE MODE`)
	require.NoError(t, err)
	recv.WaitFor(t, 10*time.Second, "the retry's flush waiting to read contacts", func() bool {
		var n int
		_ = db.QueryRowContext(ctx, `SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
			WHERE c.relname = 'contacts' AND NOT l.granted
			  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&n)
		return n > 0
	})
	leased := func() bool {
		var held bool
		require.NoError(t, db.QueryRowContext(ctx, `SELECT send_lease_until IS NOT NULL FROM webhooks WHERE id = $1`, hook).Scan(&held))
		return held
	}
	require.True(t, leased(), "the flush holds the webhook")
	env.StopWorker()
	require.NoError(t, tx.Rollback())
	require.False(t, leased(), "the stopping worker let the webhook go")
	env.StartWorker()
	waitRequests(t, recv, 2)
}

// A request that gets its webhook disabled, among those made from one
// claim, records the ones before it as delivered before it holds the rest:
// they are not sent again when the webhook is back.
func TestADisablingFailureAmongSmallBatchesKeepsTheOnesBefore(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{Lease: time.Minute, HTTPTimeout: time.Minute, HoldUnrecorded: time.Minute})
	recv := apptest.NewReceiver(t)
	id := env.ActiveWebhook("Strict", recv.URL, map[string]any{"batch_wait_ms": 0, "batch_size": 1, "strict_disable": true})
	recv.Answer = func(_ int, r *apptest.Request) apptest.Answer {
		if !r.Test && len(r.Items) == 1 && r.Items[0]["ref"] == "item-2" {
			return apptest.Answer{Status: http.StatusServiceUnavailable}
		}
		return apptest.Answer{Status: http.StatusOK}
	}
	sent := env.Deliver(id, items(4, "item")...)
	env.WaitStatus(10*time.Second, models.DeliveryHeld, sent[2:]...)
	env.WaitStatus(10*time.Second, models.DeliveryDelivered, sent[:2]...)
	require.Len(t, recv.Requests(), 3)
}

// A flush whose budget ran out while it sent small batches from one claim
// records the ones the receiver took before it hands over to a fresh
// task: nothing goes out twice.
func TestAFlushOutOfBudgetRecordsItsSmallBatches(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{Lease: time.Minute, HTTPTimeout: time.Minute, HoldUnrecorded: time.Minute,
		Budget: time.Nanosecond})
	recv := apptest.NewReceiver(t)
	id := env.ActiveWebhook("Budget", recv.URL, map[string]any{"batch_wait_ms": 0, "batch_size": 1})
	sent := env.Deliver(id, items(6, "item")...)
	env.WaitStatus(10*time.Second, models.DeliveryDelivered, sent...)
	require.Equal(t, sent, recv.Delivered(), "in order, nothing twice")
}
