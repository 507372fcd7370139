package app_test

import (
	"encoding/csv"
	"fmt"
	stdhtml "html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/models"
)

// logPath is a webhook's page with its delivery log filtered by query.
func logPath(hook int64, query url.Values) string {
	return "/webhooks/" + strconv.FormatInt(hook, 10) + "?" + query.Encode()
}

// deliveriesOf are a webhook's deliveries, oldest first.
func deliveriesOf(t *testing.T, env *apptest.Env, hook int64) []models.Delivery {
	t.Helper()
	var out []models.Delivery
	require.NoError(t, env.Store.DBForTest().Where("webhook_id = ?", hook).Order("id").Find(&out).Error)
	return out
}

// logRows are the delivery ids the page's log lists, in order.
func logRows(page string) []string {
	var out []string
	for _, part := range strings.Split(page, `<tr data-delivery="`)[1:] {
		id, _, _ := strings.Cut(part, `"`)
		out = append(out, id)
	}
	return out
}

// drawerOf is the delivery drawer of a log page.
func drawerOf(t *testing.T, page string) string {
	t.Helper()
	_, rest, ok := strings.Cut(page, `<aside class="drawer"`)
	require.True(t, ok, "the page has a drawer")
	drawer, _, ok := strings.Cut(rest, "</aside>")
	require.True(t, ok)
	return drawer
}

// linkOf is the address of the first link in html with attribute attr.
func linkOf(t *testing.T, html, attr string) *url.URL {
	t.Helper()
	m := regexp.MustCompile(`href="([^"]*)"[^>]*\b` + regexp.QuoteMeta(attr) + `\b`).FindStringSubmatch(html)
	require.NotNil(t, m, "a link marked %s", attr)
	u, err := url.Parse(stdhtml.UnescapeString(m[1]))
	require.NoError(t, err)
	return u
}

// otherPanelDelivery writes a delivery of a webhook of another panel
// (held: the webhook is untested), the event "theirs".
func otherPanelDelivery(t *testing.T, env *apptest.Env, panel string) (*models.Webhook, models.Delivery) {
	t.Helper()
	other, err := env.Store.EnsurePanel(t.Context(), panel)
	require.NoError(t, err)
	spec := models.DefaultWebhookSpec()
	spec.Label, spec.URL = "Theirs", "http://127.0.0.1:9/theirs"
	hook, err := env.Store.CreateWebhook(t.Context(), other.ID, spec)
	require.NoError(t, err)
	row := models.Delivery{ID: models.NewID(time.Now()), PanelID: other.ID, WebhookID: hook.ID, Item: []byte(`{"event": "theirs"}`),
		EventName: "theirs"}
	require.NoError(t, env.Store.EnqueueDeliveries(t.Context(), []models.Delivery{row}))
	return hook, row
}

// The log searched by contact (e-mail, phone, external id) or delivery id:
// journey and subscription deliveries note their contact and event, each
// row links to the contact page, and a search that finds nothing says so.
func TestDeliveryLogSearch(t *testing.T) {
	t.Parallel()
	env, recv, key, hook := journeyEnv(t, apptest.Options{})
	env.User(uiEmail, uiPassword)
	require.NoError(t, env.Store.SetPanelTimeZone(t.Context(), env.Panel.ID, "Asia/Kolkata"))
	journeyID := env.LiveJourney(fmt.Sprintf(`{"name": "Cart reminder", "reentry": "always", "nodes": [
	  {"id": "start", "type": "trigger", "event": "Added to Cart", "next": "hook"},
	  {"id": "hook", "type": "webhook", "webhook_id": %d, "next": "end"},
	  {"id": "end", "type": "stop"}]}`, hook))
	subscribed := env.ActiveWebhook("Sign-ups", recv.URL, map[string]any{"batch_wait_ms": 0,
		"subscriptions": []any{map[string]any{"event": "signup"}}})
	ingestOK(t, env, key, map[string]any{"event": "Added to Cart", "event_id": "ann-cart",
		"user": map[string]any{"email": "ann@example.com", "phone": "+91 98450 12345"}})
	ingestOK(t, env, key, map[string]any{"event": "Added to Cart", "event_id": "bob-cart", "user": map[string]any{"external_id": "bob-7"}})
	ingestOK(t, env, key, map[string]any{"event": "signup", "event_id": "ann-signup", "user": map[string]any{"email": "ann@example.com"}})
	recv.WaitFor(t, 10*time.Second, "three deliveries", func() bool { return len(recv.Delivered()) == 3 })

	rows := deliveriesOf(t, env, hook)
	require.Len(t, rows, 2)
	newestFirst := []string{models.DeliveryID(rows[1].ID), models.DeliveryID(rows[0].ID)}
	annContact, err := env.Store.FindContact(t.Context(), env.Panel.ID, models.Identity{Email: "ann@example.com"})
	require.NoError(t, err)
	// Events of different contacts are processed side by side: tell the
	// two deliveries apart by contact.
	ann, bob := rows[0], rows[1]
	if ann.ContactID == nil || *ann.ContactID != annContact.ID {
		ann, bob = bob, ann
	}
	require.NotNil(t, ann.ContactID, "a journey delivery notes its contact")
	require.Equal(t, annContact.ID, *ann.ContactID)
	require.Equal(t, "Added to Cart", ann.EventName)
	sub := deliveriesOf(t, env, subscribed)
	require.Len(t, sub, 1)
	require.NotNil(t, sub[0].ContactID, "a subscription delivery notes its event's contact")
	require.Equal(t, annContact.ID, *sub[0].ContactID)
	require.Equal(t, "signup", sub[0].EventName)

	ui := env.SignIn(uiEmail, uiPassword)
	annID, bobID := models.DeliveryID(ann.ID), models.DeliveryID(bob.ID)
	for _, tc := range []struct {
		name, q string
		want    []string
	}{
		{"e-mail", "ann@example.com", []string{annID}},
		{"e-mail in another case", " Ann@Example.com ", []string{annID}},
		{"phone", "+919845012345", []string{annID}},
		{"external id", "bob-7", []string{bobID}},
		{"delivery id", bobID, []string{bobID}},
		{"nothing", "", newestFirst},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := ui.Get(logPath(hook, url.Values{"q": {tc.q}}))
			require.Equal(t, http.StatusOK, res.Status, res.Body)
			require.Equal(t, tc.want, logRows(res.Body))
		})
	}

	// A row: journey (linked), event, time in the panel's zone with UTC on
	// hover, and the way to "why did it fire?".
	res := ui.Get(logPath(hook, url.Values{"q": {"ann@example.com"}}))
	require.Contains(t, res.Body, fmt.Sprintf(`<a href="/journeys/%d">Cart reminder</a>`, journeyID))
	require.Contains(t, res.Body, `<span class="mono">Added to Cart</span>`)
	require.Contains(t, res.Body, `href="/contacts?delivery=`+annID+`"`)
	require.Contains(t, res.Body, "Created (Asia/Kolkata)")
	ist, _ := time.LoadLocation("Asia/Kolkata")
	require.Contains(t, res.Body, fmt.Sprintf(`title="%s UTC">%s</time>`, ann.CreatedAt.UTC().Format("2006-01-02 15:04:05"),
		ann.CreatedAt.In(ist).Format("2006-01-02 15:04:05 MST")))
	require.Contains(t, res.Body, `Deliveries about contact <strong>ann@example.com</strong>`)
	// The contact page finds the contact of a subscription delivery too.
	res = ui.Get("/contacts?delivery=" + models.DeliveryID(sub[0].ID))
	require.Equal(t, http.StatusOK, res.Status)
	require.Contains(t, res.Body, `value="ann@example.com"`)

	// A search with a status; one that finds nothing; one that cannot be read.
	res = ui.Get(logPath(hook, url.Values{"q": {"ann@example.com"}, "status": {"failed"}}))
	require.Empty(t, logRows(res.Body))
	require.Contains(t, res.Body, "No deliveries match.")
	res = ui.Get(logPath(hook, url.Values{"q": {"nobody@example.com"}}))
	require.Empty(t, logRows(res.Body))
	require.Contains(t, res.Body, "No contact or delivery of this panel matches “nobody@example.com”.")
	res = ui.Get(logPath(hook, url.Values{"q": {"dlv_nonsense"}}))
	require.Equal(t, http.StatusOK, res.Status)
	require.Empty(t, logRows(res.Body))
	require.Contains(t, res.Body, "Not a delivery id: dlv_ and 26 letters and digits.")

	// The list fragment the page's script fetches: the rows alone, as filtered.
	res = ui.Get("/webhooks/" + strconv.FormatInt(hook, 10) + "/deliveries?q=bob-7")
	require.Equal(t, http.StatusOK, res.Status)
	require.NotContains(t, res.Body, "<html")
	require.Equal(t, []string{bobID}, logRows(res.Body))
}

// The CSV export: a header row, the filtered log, text that a spreadsheet
// would run as a formula neutralised, and quotes and newlines escaped.
func TestDeliveryLogCSV(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	env.User(uiEmail, uiPassword)
	recv := apptest.NewReceiver(t)
	hook := env.ActiveWebhook("Export", recv.URL, nil)
	events := []string{`=HYPERLINK("https://evil.example","x")`, "+1+1", "-2", "@SUM(A1)", "plain, with \"quotes\"\nand a newline"}
	var ids []string
	for _, ev := range events {
		ids = append(ids, env.Deliver(hook, map[string]any{"event": ev})...)
	}
	ui := env.SignIn(uiEmail, uiPassword)
	csvPath := "/webhooks/" + strconv.FormatInt(hook, 10) + "/deliveries.csv"

	res := ui.Get(csvPath)
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	require.Equal(t, "text/csv; charset=utf-8", res.Header.Get("Content-Type"))
	require.Contains(t, res.Header.Get("Content-Disposition"), "attachment")
	records, err := csv.NewReader(strings.NewReader(res.Body)).ReadAll()
	require.NoError(t, err)
	require.Equal(t, []string{"delivery_id", "created_at", "status", "attempts", "last_status_code", "last_error",
		"journey_id", "journey", "event", "contact_id", "delivered_at", "next_attempt_at"}, records[0])
	require.Len(t, records, 1+len(events))
	got := map[string]string{}
	for _, r := range records[1:] {
		got[r[0]] = r[8]
		require.Equal(t, "pending", r[2])
		_, err := time.Parse(time.RFC3339, r[1])
		require.NoError(t, err, "created_at is RFC 3339")
	}
	want := map[string]string{ids[0]: `'=HYPERLINK("https://evil.example","x")`, ids[1]: "'+1+1", ids[2]: "'-2",
		ids[3]: "'@SUM(A1)", ids[4]: "plain, with \"quotes\"\nand a newline"}
	require.Equal(t, want, got)
	require.Equal(t, ids[4], records[1][0], "newest first")

	// Filtered as the page is.
	res = ui.Get(csvPath + "?" + url.Values{"q": {ids[2]}}.Encode())
	records, err = csv.NewReader(strings.NewReader(res.Body)).ReadAll()
	require.NoError(t, err)
	require.Len(t, records, 2)
	require.Equal(t, ids[2], records[1][0])
	res = ui.Get(csvPath + "?status=delivered")
	records, err = csv.NewReader(strings.NewReader(res.Body)).ReadAll()
	require.NoError(t, err)
	require.Len(t, records, 1, "the header alone")
	// A filter that cannot be read is refused, not dropped.
	res = ui.Get(csvPath + "?status=lost")
	require.Equal(t, http.StatusBadRequest, res.Status)
	require.Contains(t, res.Body, "Pick a status from the list")
}

// "Replay selected" sends the ticked deliveries again and says how many;
// the others stay as they are, and an empty selection replays nothing
// (not every failed one).
func TestDeliveryLogReplaySelected(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	env.User(uiEmail, uiPassword)
	recv := apptest.NewReceiver(t)
	var fixed atomic.Bool
	recv.Answer = func(n int, _ *apptest.Request) apptest.Answer {
		if n == 0 || fixed.Load() { // the test before activation passes
			return apptest.Answer{Status: http.StatusOK}
		}
		return apptest.Answer{Status: http.StatusUnprocessableEntity, Body: `{"error": "no"}`}
	}
	hook := env.ActiveWebhook("Replay", recv.URL, map[string]any{"batch_size": 1, "batch_wait_ms": 0})
	bad := env.Deliver(hook, map[string]any{"n": 1}, map[string]any{"n": 2}, map[string]any{"n": 3})
	env.WaitStatus(20*time.Second, models.DeliveryFailed, bad...)
	ui := env.SignIn(uiEmail, uiPassword)
	replay := "/webhooks/" + strconv.FormatInt(hook, 10) + "/replay"
	back := logPath(hook, url.Values{"status": {"failed"}}) + "#logs"

	// Nothing ticked: nothing replayed, and the page says so as a failure.
	res := ui.Post(replay, url.Values{"scope": {"selected"}, "back": {back}}, nil)
	require.Equal(t, http.StatusSeeOther, res.Status)
	require.Equal(t, back, res.Location)
	page := ui.Follow(res)
	require.Contains(t, page.Body, `<div class="flash error" role="alert">Nothing was replayed: select the deliveries to send again first.</div>`)
	env.WaitStatus(time.Second, models.DeliveryFailed, bad...)

	// The page offers a box for each failed row, tied to the form.
	page = ui.Get(logPath(hook, nil))
	for _, id := range bad {
		require.Contains(t, page.Body, fmt.Sprintf(`name="delivery_id" value="%s" form="replay-selected"`, id))
	}
	require.Contains(t, page.Body, `<form id="replay-selected" method="post" action="/webhooks/`+strconv.FormatInt(hook, 10)+`/replay">`)

	// Two of three ticked, plus another panel's delivery, which is not
	// this webhook's and so not replayed.
	_, otherRow := otherPanelDelivery(t, env, "replay_other")
	fixed.Store(true)
	page = ui.Follow(ui.Post(replay, url.Values{"scope": {"selected"}, "back": {back},
		"delivery_id": {bad[0], bad[2], models.DeliveryID(otherRow.ID)}}, nil))
	require.Contains(t, page.Body, "Queued 2 of 3 selected for replay; 1 not failed or delivered (still on its way) left as is.")
	env.WaitStatus(20*time.Second, models.DeliveryDelivered, bad[0], bad[2])
	env.WaitStatus(time.Second, models.DeliveryFailed, bad[1])
	var kept models.Delivery
	require.NoError(t, env.Store.DBForTest().Take(&kept, "id = ?", otherRow.ID).Error)
	require.Equal(t, models.DeliveryHeld, kept.Status, "another panel's delivery is untouched")

	page = ui.Follow(ui.Post(replay, url.Values{"scope": {"selected"}, "delivery_id": {bad[1]}}, nil))
	require.Contains(t, page.Body, "Queued 1 delivery for replay.")
	env.WaitStatus(20*time.Second, models.DeliveryDelivered, bad[1])
}

// The delivery page (the log's drawer): the timeline of each request with
// its answer, headers without secrets, and the next retry; another
// panel's delivery is not found there, in the search or the export.
func TestDeliveryLogDrawerAndIsolation(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{RetrySchedule: []time.Duration{time.Hour}})
	env.User(uiEmail, uiPassword)
	recv := apptest.NewReceiver(t)
	recv.Answer = func(n int, _ *apptest.Request) apptest.Answer {
		if n == 0 { // the test before activation passes
			return apptest.Answer{Status: http.StatusOK}
		}
		return apptest.Answer{Status: http.StatusServiceUnavailable, Body: strings.Repeat("busy ", 400)}
	}
	hook := env.ActiveWebhook("Drawer", recv.URL, map[string]any{"batch_size": 10, "batch_wait_ms": 0,
		"headers": []any{map[string]any{"name": "X-Api-Key", "value": "key-secret-123"}}})
	ids := env.Deliver(hook, map[string]any{"event": "order_paid", "n": 1})
	recv.WaitFor(t, 20*time.Second, "the first attempt", func() bool { return len(recv.Requests()) == 1 })
	var d models.Delivery
	require.Eventually(t, func() bool {
		return env.Store.DBForTest().Take(&d, "webhook_id = ? AND attempts = 1 AND status = 'pending'", hook).Error == nil
	}, 10*time.Second, 20*time.Millisecond)

	ui := env.SignIn(uiEmail, uiPassword)
	// The delivery's page and the log's drawer show the same timeline.
	filtered := url.Values{"status": {"pending"}, "q": {ids[0]}, "since": {"2020-01-01T00:00"},
		"cursor": {models.DeliveryID(models.NewID(time.Now().Add(time.Hour)))}}
	withDrawer := url.Values{"delivery": {ids[0]}}
	for k, v := range filtered {
		withDrawer[k] = v
	}
	for _, tc := range []struct{ name, path string }{
		{"page", "/webhooks/" + strconv.FormatInt(hook, 10) + "/deliveries/" + ids[0]},
		{"drawer", logPath(hook, withDrawer)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := ui.Get(tc.path)
			require.Equal(t, http.StatusOK, res.Status, res.Body)
			body := res.Body
			if tc.name == "drawer" {
				body = drawerOf(t, res.Body)
				require.Contains(t, body, `<h2 id="delivery-h" tabindex="-1">Delivery <span class="mono wrap">`+ids[0])
			}
			require.Equal(t, 1, strings.Count(body, "data-attempt>"), "one attempt on the timeline")
			require.Contains(t, body, "HTTP 503")
			require.Contains(t, body, "(the first 1,000 characters)")
			require.Contains(t, body, "order_paid")
			require.Contains(t, body, "X-Api-Key")
			require.NotContains(t, res.Body, "key-secret-123", "request headers are redacted")
			require.Contains(t, body, `data-next>Next attempt`)
			require.Contains(t, body, "(attempt 2 of 9)")
		})
	}

	// The drawer keeps the log as it was: its row's link and its Close
	// carry the filter, search and page; Close drops the drawer and goes
	// back to the row.
	res := ui.Get(logPath(hook, withDrawer))
	require.Equal(t, []string{ids[0]}, logRows(res.Body))
	open := linkOf(t, res.Body, "data-open-drawer")
	require.Equal(t, "delivery-h", open.Fragment)
	want := url.Values{"tab": {"deliveries"}, "range": {"1h"}, "delivery": {ids[0]}}
	for k, v := range filtered {
		want[k] = v
	}
	require.Equal(t, want, open.Query())
	closing := linkOf(t, drawerOf(t, res.Body), "data-drawer-close")
	require.Equal(t, "row-"+ids[0], closing.Fragment)
	want.Del("delivery")
	require.Equal(t, want, closing.Query())
	require.Contains(t, res.Body, `id="row-`+ids[0]+`"`, "Close lands on the row")
	res = ui.Get(closing.String())
	require.Equal(t, http.StatusOK, res.Status)
	require.NotContains(t, res.Body, "data-drawer>", "closed")
	require.Equal(t, []string{ids[0]}, logRows(res.Body))

	// Another panel's webhook with a delivery.
	otherHook, otherRow := otherPanelDelivery(t, env, "drawer_other")
	otherID := models.DeliveryID(otherRow.ID)
	ours, theirs := strconv.FormatInt(hook, 10), strconv.FormatInt(otherHook.ID, 10)
	for _, tc := range []struct{ name, path string }{
		{"their delivery under our webhook", "/webhooks/" + ours + "/deliveries/" + otherID},
		{"their delivery under their webhook", "/webhooks/" + theirs + "/deliveries/" + otherID},
		{"their log", "/webhooks/" + theirs + "/deliveries"},
		{"their export", "/webhooks/" + theirs + "/deliveries.csv"},
		{"not a delivery id", "/webhooks/" + ours + "/deliveries/dlv_x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := ui.Get(tc.path)
			require.Equal(t, http.StatusNotFound, res.Status)
			require.NotContains(t, res.Body, "theirs")
		})
	}
	// A delivery of our panel's other webhook.
	var ourHook models.Webhook
	require.NoError(t, env.Store.DBForTest().Take(&ourHook, hook).Error)
	spec := models.DefaultWebhookSpec()
	spec.Label, spec.URL = "Sibling", "http://127.0.0.1:9/sibling"
	sibling, err := env.Store.CreateWebhook(t.Context(), ourHook.PanelID, spec)
	require.NoError(t, err)
	siblingRow := models.Delivery{ID: models.NewID(time.Now()), PanelID: ourHook.PanelID, WebhookID: sibling.ID,
		Item: []byte(`{"event": "sibling_event"}`), EventName: "sibling_event"}
	require.NoError(t, env.Store.EnqueueDeliveries(t.Context(), []models.Delivery{siblingRow}))
	for _, tc := range []struct{ name, delivery string }{
		{"their delivery", otherID},
		{"our other webhook's delivery", models.DeliveryID(siblingRow.ID)},
		{"not a delivery id", "dlv_x"},
		{"no such delivery", models.DeliveryID(models.NewID(time.Now()))},
	} {
		t.Run("drawer: "+tc.name, func(t *testing.T) {
			t.Parallel()
			res := ui.Get(logPath(hook, url.Values{"delivery": {tc.delivery}, "status": {"pending"}}))
			require.Equal(t, http.StatusNotFound, res.Status)
			drawer := drawerOf(t, res.Body)
			require.Contains(t, drawer, `<h2 id="delivery-h" tabindex="-1">Delivery not found</h2>`)
			require.Contains(t, drawer, "This webhook's log has no such delivery.")
			require.NotContains(t, drawer, "data-attempt")
			require.NotContains(t, res.Body, "theirs")
			require.NotContains(t, res.Body, "sibling_event")
			require.Equal(t, []string{ids[0]}, logRows(res.Body), "our log, as filtered, still shows")
			closing := linkOf(t, drawer, "data-drawer-close")
			require.Equal(t, "logs", closing.Fragment)
			require.Equal(t, url.Values{"tab": {"deliveries"}, "range": {"1h"}, "status": {"pending"}}, closing.Query())
		})
	}
	res = ui.Get(logPath(hook, url.Values{"q": {otherID}}))
	require.Equal(t, http.StatusOK, res.Status)
	require.Empty(t, logRows(res.Body))
	require.Contains(t, res.Body, "No deliveries match.")
	res = ui.Get("/webhooks/" + ours + "/deliveries.csv?" + url.Values{"q": {otherID}}.Encode())
	records, err := csv.NewReader(strings.NewReader(res.Body)).ReadAll()
	require.NoError(t, err)
	require.Len(t, records, 1, "the header alone")
}

// Issue 15: a delivery whose request is out stays pending until its
// answer is written. The log lists it under pending, offers no "sending"
// (it would always be empty), and says so when a link still asks for it.
func TestDeliveryLogInFlightIsPending(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{HTTPTimeout: 10 * time.Second})
	env.User(uiEmail, uiPassword)
	recv := apptest.NewReceiver(t)
	started := make(chan struct{}, 1)
	recv.Answer = func(n int, r *apptest.Request) apptest.Answer {
		if !r.Test && n == 1 {
			started <- struct{}{}
			return apptest.Answer{Status: 200, Delay: 5 * time.Second} // in flight until the test ends
		}
		return apptest.Answer{Status: 200}
	}
	hook := env.ActiveWebhook("Slow", recv.URL, map[string]any{"batch_wait_ms": 0})
	ids := env.Deliver(hook, items(1, "in-flight")...)
	<-started

	ui := env.SignIn(uiEmail, uiPassword)
	res := ui.Get(logPath(hook, url.Values{"status": {"pending"}}))
	require.Equal(t, http.StatusOK, res.Status)
	require.Equal(t, ids, logRows(res.Body), "the delivery in flight is pending")
	require.Contains(t, res.Body, `<option value="pending" selected>`)
	require.NotContains(t, res.Body, `<option value="sending"`)

	const why = "A delivery on its way is pending until its answer: pick pending."
	res = ui.Get(logPath(hook, url.Values{"status": {"sending"}}))
	require.Equal(t, http.StatusOK, res.Status)
	require.Contains(t, res.Body, why)
	res = ui.Get("/webhooks/" + strconv.FormatInt(hook, 10) + "/deliveries.csv?status=sending")
	require.Equal(t, http.StatusBadRequest, res.Status)
	require.Contains(t, res.Body, strings.TrimSuffix(why, "."))
}
