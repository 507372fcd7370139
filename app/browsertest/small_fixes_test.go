package browsertest

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
)

// Edits of a step are not dropped without a word when another step's Edit
// is clicked: the page asks, and "stay" keeps them. A page that does not
// exist offers the way back into Herald.
func TestUnsavedStepEditsAskAndNotFoundNavigates(t *testing.T) {
	t.Parallel()
	ctx := tab(t) // first: it skips when there is no browser
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	env.User(email, password)
	signIn(t, ctx, env, email, password)

	do(t, ctx,
		chromedp.Navigate(env.URL+"/journeys"), chromedp.WaitVisible(chromedp.ID("j-name")),
		chromedp.SendKeys(chromedp.ID("j-name"), "Welcome"),
		chromedp.SendKeys(chromedp.ID("j-event"), "open"),
	)
	submit(t, ctx, chromedp.Click(chromedp.CSS(`form[action="/journeys"] button[type=submit]`)))
	loc := get(t, ctx, chromedp.Location())
	do(t, ctx, chromedp.Navigate(loc+"?step=start#step-form"), chromedp.WaitVisible(chromedp.CSS("form.step-form")))

	// The question is answered "stay", and what it said is kept.
	get(t, ctx, chromedp.Evaluate[bool](`window.confirm = (m) => { window.asked = m; return false; }, true`))
	do(t, ctx, chromedp.SendKeys(chromedp.CSS(`form.step-form input[name="event"]`), "-edited"))
	do(t, ctx, chromedp.Click(chromedp.CSS(`nav a[href="/webhooks"]`)))
	require.Contains(t, get(t, ctx, chromedp.Evaluate[string](`window.asked ?? ""`)), "changes that are not saved")
	require.Equal(t, loc+"?step=start#step-form", get(t, ctx, chromedp.Location()), "stayed on the step")
	require.Contains(t, get(t, ctx, chromedp.Value(chromedp.CSS(`form.step-form input[name="event"]`))), "-edited", "the edit is kept")

	// Answered "leave", the link is followed.
	get(t, ctx, chromedp.Evaluate[bool](`window.confirm = () => true, true`))
	submit(t, ctx, chromedp.Click(chromedp.CSS(`nav a[href="/webhooks"]`)))
	waitText(t, ctx, "h1", "Webhooks")

	do(t, ctx, chromedp.Navigate(env.URL+"/no/such/page"), chromedp.WaitVisible(chromedp.CSS(".error-nav")))
	require.Contains(t, text(t, ctx, ".error-nav"), "Webhooks · Journeys · Settings")
	submit(t, ctx, chromedp.Click(chromedp.CSS(`.error-nav a[href="/webhooks"]`)))
	waitText(t, ctx, "h1", "Webhooks")
}
