package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/models"
)

// unstorableEvents are ingest bodies holding text jsonb refuses (unpaired
// UTF-16 surrogates, NUL) in keys and values at several depths, as JSON
// and in both form variants; each must be refused with a 400 naming where.
var unstorableEvents = []struct{ contentType, body, where string }{
	{jsonType, `{"event": "open", "properties": {"name": "\ud800"}}`, "properties.name"},
	{jsonType, `{"event": "open", "properties": {"\udfff": 1}}`, "properties"},
	{jsonType, `{"event": "open", "properties": {"items": [{"sku": "A1"}, {"sku": "x\ud83d\u0041"}]}}`, "properties.items[1].sku"},
	{jsonType, `{"event": "open", "user": {"email": "a@b.com", "city": "\u0000"}}`, "user.city"},
	{jsonType, `[{"event": "a"}, {"event": "b", "properties": {"deep": {"deeper": ["\udc00"]}}}]`, "event 1: properties.deep.deeper[0]"},
	{jsonType, `{"event": "\ud800", "event_id": "x"}`, "event"},
	{formType, "data=" + url.QueryEscape(`{"event": "open", "properties": {"note": "\ud800"}}`), "properties.note"},
	{formType, "event=open&note=%ED%A0%80", "note"},
	{formType, "event=open&note=a%00b", "note"},
}

// Panel A floods the ingest API with events PostgreSQL cannot store while
// panel B sends valid ones at the same time: every A request gets its 400
// naming the field, every B request its 200, and all of B's events are
// stored. (Before, A's events passed the parser and failed the INSERT they
// shared with B's: most of B's requests got a 500.)
func TestIngestBadEventsOfOnePanelFailNoOther(t *testing.T) {
	t.Parallel()
	const perPanel = 300
	env := apptest.Start(t, apptest.Options{NoWorker: true, IngestRateLimit: 10 * perPanel})
	keyA := env.IngestKey()
	panelB, err := env.Store.EnsurePanel(context.Background(), "panel_b")
	require.NoError(t, err)
	keyB, _, err := env.Store.CreateToken(context.Background(), panelB.ID, models.TokenIngest, "b")
	require.NoError(t, err)

	var reqs []badRequest
	where := map[int]string{} // A's requests: the field the answer must name
	for i := range perPanel {
		bad := unstorableEvents[i%len(unstorableEvents)]
		where[len(reqs)] = bad.where
		reqs = append(reqs,
			badRequest{kind: "A", auth: "Bearer " + keyA, source: "crm", contentType: bad.contentType, body: []byte(bad.body),
				status: http.StatusBadRequest},
			badRequest{kind: "B", auth: "Bearer " + keyB, source: "crm", contentType: jsonType,
				body: fmt.Appendf(nil, `{"event": "open", "event_id": "b-%d", "properties": {"n": %d, "emoji": "\ud83d\ude00"},`+
					` "user": {"email": "b%d@example.com"}}`, i, i, i),
				status: http.StatusOK, want: `{"success": true, "eventsReceived": 1}`})
	}

	// Many clients at once, so that requests of both panels share
	// statements (jobs.insertGroup).
	const clients = 24
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 30 * time.Second}
	t.Cleanup(client.CloseIdleConnections)
	answers := make([]answer, len(reqs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for i := range next {
				answers[i] = sendOne(client, env.URL, reqs[i])
			}
		})
	}
	for i := range reqs {
		next <- i
	}
	close(next)
	wg.Wait()

	statuses := map[string]map[int]int{"A": {}, "B": {}}
	var wrong []string
	for i, r := range reqs {
		a := answers[i]
		statuses[r.kind][a.status]++
		var got struct{ Error, Detail string }
		_ = json.Unmarshal([]byte(a.body), &got)
		namesField := r.kind == "B" || got.Error == "Invalid payload" && strings.HasPrefix(got.Detail, where[i]+": ")
		if a.err != nil || a.status != r.status || !answerMatches(r.want, a.body) || !namesField {
			wrong = append(wrong, fmt.Sprintf("panel %s %.80q → %d %s (%v), want %d %s", r.kind, r.body, a.status, a.body, a.err, r.status, r.want))
		}
	}
	t.Logf("answers by panel and status: %v", statuses)
	require.Empty(t, wrong, "%d requests were answered otherwise than documented", len(wrong))
	var storedA, storedB int64
	require.NoError(t, env.Store.DBForTest().Model(&models.Event{}).Where("panel_id = ?", env.Panel.ID).Count(&storedA).Error)
	require.NoError(t, env.Store.DBForTest().Model(&models.Event{}).Where("panel_id = ?", panelB.ID).Count(&storedB).Error)
	require.Zero(t, storedA, "none of panel A's events is stored")
	require.EqualValues(t, perPanel, storedB, "every one of panel B's events is stored")
}
