package browsertest

import (
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
)

var consentLink = regexp.MustCompile(`http://[^\s/]+(/alert-recipients/confirm/hrcp_[A-Za-z0-9]{40})`)

// A new alert recipient, added in the settings, looks waiting until its
// owner opens the mailed link and says yes, in a browser: then it looks
// like any other recipient.
func TestAlertRecipientAgreesThroughTheLink(t *testing.T) {
	t.Parallel()
	ctx := tab(t) // first: it skips when there is no browser
	smtp := apptest.StartSMTP(t)
	env := apptest.Start(t, apptest.Options{NoWorker: true, Mail: &smtp.Config})
	env.User(email, password)
	signIn(t, ctx, env, email, password)

	do(t, ctx, chromedp.Navigate(env.URL+"/settings"), chromedp.WaitVisible(chromedp.ID("recipient-email")),
		chromedp.SendKeys(chromedp.ID("recipient-email"), "owner@consent.example"))
	submit(t, ctx, chromedp.Click(chromedp.CSS(`form[action="/settings/alert-recipients"] button`)))
	require.Equal(t, env.URL+"/settings#alert-recipients", get(t, ctx, chromedp.Location()))
	waitText(t, ctx, "[data-unconfirmed]", "not agreed yet")
	require.Contains(t, get(t, ctx, chromedp.OuterHTML(chromedp.CSS("html"))), "A link to agree went to owner@consent.example")
	shot(t, ctx, "alert-recipient-waiting")

	mails := smtp.WaitFor(t, 20*time.Second, 1)
	found := consentLink.FindStringSubmatch(mails[0].Text)
	require.NotNil(t, found, mails[0].Text)
	do(t, ctx, chromedp.Navigate(env.URL+found[1]), chromedp.WaitVisible(chromedp.ID("consent-h")))
	require.Contains(t, text(t, ctx, "#consent-h"), env.Panel.Name)
	shot(t, ctx, "alert-recipient-consent")
	submit(t, ctx, chromedp.Click(chromedp.CSS(`input[value="yes"] ~ button`)))
	require.Equal(t, env.URL+"/alert-recipients/answered", get(t, ctx, chromedp.Location()))
	require.Contains(t, get(t, ctx, chromedp.OuterHTML(chromedp.CSS("html"))), "owner@consent.example now gets alert e-mail")

	do(t, ctx, chromedp.Navigate(env.URL+"/settings"), chromedp.WaitVisible(chromedp.ID("recipient-email")))
	page := get(t, ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	require.Contains(t, page, "owner@consent.example")
	require.NotContains(t, page, "data-unconfirmed", "agreed: no longer marked")
}
