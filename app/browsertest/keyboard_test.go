package browsertest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/models"
)

// Everything of the Test-then-Save flow works from the keyboard alone:
// sign in, skip to the content, open the form, fill it, test, save. The
// focused element is always visibly marked.
func TestKeyboardOnly(t *testing.T) {
	t.Parallel()
	ctx := tab(t) // first: it skips when there is no browser
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	env.User(email, password)
	recv := apptest.NewReceiver(t)

	do(t, ctx, chromedp.Navigate(env.URL+"/login"), chromedp.WaitVisible(chromedp.ID("email")))
	require.Equal(t, "email", focused(t, ctx, "id"), "the e-mail field has the focus at once")
	do(t, ctx, chromedp.KeyEvent(email), chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(password))
	submit(t, ctx, chromedp.KeyEvent(kb.Enter))
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`header.topbar`)))

	do(t, ctx, chromedp.KeyEvent(kb.Tab))
	require.Equal(t, "Skip to content", focused(t, ctx, "textContent"), "the first Tab offers to skip the menus")
	require.Equal(t, "solid", get(t, ctx, chromedp.Evaluate[string](`getComputedStyle(document.activeElement).outlineStyle`)),
		"the focus is visible")

	tabTo(t, ctx, `e.getAttribute("href") === "/webhooks/new"`)
	submit(t, ctx, chromedp.KeyEvent(kb.Enter))
	tabTo(t, ctx, `e.id === "label"`)
	do(t, ctx, chromedp.KeyEvent("Keyboard Hook"))
	tabTo(t, ctx, `e.id === "url"`)
	do(t, ctx, chromedp.KeyEvent(recv.URL+"/hook"))
	tabTo(t, ctx, `e.matches("[data-test]")`)
	do(t, ctx, chromedp.KeyEvent(kb.Enter))
	waitText(t, ctx, "[data-result-badge]", "passed")
	tabTo(t, ctx, `e.matches("[data-save]")`)
	do(t, ctx, chromedp.KeyEvent(kb.Enter))
	waitText(t, ctx, "h1 .badge", "active")

	list, err := env.Store.ListWebhooks(t.Context(), env.Panel.ID)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, "Keyboard Hook", list[0].Label)
	require.Equal(t, models.StatusActive, list[0].Status)
}

// focused reads a property of the element that has the focus.
func focused(t *testing.T, ctx context.Context, prop string) string {
	t.Helper()
	v := get(t, ctx, chromedp.Evaluate[string](fmt.Sprintf(`String(document.activeElement?.%s ?? "")`, prop)))
	return strings.TrimSpace(v)
}

// tabTo presses Tab until the focused element e satisfies the JavaScript
// condition, as someone without a mouse would, and fails if it never does.
func tabTo(t *testing.T, ctx context.Context, cond string) {
	t.Helper()
	check := fmt.Sprintf(`(e => !!e && (%s))(document.activeElement)`, cond)
	for range 60 {
		if get(t, ctx, chromedp.Evaluate[bool](check)) {
			return
		}
		do(t, ctx, chromedp.KeyEvent(kb.Tab))
	}
	shot(t, context.WithoutCancel(ctx), "failure")
	t.Fatalf("Tab never reached an element where %s", cond)
}
