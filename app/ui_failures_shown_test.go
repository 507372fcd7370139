package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
)

// A run ended because its next step was refused by the database is a
// failure: the runs page marks it as one (a red badge, with the reason),
// and the journey map shows, at the step where it ended, that a run ended
// there with an error, linking to it.
func TestUIRunEndedByRefusalLooksFailing(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	journeyID := env.LiveJourney(`{"name": "Refused", "nodes": [
	  {"id": "start", "type": "trigger", "event": "Signed Up", "next": "wait"},
	  {"id": "wait", "type": "wait_for_event", "event": "Placed Order", "within": "1h", "happened": "end", "timeout": "end"},
	  {"id": "end", "type": "stop"}]}`)
	ingestOK(t, env, env.IngestKey(), map[string]any{"event": "Signed Up", "user": map[string]any{"email": "ann@example.com"}})
	env.WaitRun(journeyID, "waiting at wait", func(r apptest.Run) bool { return r.Status == "waiting" && r.Node == "wait" })
	var id uuid.UUID
	require.NoError(t, env.Store.SQLDB().QueryRowContext(context.Background(),
		`SELECT id FROM journey_runs WHERE journey_id = $1`, journeyID).Scan(&id))
	// As journey.Engine.endRefused leaves it, once the wait is due.
	env.Store.Clock.Advance(2 * time.Hour)
	_, ended, err := env.Store.EndRefusedRun(context.Background(), id, nil,
		`its next step was refused by the database: new row violates check constraint "refuses_poison"`)
	require.NoError(t, err)
	require.True(t, ended)

	env.User(uiEmail, uiPassword)
	ui := env.SignIn(uiEmail, uiPassword)
	runs := ui.Get(fmt.Sprintf("/journeys/%d/runs", journeyID))
	require.Equal(t, http.StatusOK, runs.Status)
	require.Contains(t, runs.Body, "refuses_poison", "the reason is shown")
	require.Regexp(t, `class="badge bad"[^>]*>[^<]*ended`, runs.Body,
		"a run that ended with an error looks failing on the runs page, not as plain text like a completed run")

	page := ui.Get(fmt.Sprintf("/journeys/%d", journeyID))
	require.Equal(t, http.StatusOK, page.Status)
	svg := page.Body[strings.Index(page.Body, "<svg"):strings.Index(page.Body, "</svg>")]
	require.Contains(t, svg, "status=ended",
		"the journey map shows (and links to) the run that ended with an error at its step")
	require.NotContains(t, page.Body, "1 ended early",
		"a run ended by an error is not lumped with runs stopped on purpose as 'ended early'")
}

// A recipient stored before the Mailable check ("ops@example.com.") is left
// out of every alert (jobs/health: "left out of the e-mail rather than
// failing it for the others"). Settings must not list it as a recipient
// like the others: it says it gets no alert e-mail and why. And "Send a test
// alert" must not blame the mail server for it, nor fail the others'.
func TestUIUnmailableRecipientIsShownAsNotMailed(t *testing.T) {
	t.Parallel()
	smtp := apptest.StartSMTP(t)
	env := apptest.Start(t, apptest.Options{NoWorker: true, Mail: &smtp.Config})
	env.User(uiEmail, uiPassword)
	ui := env.SignIn(uiEmail, uiPassword)
	require.Equal(t, http.StatusSeeOther, ui.Post("/settings/alert-recipients", url.Values{"email": {"good@example.com"}}, nil).Status)
	// As stored before AddRecipient checked Mailable.
	require.NoError(t, env.Store.DBForTest().Exec(`INSERT INTO alert_recipients (panel_id, email, created_at, confirmed_at) VALUES (?, ?, now(), now())`,
		env.Panel.ID, "ops@example.com.").Error)

	page := ui.Get("/settings").Body
	at := strings.Index(page, "<td>ops@example.com.")
	require.GreaterOrEqual(t, at, 0, "the address is listed")
	row := page[at:]
	row, _, _ = strings.Cut(row, "</tr>")
	require.Contains(t, row, "badge bad", "the address every alert leaves out is marked as not mailed, not listed as a working recipient: %s", row)

	res := ui.Post("/settings/test-alert", url.Values{}, nil)
	require.Equal(t, http.StatusSeeOther, res.Status)
	after := ui.Get("/settings").Body
	require.NotContains(t, after, "the mail server refused it or did not answer",
		"the test alert's failure is the stored address's, not the mail server's; real alerts still reach good@example.com")
}
