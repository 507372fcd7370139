package app_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/models"
)

// An event whose data PostgreSQL refuses is set aside, and the events
// after it in its partition are processed: left in place, it failed its
// batch on every retry, and a quarter of the panel's events waited behind
// it for good, with nothing on any page to say so. The settings page
// lists it, with the reason.
func TestIngestSetsAsideAnEventTheDatabaseRefuses(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	// A constraint stands for any value PostgreSQL refuses: a contact of
	// this external id cannot be stored.
	require.NoError(t, env.Store.DBForTest().Exec(
		`ALTER TABLE contacts ADD CONSTRAINT refuses_poison CHECK (external_id IS DISTINCT FROM 'poison')`).Error)
	part := models.PartOf(models.Identity{ExternalID: "poison"})
	var same []string // users whose events share the poison's partition
	for i := 0; len(same) < 2; i++ {
		if u := fmt.Sprintf("u%d", i); models.PartOf(models.Identity{ExternalID: u}) == part {
			same = append(same, u)
		}
	}
	code, raw := env.Ingest(env.IngestKey(), "crm", []any{
		map[string]any{"event": "signup", "event_id": "before", "user": map[string]any{"external_id": same[0]}},
		map[string]any{"event": "order", "event_id": "refused", "user": map[string]any{"external_id": "poison"}},
		map[string]any{"event": "signup", "event_id": "after", "user": map[string]any{"external_id": same[1]}},
	}, "")
	require.Equal(t, http.StatusOK, code, raw)

	for _, id := range []string{"before", "after"} {
		require.NotNil(t, processedEvent(t, env, id).ContactID, "%s processed", id)
	}
	refused := processedEvent(t, env, "refused")
	require.Nil(t, refused.ContactID, "set aside, not processed")
	failures, total, err := env.Store.EventFailures(context.Background(), env.Panel.ID, 10)
	require.NoError(t, err)
	require.EqualValues(t, 1, total)
	require.Equal(t, "refused", failures[0].EventID)
	require.Equal(t, "order", failures[0].Name)
	require.Equal(t, refused.ID, failures[0].Event)
	require.Contains(t, failures[0].Reason, "refuses_poison")
	_, others, err := env.Store.EventFailures(context.Background(), env.Panel.ID+1000, 10)
	require.NoError(t, err)
	require.Zero(t, others, "another panel's list is its own")

	env.User(uiEmail, uiPassword)
	page := env.SignIn(uiEmail, uiPassword).Get("/settings")
	require.Equal(t, http.StatusOK, page.Status)
	for _, want := range []string{"Events set aside", "could not process these events", ">refused<", "refuses_poison"} {
		require.Contains(t, page.Body, want)
	}
}
