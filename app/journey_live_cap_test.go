package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
)

// A journey with nothing but a trigger, as a draft of the panel token names.
func draftJourney(t *testing.T, env *apptest.Env, token, name string) int64 {
	t.Helper()
	var j struct{ ID int64 }
	code, raw := env.CallAs(token, "POST", "/api/v1/journeys", fmt.Sprintf(`{"name": %q, "nodes": [
	  {"id": "t", "type": "trigger", "event": "Signed up", "next": "s"}, {"id": "s", "type": "stop"}]}`, name), &j)
	require.Equal(t, http.StatusCreated, code, raw)
	return j.ID
}

func journeyPath(id int64, action string) string {
	return "/api/v1/journeys/" + strconv.FormatInt(id, 10) + action
}

// Each live journey costs the sweeps every panel shares, so a panel may
// have HERALD_MAX_LIVE_JOURNEYS live at once: publishing one more is a
// 409 that changes nothing, in the API and in the builder; another
// panel's journeys do not count, nor does publishing a live one again.
func TestLiveJourneysOfAPanelAreBounded(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{MaxLiveJourneys: 2, NoWorker: true})
	a1, a2, a3 := draftJourney(t, env, env.Token, "A1"), draftJourney(t, env, env.Token, "A2"), draftJourney(t, env, env.Token, "A3")
	for _, id := range []int64{a1, a2} {
		code, raw := env.Call("POST", journeyPath(id, "/publish"), nil, nil)
		require.Equal(t, http.StatusOK, code, raw)
	}
	code, raw := env.Call("POST", journeyPath(a3, "/publish"), nil, nil)
	require.Equal(t, http.StatusConflict, code, raw)
	require.Contains(t, raw, "this panel has 2 live journeys, the most it may have at once; pause or stop one before publishing another")
	var j struct{ Status string }
	env.Call("GET", journeyPath(a3, ""), nil, &j)
	require.Equal(t, "draft", j.Status, "the refused publish changed nothing")

	code, raw = env.Call("POST", journeyPath(a1, "/publish"), nil, nil)
	require.Equal(t, http.StatusOK, code, "a live journey published again is not one more: %s", raw)

	other := env.TokenFor("live-cap-other")
	for _, name := range []string{"B1", "B2"} {
		code, raw := env.CallAs(other, "POST", journeyPath(draftJourney(t, env, other, name), "/publish"), nil, nil)
		require.Equal(t, http.StatusOK, code, "another panel's live journeys are its own: %s", raw)
	}

	// The builder says why, on the journey's page.
	env.User(uiEmail, uiPassword)
	ui := env.SignIn(uiEmail, uiPassword)
	page := ui.Submit(fmt.Sprintf("/journeys/%d/publish", a3), url.Values{})
	require.Contains(t, page.Body, "This panel has 2 live journeys, the most it may have at once; pause or stop one before publishing another.")

	code, raw = env.Call("POST", journeyPath(a2, "/pause"), nil, nil)
	require.Equal(t, http.StatusOK, code, raw)
	code, raw = env.Call("POST", journeyPath(a3, "/publish"), nil, nil)
	require.Equal(t, http.StatusOK, code, "a paused journey leaves room: %s", raw)
}

// Two publishes of one panel at once cannot both pass the bound: a publish
// waits for the one holding the panel, and counts what it committed.
func TestConcurrentPublishesDoNotPassTheBound(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{MaxLiveJourneys: 1, NoWorker: true})
	first, second := draftJourney(t, env, env.Token, "First"), draftJourney(t, env, env.Token, "Second")

	// A publish in flight: it holds the panel and has put First live, not
	// committed yet.
	ctx := context.Background()
	db := env.Store.SQLDB()
	tx, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = tx.Rollback() })
	_, err = tx.ExecContext(ctx, `SELECT FROM panels WHERE id = $1 FOR NO KEY UPDATE`, env.Panel.ID)
	require.NoError(t, err)
	_, err = tx.ExecContext(ctx, `UPDATE journeys SET status = 'live' WHERE id = $1`, first)
	require.NoError(t, err)
	var xid string
	require.NoError(t, tx.QueryRowContext(ctx, `SELECT txid_current()::text`).Scan(&xid))

	done := make(chan int, 1)
	go func() {
		code, _ := env.Call("POST", journeyPath(second, "/publish"), nil, nil)
		done <- code
	}()
	require.Eventually(t, func() bool {
		var waiting int
		err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid'
			AND transactionid = $1::xid AND NOT granted`, xid).Scan(&waiting)
		return err == nil && waiting > 0
	}, 10*time.Second, 5*time.Millisecond, "the second publish waits for the panel")
	require.NoError(t, tx.Commit())
	require.Equal(t, http.StatusConflict, <-done, "it counted First, live once the first publish committed")
}
