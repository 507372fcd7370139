package browsertest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/jobs/journey"
)

// A wait step's property filters in the builder: "Add filter" adds a row,
// two filters are saved and the step's summary says them; a filter on an
// attribute (a wait filters the awaited event) is refused with the error
// at the filters, the typed row kept and nothing stored.
func TestJourneyWaitStepAddFilter(t *testing.T) {
	t.Parallel()
	ctx := tab(t) // first: it skips when there is no browser
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	env.User(email, password)
	var created struct{ ID int64 }
	code, raw := env.Call("POST", "/api/v1/journeys", map[string]any{"name": "Offer clicks", "nodes": []map[string]any{
		{"id": "start", "type": "trigger", "event": "open", "next": "wait"},
		{"id": "wait", "type": "wait_for_event", "event": "click", "within": "1h", "happened": "end", "timeout": "end"},
		{"id": "end", "type": "stop"}}}, &created)
	require.Equal(t, http.StatusCreated, code, raw)
	page := env.URL + "/journeys/" + strconv.FormatInt(created.ID, 10)
	signIn(t, ctx, env, email, password)
	row := func(i int, field string) string {
		return `[data-rows=filter] .filter-row:nth-child(` + strconv.Itoa(i) + `) [name=` + field + `]`
	}
	rows := func() int {
		return get(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("[data-rows=filter] .filter-row").length`))
	}

	do(t, ctx, chromedp.Navigate(page+"?step=wait"), chromedp.WaitVisible(chromedp.ID("within_number")))
	require.Equal(t, 1, rows(), "one empty row to start with")
	require.Equal(t, "property", get(t, ctx, chromedp.Value(chromedp.CSS(row(1, "filter_kind")))), "a wait's row filters properties")
	do(t, ctx,
		chromedp.SendKeys(chromedp.CSS(row(1, "filter_name")), "url"),
		chromedp.SendKeys(chromedp.CSS(row(1, "filter_value")), "https://shop.example/offer"),
		chromedp.Click(chromedp.CSS(`button[data-add-row=filter]`)),
	)
	require.Equal(t, 2, rows(), "Add filter adds a row")
	do(t, ctx,
		chromedp.SendKeys(chromedp.CSS(row(2, "filter_name")), "linkid"),
		chromedp.SetValue(chromedp.CSS(row(2, "filter_op")), "exists"),
	)
	shot(t, ctx, "wait-filters-form")
	submit(t, ctx, chromedp.Click(chromedp.CSS(`.step-form button[type=submit]`)))
	waitText(t, ctx, ".flash", "Saved.")
	waitText(t, ctx, "#step-wait .step-summary", "Wait up to 1 hour for click where url eq https://shop.example/offer and linkid exists")
	shot(t, ctx, "wait-filters-saved")
	want := []journey.Filter{{Property: "url", Op: "eq", Value: "https://shop.example/offer"}, {Property: "linkid", Op: "exists"}}
	require.Equal(t, want, waitFilters(t, env, created.ID))

	// A filter on an attribute is refused at the filters; the row typed stays.
	do(t, ctx, chromedp.Navigate(page+"?step=wait"), chromedp.WaitVisible(chromedp.ID("within_number")))
	do(t, ctx, chromedp.Click(chromedp.CSS(`button[data-add-row=filter]`)))
	n := rows()
	do(t, ctx,
		chromedp.SetValue(chromedp.CSS(row(n, "filter_kind")), "attribute"),
		chromedp.SendKeys(chromedp.CSS(row(n, "filter_name")), "country"),
		chromedp.SendKeys(chromedp.CSS(row(n, "filter_value")), "Canada"),
	)
	submit(t, ctx, chromedp.Click(chromedp.CSS(`.step-form button[type=submit]`)))
	waitText(t, ctx, `[data-error-for=filters]`, "A wait filters the awaited event's properties only")
	require.True(t, get(t, ctx, chromedp.Evaluate[bool](`!document.querySelector("[data-error-for=filters]").hidden &&
		document.querySelector("[data-error-for=filters]").closest("fieldset").contains(document.querySelector("[data-add-row=filter]"))`)),
		"the error shows in the filters' fieldset")
	require.True(t, get(t, ctx, chromedp.Evaluate[bool](`[...document.querySelectorAll("[data-rows=filter] [name=filter_name]")].some((e) => e.value === "COUNTRY")`)),
		"what was typed stays in the form (an attribute name upper-case)")
	require.NotContains(t, text(t, ctx, "#step-wait .step-summary"), "COUNTRY", "the refused filter is not in the summary")
	shot(t, ctx, "wait-filters-refused")
	do(t, ctx, chromedp.EmulateViewport(tablet[0], tablet[1]))
	shot(t, ctx, "wait-filters-refused-tablet")
	require.Equal(t, want, waitFilters(t, env, created.ID), "nothing stored")
}

// waitFilters are the stored filters of the journey's wait step.
func waitFilters(t *testing.T, env *apptest.Env, id int64) []journey.Filter {
	t.Helper()
	j, err := env.Store.Journey(t.Context(), env.Panel.ID, id)
	require.NoError(t, err)
	var def journey.Definition
	require.NoError(t, json.Unmarshal(j.Definition, &def))
	return def.Node("wait").Filters
}
