package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/jobs/health"
)

var consentLinkPattern = regexp.MustCompile(`http://[^\s/]+(/alert-recipients/confirm/hrcp_[A-Za-z0-9]{40})`)

type recipientAnswer struct {
	ID           int64  `json:"id"`
	Email        string `json:"email"`
	Confirmed    bool   `json:"confirmed"`
	Confirmation string `json:"confirmation"`
	Message      string `json:"message"`
}

// consentLink is the path of the last link mailed to email.
func consentLink(t *testing.T, smtp *apptest.SMTP, email string) string {
	t.Helper()
	for _, m := range slicesReversed(smtp.Mails()) {
		if len(m.To) == 1 && m.To[0] == email && strings.Contains(m.Subject, "Alert e-mail for panel") {
			got := consentLinkPattern.FindStringSubmatch(m.Text)
			require.NotNil(t, got, "a link in %q", m.Text)
			require.Contains(t, m.HTML, got[1])
			return got[1]
		}
	}
	t.Fatalf("no link mailed to %s", email)
	return ""
}

func slicesReversed[T any](s []T) []T {
	out := make([]T, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

func mailsTo(smtp *apptest.SMTP, email string) (n int) {
	for _, m := range smtp.Mails() {
		for _, to := range m.To {
			if to == email {
				n++
			}
		}
	}
	return n
}

// An address added as an alert recipient is mailed a link, and gets alerts
// only once its owner agrees through it: opening the link changes
// nothing, its "yes" button does. An address that never agrees gets no
// alert. The link cannot be asked for again at once, nor for an address
// that agreed.
func TestARecipientGetsAlertsOnlyOnceItsOwnerAgrees(t *testing.T) {
	t.Parallel()
	smtp := apptest.StartSMTP(t)
	env := apptest.Start(t, apptest.Options{Mail: &smtp.Config})
	var yes, silent recipientAnswer
	code, raw := env.Call("POST", "/api/v1/alert-recipients", map[string]any{"email": "yes@consent.example"}, &yes)
	require.Equal(t, http.StatusCreated, code, raw)
	require.False(t, yes.Confirmed)
	require.Equal(t, "sent", yes.Confirmation)
	code, raw = env.Call("POST", "/api/v1/alert-recipients", map[string]any{"email": "silent@consent.example"}, &silent)
	require.Equal(t, http.StatusCreated, code, raw)
	require.Equal(t, "sent", silent.Confirmation)
	link := consentLink(t, smtp, "yes@consent.example")

	code, raw = env.Call("POST", fmt.Sprintf("/api/v1/alert-recipients/%d/confirmation", yes.ID), nil, nil)
	require.Equal(t, http.StatusTooManyRequests, code, "asked a moment ago: %s", raw)

	visitor := env.NewUI()
	page := visitor.Get(link)
	require.Equal(t, http.StatusOK, page.Status)
	require.Contains(t, page.Body, env.Panel.Name)
	require.Contains(t, page.Body, "yes@consent.example")
	got, err := env.Store.RecipientsFor(context.Background(), env.Panel.ID, 0)
	require.NoError(t, err)
	require.Empty(t, got, "opening the link agrees to nothing")

	res := visitor.Post(link, url.Values{"answer": {"yes"}}, nil)
	require.Equal(t, http.StatusSeeOther, res.Status, res.Body)
	require.Equal(t, "/alert-recipients/answered", res.Location)
	require.Contains(t, visitor.Follow(res).Body, "yes@consent.example now gets alert e-mail")
	require.Equal(t, http.StatusNotFound, visitor.Get(link).Status, "a link works once")

	var list struct {
		AlertRecipients []recipientAnswer `json:"alert_recipients"`
	}
	env.Call("GET", "/api/v1/alert-recipients", nil, &list)
	confirmed := map[string]bool{}
	for _, r := range list.AlertRecipients {
		confirmed[r.Email] = r.Confirmed
	}
	require.Equal(t, map[string]bool{"yes@consent.example": true, "silent@consent.example": false}, confirmed)
	code, raw = env.Call("POST", fmt.Sprintf("/api/v1/alert-recipients/%d/confirmation", yes.ID), nil, nil)
	require.Equal(t, http.StatusConflict, code, raw)

	// An alert goes to the address that agreed, in the same session it
	// would have gone to the other.
	var hook struct{ ID int64 }
	code, raw = env.Call("POST", "/api/v1/webhooks", map[string]any{"label": "orders", "url": "https://orders.example/hook"}, &hook)
	require.Equal(t, http.StatusCreated, code, raw)
	w, err := env.Store.WebhookByID(context.Background(), hook.ID)
	require.NoError(t, err)
	env.Tracker.Alert(context.Background(), w, health.AlertDisabled, health.Health{}, health.Defaults, 0)
	deadline := time.Now().Add(30 * time.Second)
	for mailsTo(smtp, "yes@consent.example") < 2 {
		require.False(t, time.Now().After(deadline), "the alert never reached the address that agreed")
		time.Sleep(20 * time.Millisecond)
	}
	require.Equal(t, 1, mailsTo(smtp, "silent@consent.example"), "the link only: no alert")
}

// Saying no through the link removes the address from the panel's
// recipients; the link then works no more.
func TestSayingNoRemovesTheRecipient(t *testing.T) {
	t.Parallel()
	smtp := apptest.StartSMTP(t)
	env := apptest.Start(t, apptest.Options{NoWorker: true, Mail: &smtp.Config})
	var r recipientAnswer
	code, raw := env.Call("POST", "/api/v1/alert-recipients", map[string]any{"email": "no@consent.example"}, &r)
	require.Equal(t, http.StatusCreated, code, raw)
	link := consentLink(t, smtp, "no@consent.example")
	visitor := env.NewUI()
	require.Equal(t, http.StatusBadRequest, visitor.Post(link, url.Values{"answer": {"maybe"}}, nil).Status)
	res := visitor.Post(link, url.Values{"answer": {"no"}}, nil)
	require.Equal(t, http.StatusSeeOther, res.Status, res.Body)
	require.Contains(t, visitor.Follow(res).Body, "the panel cannot ask it again for 30 days")
	var list struct {
		AlertRecipients []recipientAnswer `json:"alert_recipients"`
	}
	env.Call("GET", "/api/v1/alert-recipients", nil, &list)
	require.Empty(t, list.AlertRecipients)
	require.Equal(t, http.StatusNotFound, visitor.Get(link).Status)
	require.Equal(t, http.StatusNotFound, visitor.Get("/alert-recipients/confirm/hrcp_unknown").Status)

	// The no holds: the panel cannot add the address again for a while,
	// through the API or the settings page, and nothing is mailed.
	mailed := len(smtp.Mails())
	code, raw = env.Call("POST", "/api/v1/alert-recipients", map[string]any{"email": "NO@consent.example"}, nil)
	require.Equal(t, http.StatusConflict, code, raw)
	require.Contains(t, raw, "said no to this panel's alert e-mail")
	env.User(uiEmail, uiPassword)
	ui := env.SignIn(uiEmail, uiPassword)
	page := ui.Post("/settings/alert-recipients", url.Values{"email": {"no@consent.example"}}, nil)
	require.Equal(t, http.StatusSeeOther, page.Status)
	require.Contains(t, ui.Follow(page).Body, "said no to this panel")
	env.Call("GET", "/api/v1/alert-recipients", nil, &list)
	require.Empty(t, list.AlertRecipients)
	require.Len(t, smtp.Mails(), mailed)
}

// Panels cannot take turns mailing one address: after a few links within
// the hour from all panels together, a panel that adds it is told no link
// went, and the address gets no more mail.
func TestPanelsCannotFloodAnAddressWithLinks(t *testing.T) {
	t.Parallel()
	smtp := apptest.StartSMTP(t)
	env := apptest.Start(t, apptest.Options{NoWorker: true, Mail: &smtp.Config})
	const victim = "victim@consent.example"
	var outcomes []string
	for i := range 7 {
		var r recipientAnswer
		code, raw := env.CallAs(env.TokenFor(fmt.Sprintf("consent_flood_%d", i)), "POST", "/api/v1/alert-recipients",
			map[string]any{"email": victim}, &r)
		require.Equal(t, http.StatusCreated, code, raw)
		outcomes = append(outcomes, r.Confirmation)
		if r.Confirmation == "not_sent" {
			require.Contains(t, r.Message, "asked many times")
		}
	}
	require.Equal(t, []string{"sent", "sent", "sent", "sent", "sent", "not_sent", "not_sent"}, outcomes)
	require.Equal(t, 5, mailsTo(smtp, victim))
}

// The settings page tells which recipients have not agreed yet, sends the
// link again on request, and words what became of it.
func TestUIShowsRecipientsWaitingForConsent(t *testing.T) {
	t.Parallel()
	smtp := apptest.StartSMTP(t)
	env := apptest.Start(t, apptest.Options{NoWorker: true, Mail: &smtp.Config})
	env.User(uiEmail, uiPassword)
	ui := env.SignIn(uiEmail, uiPassword)
	res := ui.Post("/settings/alert-recipients", url.Values{"email": {"wait@consent.example"}}, nil)
	require.Equal(t, http.StatusSeeOther, res.Status)
	page := ui.Follow(res).Body
	require.Contains(t, page, "A link to agree went to wait@consent.example")
	require.Contains(t, page, "not agreed yet")
	// Each row's buttons name their address to screen readers.
	require.Contains(t, page, `aria-label="Remove wait@consent.example"`)
	require.Contains(t, page, `aria-label="Send the link to agree to wait@consent.example again"`)
	require.Equal(t, 1, mailsTo(smtp, "wait@consent.example"))
	rs, err := env.Store.ListRecipients(context.Background(), env.Panel.ID)
	require.NoError(t, err)
	require.Len(t, rs, 1)
	res = ui.Post(fmt.Sprintf("/settings/alert-recipients/%d/confirmation", rs[0].ID), url.Values{}, nil)
	require.Equal(t, http.StatusSeeOther, res.Status)
	require.Contains(t, ui.Follow(res).Body, "less than 10 minutes ago")
	require.Equal(t, 1, mailsTo(smtp, "wait@consent.example"))

	// A link that ran out unanswered looks so.
	require.NoError(t, env.Store.DBForTest().Exec(`UPDATE alert_recipients SET confirm_expires_at = now() - interval '1 second' WHERE id = ?`,
		rs[0].ID).Error)
	require.Contains(t, ui.Get("/settings").Body, "data-expired")
	require.NoError(t, env.Store.DBForTest().Exec(`UPDATE alert_recipients SET confirm_expires_at = now() + interval '1 day' WHERE id = ?`,
		rs[0].ID).Error)

	link := consentLink(t, smtp, "wait@consent.example")
	owner := env.NewUI()
	require.Regexp(t, `The link works until \d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2} UTC\.`, owner.Get(link).Body,
		"as the e-mail writes it")
	res = owner.Post(link, url.Values{"answer": {"yes"}}, nil)
	require.Equal(t, http.StatusSeeOther, res.Status)
	require.Contains(t, owner.Follow(res).Body, "use the link at the foot of any alert e-mail")
	require.NotContains(t, ui.Get("/settings").Body, "data-unconfirmed")
	// Opened again, the link says it does not work, on a page for the
	// recipient, not the app's error page with its menus.
	used := owner.Get(link)
	require.Equal(t, http.StatusNotFound, used.Status)
	require.Contains(t, used.Body, "This link does not work")
	require.NotContains(t, used.Body, `href="/webhooks"`)
}

var optOutLinkPattern = regexp.MustCompile(`http://[^\s/]+(/alert-recipients/stop/[A-Za-z0-9_-]+)`)

// Each alert e-mail carries a link of its recipient's own that stops the
// panel's alerts to that address: opening it changes nothing, its button
// removes the address from the panel's recipients (no other panel's),
// and a link altered or used does not work.
func TestAnAlertCarriesALinkThatStopsIt(t *testing.T) {
	t.Parallel()
	smtp := apptest.StartSMTP(t)
	env := apptest.Start(t, apptest.Options{Mail: &smtp.Config})
	ctx := context.Background()
	env.AgreedRecipient(env.Panel.ID, "stop@consent.example", nil)
	env.AgreedRecipient(env.Panel.ID, "stay@consent.example", nil)
	other, err := env.Store.EnsurePanel(ctx, "consent_stop_other")
	require.NoError(t, err)
	env.AgreedRecipient(other.ID, "stop@consent.example", nil)

	var hook struct{ ID int64 }
	code, raw := env.Call("POST", "/api/v1/webhooks", map[string]any{"label": "orders", "url": "https://orders.example/hook"}, &hook)
	require.Equal(t, http.StatusCreated, code, raw)
	w, err := env.Store.WebhookByID(ctx, hook.ID)
	require.NoError(t, err)
	env.Tracker.Alert(ctx, w, health.AlertDisabled, health.Health{}, health.Defaults, 0)
	links := map[string]string{}
	for _, m := range smtp.WaitFor(t, 30*time.Second, 2) {
		got := optOutLinkPattern.FindStringSubmatch(m.Text)
		require.NotNil(t, got, m.Text)
		require.Contains(t, m.HTML, got[1])
		require.Equal(t, "<"+got[0]+">", m.ListUnsubscribe, "mail programs offer the same link")
		require.NotContains(t, got[1], "consent.example", "the link does not name the address")
		links[m.To[0]] = got[1]
	}
	require.Len(t, links, 2)
	require.NotEqual(t, links["stop@consent.example"], links["stay@consent.example"], "a link of each recipient's own")

	visitor := env.NewUI()
	link := links["stop@consent.example"]
	page := visitor.Get(link)
	require.Equal(t, http.StatusOK, page.Status)
	require.Contains(t, page.Body, "stop@consent.example")
	tampered := link[:len(link)-2] + map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(link, "AA")]
	require.Equal(t, http.StatusNotFound, visitor.Get(tampered).Status)
	require.Equal(t, http.StatusNotFound, visitor.Post(tampered, url.Values{}, nil).Status)

	// A mail provider's one-click POST (RFC 8058): no cookie, no Origin.
	oneClick, err := http.Post(env.URL+link, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	require.NoError(t, err)
	require.NoError(t, oneClick.Body.Close())
	require.Equal(t, http.StatusOK, oneClick.StatusCode, "the redirect is followed to the answered page")
	got, err := env.Store.RecipientsFor(ctx, env.Panel.ID, hook.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"stay@consent.example"}, got)
	got, err = env.Store.RecipientsFor(ctx, other.ID, 0)
	require.NoError(t, err)
	require.Equal(t, []string{"stop@consent.example"}, got, "another panel's alerts to the address go on")
	require.Equal(t, http.StatusNotFound, visitor.Post(link, url.Values{}, nil).Status, "nothing left to stop")

	res := visitor.Post(links["stay@consent.example"], url.Values{}, nil)
	require.Equal(t, http.StatusSeeOther, res.Status, res.Body)
	require.Contains(t, visitor.Follow(res).Body, "stay@consent.example gets no more alert e-mail from panel "+env.Panel.Name)
}

// A link's token never reaches the log: not for the methods no route
// takes (a mail scanner's HEAD is a 405), nor in the line that records a
// cross-site post refused. Whoever reads logs could otherwise use it.
func TestLinkTokensStayOutOfTheLog(t *testing.T) {
	t.Parallel()
	var logged lockedBuffer
	env := apptest.Start(t, apptest.Options{Log: slog.New(slog.NewTextHandler(&logged, nil))})
	const secret = "hrcp_SecretTokenThatMustNotBeLogged"
	paths := []string{"/alert-recipients/confirm/" + secret, "/alert-recipients/stop/" + secret, "/invitations/" + secret}
	for _, path := range paths {
		for _, method := range []string{http.MethodHead, http.MethodGet, http.MethodPut, http.MethodPost} {
			req, err := http.NewRequest(method, env.URL+path, nil)
			require.NoError(t, err)
			req.Header.Set("Sec-Fetch-Site", "cross-site") // a post from another site: refused
			res, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			require.NoError(t, res.Body.Close())
			require.Less(t, res.StatusCode, 500, "%s %s", method, path)
		}
	}
	require.Eventually(t, func() bool {
		return strings.Count(logged.String(), `msg="http request"`) >= 4*len(paths) &&
			strings.Contains(logged.String(), "cross-origin request refused")
	}, 10*time.Second, 10*time.Millisecond, "the requests are logged")
	require.NotContains(t, logged.String(), secret)
	require.Contains(t, logged.String(), "path=/alert-recipients/stop/:token")
}

// A link the mail server did not take costs nothing: not the panel's
// turn at the address, nor the hourly budgets, so the panel may send it
// again at once, more often than the budgets would allow links that went.
func TestALinkTheMailServerRefusedCanBeSentAgain(t *testing.T) {
	t.Parallel()
	smtp := apptest.StartSMTP(t)
	env := apptest.Start(t, apptest.Options{NoWorker: true, Mail: &smtp.Config})
	const to = "refused@consent.example"
	smtp.Refuse(to)
	var r recipientAnswer
	code, raw := env.Call("POST", "/api/v1/alert-recipients", map[string]any{"email": to}, &r)
	require.Equal(t, http.StatusCreated, code, raw)
	require.Equal(t, "failed", r.Confirmation, raw)
	for range 6 { // past the 5 an address an hour
		code, raw = env.Call("POST", fmt.Sprintf("/api/v1/alert-recipients/%d/confirmation", r.ID), nil, nil)
		require.Equal(t, http.StatusBadGateway, code, raw)
	}
}
