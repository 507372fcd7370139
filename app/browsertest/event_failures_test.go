package browsertest

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
)

// An event the database refused is not dropped silently: the settings
// page says so in red, with the event and PostgreSQL's reason.
// Screenshot: the settings page with the card.
func TestEventsSetAsideShowOnSettings(t *testing.T) {
	t.Parallel()
	ctx := tab(t) // first: it skips when there is no browser
	env := apptest.Start(t, apptest.Options{})
	env.User(email, password)
	// A constraint stands for any value PostgreSQL refuses.
	require.NoError(t, env.Store.DBForTest().Exec(
		`ALTER TABLE contacts ADD CONSTRAINT refuses_poison CHECK (external_id IS DISTINCT FROM 'poison')`).Error)
	code, raw := env.Ingest(env.IngestKey(), "crm", map[string]any{"event": "order", "event_id": "refused-1",
		"user": map[string]any{"external_id": "poison"}}, "")
	require.Equal(t, 200, code, raw)
	require.Eventually(t, func() bool {
		_, n, err := env.Store.EventFailures(context.Background(), env.Panel.ID, 1)
		require.NoError(t, err)
		return n == 1
	}, 10*time.Second, 20*time.Millisecond, "the event is set aside")

	signIn(t, ctx, env, email, password)
	do(t, ctx, chromedp.Navigate(env.URL+"/settings"))
	waitText(t, ctx, "#event-failures", "refused-1")
	card := text(t, ctx, "#event-failures")
	for _, want := range []string{"Events set aside", "could not process these events", "order", "crm", "refuses_poison"} {
		require.Contains(t, card, want)
	}
	require.Equal(t, "alert", get(t, ctx, chromedp.Evaluate[string](
		`document.querySelector('#event-failures .banner.bad').getAttribute('role')`)), "announced, and red")
	shot(t, ctx, "settings")
}
