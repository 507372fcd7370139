package browsertest

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/models"
)

// Every form post ends on a page of its own address (post/redirect/get):
// a reload neither posts again (a second key, a second rotation) nor shows
// a one-time secret again, and pressing Enter in the address bar shows the
// page, not "method not allowed". Secrets come with Copy buttons.
func TestFormPostsRedirectAndSecretsShowOnce(t *testing.T) {
	t.Parallel()
	ctx := tab(t) // first: it skips when there is no browser
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	env.User(email, password)
	signIn(t, ctx, env, email, password)

	// An ingest key: shown once on /settings, with the full ingest URL and
	// a ready curl line.
	do(t, ctx, chromedp.Navigate(env.URL+"/settings"), chromedp.WaitVisible(chromedp.ID("key-label")))
	submit(t, ctx, chromedp.Click(chromedp.CSS(`form[action="/settings/ingest-keys"] button`)))
	require.Equal(t, env.URL+"/settings#ingest-keys", get(t, ctx, chromedp.Location()))
	key := text(t, ctx, "#new-key")
	require.Regexp(t, `^sk_live_[A-Za-z0-9]{40}$`, key)
	require.Equal(t, env.URL+"/v1/webhook/crm", text(t, ctx, "#ingest-url"))
	curl := text(t, ctx, "#curl-line")
	require.Contains(t, curl, "curl -X POST "+env.URL+"/v1/webhook/crm")
	require.Contains(t, curl, "Bearer "+key)
	do(t, ctx, chromedp.Click(chromedp.CSS(`button[data-copy="new-key"]`)))
	waitText(t, ctx, `button[data-copy="new-key"]`, "Cop") // "Copied", or "Selected: press Ctrl+C" without a clipboard
	shot(t, ctx, "ingest-key-once")
	submit(t, ctx, chromedp.Reload())
	require.Empty(t, get(t, ctx, chromedp.Evaluate[string](`document.getElementById("new-key")?.textContent ?? ""`)), "a reload does not show it again")
	require.NotContains(t, get(t, ctx, chromedp.OuterHTML(chromedp.CSS("html"))), key)
	keys, err := env.Store.ListTokens(t.Context(), env.Panel.ID, models.TokenIngest)
	require.NoError(t, err)
	require.Len(t, keys, 1, "the reload made no second key")
	code, _ := env.Ingest(key, "crm", map[string]any{"event": "open", "user": map[string]any{"email": "ann@example.com"}}, "")
	require.Less(t, code, 300, "the key shown works")

	// A refused form: back on /settings with the error at its field, the
	// field marked invalid and what was typed kept.
	do(t, ctx, chromedp.SendKeys(chromedp.ID("recipient-email"), "not an address"))
	submit(t, ctx, chromedp.Click(chromedp.CSS(`form[action="/settings/alert-recipients"] button`)))
	require.Equal(t, env.URL+"/settings#alert-recipients", get(t, ctx, chromedp.Location()))
	waitText(t, ctx, "#err-recipient-email", "Is not an e-mail address")
	require.Equal(t, "not an address", get(t, ctx, chromedp.Evaluate[string](`document.getElementById("recipient-email").value`)))
	require.Equal(t, "true", get(t, ctx, chromedp.AttributeValue(chromedp.ID("recipient-email"), "aria-invalid")).Value)

	// A signing secret for a webhook made in the form without headers:
	// shown once, and the webhook stays in service.
	recv := apptest.NewReceiver(t)
	do(t, ctx, chromedp.Navigate(env.URL+"/webhooks/new"), chromedp.WaitVisible(chromedp.ID("label")),
		chromedp.SendKeys(chromedp.ID("label"), "No headers"),
		chromedp.SendKeys(chromedp.ID("url"), recv.URL+"/hook"),
		chromedp.Click(chromedp.CSS(`[data-test]`)))
	waitText(t, ctx, "[data-result-badge]", "passed")
	do(t, ctx, chromedp.Click(chromedp.CSS(`[data-save]`)))
	waitText(t, ctx, "h1 .badge", "active")
	loc := get(t, ctx, chromedp.Location())
	id, err := strconv.ParseInt(loc[strings.LastIndex(loc, "/")+1:], 10, 64)
	require.NoError(t, err, loc)
	submit(t, ctx, chromedp.Click(chromedp.CSS(`form[action$="/signing-secret"] button`)))
	require.Equal(t, fmt.Sprintf("%s/webhooks/%d#signing-secret", env.URL, id), get(t, ctx, chromedp.Location()))
	secret := text(t, ctx, "#signing-secret-value")
	require.Regexp(t, `^whsec_`, secret)
	require.Equal(t, "active", text(t, ctx, "h1 .badge"), "a signing secret does not take it out of service")
	shot(t, ctx, "signing-secret-once")
	submit(t, ctx, chromedp.Reload())
	require.NotContains(t, get(t, ctx, chromedp.OuterHTML(chromedp.CSS("html"))), secret, "a reload does not show it again")
	w, err := env.Store.Webhook(t.Context(), env.Panel.ID, id)
	require.NoError(t, err)
	require.Equal(t, models.StatusActive, w.Status)
	spec, err := env.Store.Spec(w)
	require.NoError(t, err)
	require.Equal(t, secret, spec.SigningSecret, "the reload did not rotate it again")
}

// The replay confirmation of the last rows opens in full (it was clipped
// by the table's scroll box), and after the replay the page keeps its
// filter and shows the confirmation where the user is.
func TestReplayConfirmationNotClippedAndFilterKept(t *testing.T) {
	t.Parallel()
	ctx := tab(t) // first: it skips when there is no browser
	env := apptest.Start(t, apptest.Options{})
	env.User(email, password)
	recv := apptest.NewReceiver(t)
	recv.Answer = func(_ int, r *apptest.Request) apptest.Answer {
		if r.Test {
			return apptest.Answer{Status: http.StatusOK}
		}
		return apptest.Answer{Status: http.StatusUnprocessableEntity, Body: "no"}
	}
	hook := env.ActiveWebhook("Orders", recv.URL, map[string]any{"batch_size": 1, "batch_wait_ms": 0})
	ids := env.Deliver(hook, map[string]any{"n": 1}, map[string]any{"n": 2}, map[string]any{"n": 3})
	env.WaitStatus(20*time.Second, models.DeliveryFailed, ids...)
	signIn(t, ctx, env, email, password)
	do(t, ctx, chromedp.Navigate(fmt.Sprintf("%s/webhooks/%d?tab=deliveries&status=failed#logs", env.URL, hook)),
		chromedp.WaitVisible(chromedp.CSS("table.log")))

	last := `table.log tbody tr:last-child details.confirm`
	do(t, ctx, chromedp.Click(chromedp.CSS(last+" summary")), chromedp.WaitVisible(chromedp.CSS(last+"[open] button[type=submit]")))
	// The button is on screen and nothing covers it or cuts it off.
	visible := get(t, ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(() => {
		const b = document.querySelector(%q);
		b.scrollIntoView({block: "center"});
		const r = b.getBoundingClientRect(), w = b.closest(".table-wrap").getBoundingClientRect();
		const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
		return r.bottom <= w.bottom && r.top >= w.top && (hit === b || b.contains(hit));
	})()`, last+"[open] button[type=submit]")))
	require.True(t, visible, "the confirmation of the last row is not clipped")
	shot(t, ctx, "replay-confirmation-last-row")

	submit(t, ctx, chromedp.Click(chromedp.CSS(last+"[open] button[type=submit]")))
	require.Contains(t, get(t, ctx, chromedp.Location()), "status=failed", "the filter is kept")
	require.Equal(t, "failed", get(t, ctx, chromedp.Value(chromedp.ID("f-status"))))
	waitText(t, ctx, "#logs .flash", "Sending 1 delivery again.")
	inView := get(t, ctx, chromedp.Evaluate[bool](`(() => { const r = document.querySelector("#logs .flash").getBoundingClientRect();
		return r.top >= 0 && r.bottom <= window.innerHeight; })()`))
	require.True(t, inView, "the confirmation shows where the user is")
}
