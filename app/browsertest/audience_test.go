package browsertest

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
)

// Make a list and import a CSV file into it (a refused line reported by
// its number), clone a journey, and test-send the copy's webhook step to a
// contact: the endpoint gets the contact's real data marked as a test, and
// the page shows its answer. Screenshots at laptop and tablet width.
func TestListImportCloneAndTestSend(t *testing.T) {
	t.Parallel()
	ctx := tab(t) // first: it skips when there is no browser
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	env.User(email, password)
	recv := apptest.NewReceiver(t)
	recv.Answer = func(int, *apptest.Request) apptest.Answer { return apptest.Answer{Status: 200, Body: `{"ok": true}`} }
	hook := env.ActiveWebhook("CRM", recv.URL, nil)
	code, raw := env.Call("POST", "/api/v1/journeys", fmt.Sprintf(`{"name": "Cart", "nodes": [
		{"id": "t", "type": "trigger", "event": "Added to Cart", "next": "w"},
		{"id": "w", "type": "webhook", "webhook_id": %d, "att_params": ["FIRSTNAME"], "next": "s"},
		{"id": "s", "type": "stop"}]}`, hook), nil)
	require.Equal(t, http.StatusCreated, code, raw)
	code, raw = env.Call("POST", "/api/v1/contacts", `{"email": "zoe@example.com", "attributes": {"FIRSTNAME": "Zoe"}}`, nil)
	require.Equal(t, http.StatusOK, code, raw)
	signIn(t, ctx, env, email, password)

	// A list, then a CSV import with one line refused.
	do(t, ctx,
		chromedp.Click(chromedp.CSS(`nav a[href="/lists"]`)),
		chromedp.WaitVisible(chromedp.ID("list-name")),
		chromedp.SendKeys(chromedp.ID("list-name"), "Newsletter"),
	)
	submit(t, ctx, chromedp.Click(chromedp.CSS(`form[action="/lists"] button[type=submit]`)))
	waitText(t, ctx, ".flash", "List “Newsletter” created")
	csv := filepath.Join(t.TempDir(), "members.csv")
	require.NoError(t, os.WriteFile(csv, []byte("email,first name\nann@example.com,Ann\nnot-an-address,Bob\nzoe@example.com,Zoe\n"), 0o600))
	do(t, ctx, chromedp.SetUploadFiles(chromedp.ID("csv-file"), []string{csv}))
	submit(t, ctx, chromedp.Click(chromedp.CSS(`#import button[type=submit]`)))
	waitText(t, ctx, "#import-result", "2 rows imported")
	waitText(t, ctx, "#import-result", "1 line refused")
	waitText(t, ctx, "#import-result tbody", "3email is not an e-mail address")
	waitText(t, ctx, "h1 + p", "2 members")
	shot(t, ctx, "list-import")
	do(t, ctx, chromedp.EmulateViewport(tablet[0], tablet[1]))
	shot(t, ctx, "list-import-tablet")
	do(t, ctx, chromedp.EmulateViewport(laptop[0], laptop[1]))

	// Clone the journey: the copy is a draft that opens in the builder.
	do(t, ctx, chromedp.Click(chromedp.CSS(`nav a[href="/journeys"]`)), chromedp.WaitVisible(chromedp.CSS("table.list")))
	submit(t, ctx, chromedp.Click(chromedp.CSS(`table.list a.strong`)))
	submit(t, ctx, chromedp.Click(chromedp.CSS(`form[action$="/clone"] button`)))
	waitText(t, ctx, ".flash", "Copied into the draft “Copy of Cart”")
	require.Equal(t, "draft", text(t, ctx, "h1 .badge"))

	// Test-send the copy's webhook step to Zoe.
	copyURL := get(t, ctx, chromedp.Location())
	do(t, ctx, chromedp.Navigate(copyURL+"?step=w"), chromedp.WaitVisible(chromedp.ID("test-contact")),
		chromedp.SendKeys(chromedp.ID("test-contact"), "zoe@example.com"))
	submit(t, ctx, chromedp.Click(chromedp.CSS(`#step-form-test button[type=submit]`)))
	waitText(t, ctx, "[data-test-send-result]", "delivered")
	waitText(t, ctx, "[data-test-send-result]", "HTTP 200")
	waitText(t, ctx, "[data-test-send-result] pre", `{"ok": true}`)
	shot(t, ctx, "step-test-send")
	do(t, ctx, chromedp.EmulateViewport(tablet[0], tablet[1]))
	shot(t, ctx, "step-test-send-tablet")

	all := recv.All()
	require.Len(t, all, 2, "the activation test and the test-send")
	require.True(t, all[1].Test)
	require.Equal(t, map[string]any{"FIRSTNAME": "Zoe"}, all[1].Items[0]["att_params"])
	require.Equal(t, "Copy of Cart", all[1].Items[0]["journey_name"])
	require.Empty(t, recv.Requests(), "only tests were sent")
}
