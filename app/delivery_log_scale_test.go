package app_test

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/models"
)

// scaleRows is how many deliveries the log is tried with: a busy webhook.
const scaleRows = 100_000

// The log stays a page of rows at 100,000 deliveries of one webhook: the
// first page, a search by contact, an older page and the CSV export
// (capped at 100,000 rows) render; the contact search reads its index. The
// durations are logged for the record, not asserted: this machine is shared.
func TestDeliveryLogAtScale(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	env.User(uiEmail, uiPassword)
	ctx := t.Context()
	var contact struct{ ID int64 }
	code, raw := env.Call("POST", "/api/v1/contacts", map[string]any{"email": "scale@example.com"}, &contact)
	require.Equal(t, http.StatusOK, code, raw)
	spec := models.DefaultWebhookSpec()
	spec.Label, spec.URL = "Busy", "http://127.0.0.1:9/busy"
	hook, err := env.Store.CreateWebhook(ctx, env.Panel.ID, spec)
	require.NoError(t, err)

	// One statement: ids are ULIDs (48 bits of milliseconds, then random
	// bits), one a millisecond over the last day; every 1,000th delivery
	// is the contact's.
	start := time.Now()
	base := time.Now().Add(-24 * time.Hour).UnixMilli()
	require.NoError(t, env.Store.DBForTest().Exec(`
		INSERT INTO deliveries (id, panel_id, webhook_id, item, status, next_attempt_at, created_at, updated_at, contact_id, event_name)
		SELECT (lpad(to_hex(?::bigint + n), 12, '0') || substr(md5(n::text), 1, 20))::uuid, ?, ?,
		       json_build_object('event', 'order_paid', 'n', n), 'held', now(), to_timestamp((?::bigint + n) / 1000.0), now(),
		       CASE WHEN n % 1000 = 0 THEN ?::bigint END, 'order_paid'
		FROM generate_series(0, ? - 1) AS n`, base, env.Panel.ID, hook.ID, base, contact.ID, scaleRows).Error)
	require.NoError(t, env.Store.DBForTest().Exec("ANALYZE deliveries").Error)
	t.Logf("seeded %d deliveries in %v", scaleRows, time.Since(start).Round(time.Millisecond))

	ui := env.SignIn(uiEmail, uiPassword)
	timed := func(what, path string) string {
		t.Helper()
		start := time.Now()
		res := ui.Get(path)
		t.Logf("%s: HTTP %d, %d bytes in %v", what, res.Status, len(res.Body), time.Since(start).Round(time.Millisecond))
		require.Equal(t, http.StatusOK, res.Status, res.Body)
		return res.Body
	}
	page := timed("log, first page", logPath(hook.ID, nil))
	require.Len(t, logRows(page), 50)
	older := strings.Split(strings.Split(page, `<nav class="pager" aria-label="Pages">`)[1], `href="`)[1]
	older, _, _ = strings.Cut(older, `"`)
	older = strings.ReplaceAll(older, "&amp;", "&")
	require.Contains(t, older, "cursor=dlv_")
	require.Len(t, logRows(timed("log, second page", older)), 50)

	require.Empty(t, logRows(timed("status failed (none: the whole log is read)", logPath(hook.ID, url.Values{"status": {"failed"}}))))
	search := timed("search by contact", logPath(hook.ID, url.Values{"q": {"scale@example.com"}}))
	require.Len(t, logRows(search), 50, "the contact has 100; a page shows 50")
	require.Empty(t, logRows(timed("search by contact, failed only", logPath(hook.ID, url.Values{"q": {"scale@example.com"}, "status": {"failed"}}))))
	first := logRows(page)[0]
	require.Equal(t, []string{first}, logRows(timed("search by delivery id", logPath(hook.ID, url.Values{"q": {first}}))))

	csvBody := timed("CSV export", "/webhooks/"+strconv.FormatInt(hook.ID, 10)+"/deliveries.csv")
	records, err := csv.NewReader(strings.NewReader(csvBody)).ReadAll()
	require.NoError(t, err)
	require.Len(t, records, 1+100_000, "the header and the cap")

	var plan []string
	require.NoError(t, env.Store.DBForTest().Raw(`EXPLAIN SELECT * FROM deliveries
		WHERE webhook_id = ? AND panel_id = ? AND contact_id = ? ORDER BY id DESC LIMIT 50`, hook.ID, env.Panel.ID, contact.ID).
		Scan(&plan).Error)
	t.Logf("contact search plan:\n%s", strings.Join(plan, "\n"))
	require.Contains(t, strings.Join(plan, "\n"), "deliveries_webhook_contact")
}
