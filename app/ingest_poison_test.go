package app_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/models"
)

// lockedBuffer is a log sink the workers may write while the test reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// An event whose data PostgreSQL refuses is set aside, and the events
// after it in its partition are processed: left in place, it failed its
// batch on every retry, and a quarter of the panel's events waited behind
// it for good, with nothing on any page to say so. The settings page
// lists it, with the reason; the log says which constraint, not what row.
func TestIngestSetsAsideAnEventTheDatabaseRefuses(t *testing.T) {
	t.Parallel()
	var logged lockedBuffer
	env := apptest.Start(t, apptest.Options{Log: slog.New(slog.NewTextHandler(&logged, nil))})
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
		map[string]any{"event": "order", "event_id": "refused", "user": map[string]any{"external_id": "poison", "email": "hidden.person@example.com"}},
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
	require.Contains(t, failures[0].Reason, "hidden.person@example.com", "the panel's own page shows the refused row")
	// The shared log names the refusal, not the refused row. It is
	// written just after the set-aside commits.
	require.Eventually(t, func() bool { return strings.Contains(logged.String(), "event set aside") },
		10*time.Second, 5*time.Millisecond, logged.String())
	require.Contains(t, logged.String(), "constraint=refuses_poison")
	require.NotContains(t, logged.String(), "hidden.person")
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
