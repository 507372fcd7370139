package journey

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modeltest"
)

// Concurrent requests share statements, yet each learns exactly which of
// its own events were new, and a repeat across requests of the same group
// is stored once.
func TestInsertGroupSharesStatements(t *testing.T) {
	t.Parallel()
	store := modeltest.Store(t)
	ctx := context.Background()
	a, err := store.EnsurePanel(ctx, "group_a")
	require.NoError(t, err)
	b, err := store.EnsurePanel(ctx, "group_b")
	require.NoError(t, err)
	event := func(panel *models.Panel, id string) models.Event {
		now := time.Now()
		return models.Event{ID: models.NewID(now), PanelID: panel.ID, EventID: id, Source: "test", Name: "open",
			Properties: map[string]any{}, OccurredAt: now, ReceivedAt: now}
	}
	var g insertGroup
	const requests = 64
	results, errs := make([][]bool, requests), make([]error, requests)
	var wg sync.WaitGroup
	for i := range requests {
		wg.Go(func() {
			panel := a
			if i%2 == 1 {
				panel = b
			}
			// Each request: one event of its own, and one that every
			// request of its panel sends.
			evs := []models.Event{event(panel, fmt.Sprintf("own-%d", i)), event(panel, "shared")}
			results[i], errs[i] = g.insert(ctx, store, evs)
		})
	}
	wg.Wait()
	sharedStored := map[bool]int{}
	for i, fresh := range results {
		require.NoError(t, errs[i])
		require.Len(t, fresh, 2)
		require.True(t, fresh[0], "request %d: its own event is new", i)
		if fresh[1] {
			sharedStored[i%2 == 1]++
		}
	}
	require.Equal(t, map[bool]int{false: 1, true: 1}, sharedStored, "the shared event is new for exactly one request per panel")
	var n int64
	require.NoError(t, store.DBForTest().Model(&models.Event{}).Count(&n).Error)
	require.EqualValues(t, requests+2, n)
	g.mu.Lock()
	defer g.mu.Unlock()
	require.Zero(t, g.running, "every slot is given back")
	require.Empty(t, g.queue)
}

// insertEvent is an event of panel with properties given as JSON text,
// stored as is (what the ingest API does with the sender's properties).
func insertEvent(panel *models.Panel, id, props string) models.Event {
	now := time.Now()
	return models.Event{ID: models.NewID(now), PanelID: panel.ID, EventID: id, Source: "test", Name: "open",
		Properties: map[string]any{}, RawProperties: []byte(props), OccurredAt: now, ReceivedAt: now}
}

// badProperties are properties the parser would refuse and jsonb refuses:
// sent here as they are, to prove the group's isolation on its own.
var badProperties = []string{`{"a": "\ud800"}`, `{"\udfff": 1}`, `{"a": "x\u0000y"}`, `{"a": ["\ud83d\u0041"]}`}

// One request's value that PostgreSQL refuses fails that request only: the
// other requests of its statement are stored and told which events were
// new, as if they had gone alone.
func TestInsertGroupIsolatesABadRequest(t *testing.T) {
	t.Parallel()
	store := modeltest.Store(t)
	ctx := context.Background()
	a, err := store.EnsurePanel(ctx, "isolate_a")
	require.NoError(t, err)
	b, err := store.EnsurePanel(ctx, "isolate_b")
	require.NoError(t, err)
	_, err = store.InsertEvents(ctx, []models.Event{insertEvent(b, "b-old", `{}`)})
	require.NoError(t, err)
	for _, props := range badProperties {
		t.Run(props, func(t *testing.T) {
			t.Parallel()
			// The requests of one group, queued as concurrent requests
			// would be, then run as one statement.
			var g insertGroup
			reqs := []*insertReq{
				{events: []models.Event{insertEvent(b, "b1-"+props, `{"n": 1}`), insertEvent(b, "b-old", `{}`)}},
				{events: []models.Event{insertEvent(a, "a-good-"+props, `{}`), insertEvent(a, "a-bad-"+props, props)}},
				{events: []models.Event{insertEvent(b, "b2-"+props, `{"emoji": "\ud83d\ude00"}`)}},
			}
			for _, r := range reqs {
				r.done = make(chan struct{})
			}
			g.queue = reqs
			g.runOne(store)
			for _, r := range reqs {
				<-r.done
			}
			reason, isData := models.DataError(reqs[1].err)
			require.True(t, isData, "panel A's request fails with a data error: %v", reqs[1].err)
			require.NotEmpty(t, reason)
			require.NoError(t, reqs[0].err)
			require.Equal(t, []bool{true, false}, reqs[0].fresh, "b1 is new, b-old was stored before")
			require.NoError(t, reqs[2].err)
			require.Equal(t, []bool{true}, reqs[2].fresh)
			var stored []string
			require.NoError(t, store.DBForTest().Model(&models.Event{}).Where("event_id IN ?",
				[]string{"b1-" + props, "b2-" + props, "a-good-" + props, "a-bad-" + props}).Order("event_id").
				Pluck("event_id", &stored).Error)
			require.Equal(t, []string{"b1-" + props, "b2-" + props}, stored,
				"panel B's events are stored; none of panel A's failed request is")
		})
	}
}

// Panel A floods events PostgreSQL refuses while panel B sends valid ones
// at the same time: every one of B's requests succeeds and is stored.
func TestInsertGroupFloodOfBadEvents(t *testing.T) {
	t.Parallel()
	store := modeltest.Store(t)
	ctx := context.Background()
	a, err := store.EnsurePanel(ctx, "flood_a")
	require.NoError(t, err)
	b, err := store.EnsurePanel(ctx, "flood_b")
	require.NoError(t, err)
	const perPanel = 200
	var g insertGroup
	errsA, errsB := make([]error, perPanel), make([]error, perPanel)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range perPanel {
		wg.Go(func() {
			<-start
			_, errsA[i] = g.insert(ctx, store, []models.Event{insertEvent(a, fmt.Sprintf("a-%d", i), badProperties[i%len(badProperties)])})
		})
		wg.Go(func() {
			<-start
			_, errsB[i] = g.insert(ctx, store, []models.Event{insertEvent(b, fmt.Sprintf("b-%d", i), `{"ok": true}`)})
		})
	}
	close(start)
	wg.Wait()
	failedB := 0
	for i := range perPanel {
		_, isData := models.DataError(errsA[i])
		require.True(t, isData, "request a-%d fails with a data error: %v", i, errsA[i])
		if errsB[i] != nil {
			failedB++
		}
	}
	require.Zero(t, failedB, "panel B's requests that failed, of %d", perPanel)
	var stored int64
	require.NoError(t, store.DBForTest().Model(&models.Event{}).Where("panel_id = ?", b.ID).Count(&stored).Error)
	require.EqualValues(t, perPanel, stored)
	require.NoError(t, store.DBForTest().Model(&models.Event{}).Where("panel_id = ?", a.ID).Count(&stored).Error)
	require.Zero(t, stored)
}
