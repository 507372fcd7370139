package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
)

// listMembers reads a list's members through the API.
func listMembers(t *testing.T, env *apptest.Env, listID int64, page int) []string {
	t.Helper()
	var out struct {
		Members []struct {
			Email, Phone *string
			ExternalID   *string `json:"external_id"`
			ID           int64
		}
	}
	code, raw := env.Call("GET", fmt.Sprintf("/api/v1/lists/%d/members?page=%d", listID, page), nil, &out)
	require.Equal(t, http.StatusOK, code, raw)
	var keys []string
	for _, m := range out.Members {
		switch {
		case m.Email != nil:
			keys = append(keys, *m.Email)
		case m.Phone != nil:
			keys = append(keys, *m.Phone)
		default:
			keys = append(keys, *m.ExternalID)
		}
	}
	return keys
}

// idOf is the id at the end of a redirect's path (/lists/12 → 12).
func idOf(t *testing.T, location string) int64 {
	t.Helper()
	var id int64
	_, err := fmt.Sscanf(location[strings.LastIndex(location, "/")+1:], "%d", &id)
	require.NoError(t, err, location)
	return id
}

// A list is made, filled one by one and from a CSV file, paged and
// emptied through the UI, by the API's rules.
//
//nolint:paralleltest // the subtests post with one session, whose stash holds one refused form at a time
func TestUIListMembers(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	env.User(uiEmail, uiPassword)
	ui := env.SignIn(uiEmail, uiPassword)

	res := ui.Submit("/lists", url.Values{"name": {"  "}})
	require.Equal(t, http.StatusBadRequest, res.Status)
	require.Contains(t, res.Body, `data-error-for="list-name" >Is required, up to 200 bytes</p>`)
	res = ui.Post("/lists", url.Values{"name": {"VIP"}}, nil)
	require.Equal(t, http.StatusSeeOther, res.Status, res.Body)
	listID := idOf(t, res.Location)
	path := res.Location
	res = ui.Submit("/lists", url.Values{"name": {"vip"}})
	require.Equal(t, http.StatusConflict, res.Status)
	require.Contains(t, res.Body, `data-error-for="list-name" >A list with this name already exists</p>`)
	require.Contains(t, res.Body, `value="vip"`, "what was typed stays")

	// One by one.
	for _, tc := range []struct {
		name           string
		form           url.Values
		status         int
		errFor, errMsg string
	}{
		{"nobody named", url.Values{"email": {""}}, http.StatusBadRequest, "email", "Name the contact by external_id, email or phone"},
		{"not an address", url.Values{"email": {"ann-at-example"}}, http.StatusBadRequest, "email", "Is not an e-mail address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := ui.Submit(path+"/members", tc.form)
			require.Equal(t, tc.status, res.Status)
			require.Contains(t, res.Body, fmt.Sprintf(`data-error-for="%s" >%s</p>`, tc.errFor, tc.errMsg))
		})
	}
	require.Empty(t, listMembers(t, env, listID, 1))
	res = ui.Submit(path+"/members", url.Values{"email": {"Ann@Example.com"}})
	require.Equal(t, http.StatusOK, res.Status)
	require.Contains(t, res.Body, "ann@example.com added.")
	require.Contains(t, res.Body, "1 member.")
	res = ui.Submit(path+"/members", url.Values{"email": {"ann@example.com"}})
	require.Contains(t, res.Body, "ann@example.com was already on the list.")

	// From a CSV file: the rows that pass go in, the others are listed by line.
	csv := "email,phone,external_id,city\n" +
		"bob@example.com,,,Toronto\n" + // 2
		"not-an-email,,,\n" + // 3
		",,,Paris\n" + // 4
		",+1 (416) 555-0100,,\n" + // 5
		"carol@example.com,,\n" + // 6: a column short
		"\"dan@example.com\"x,,,\n" + // 7: not CSV
		"ann@example.com,,,Lyon\n" + // 8: already a member
		",,cust-9,\n" // 9
	res = ui.Upload(path+"/import", "file", "members.csv", []byte(csv))
	require.Equal(t, http.StatusSeeOther, res.Status, res.Body)
	require.Equal(t, path+"#import", res.Location)
	page := ui.Get(path)
	require.Equal(t, http.StatusOK, page.Status)
	require.Contains(t, page.Body, "<strong>4 rows imported</strong> of 8 (3 new to the list)")
	require.Contains(t, page.Body, "<strong>4 lines refused</strong>")
	for line, why := range map[int]string{3: "email is not an e-mail address", 4: "name the contact by external_id, email or phone",
		6: "has 3 columns; the header has 4", 7: "not valid CSV"} {
		require.Regexp(t, fmt.Sprintf(`<td class="num">%d</td><td>%s`, line, why), page.Body)
	}
	require.Contains(t, page.Body, "import-result warn")
	require.ElementsMatch(t, []string{"ann@example.com", "bob@example.com", "+14165550100", "cust-9"}, listMembers(t, env, listID, 1))
	var bob struct{ Attributes map[string]any }
	code, raw := env.Call("GET", "/api/v1/contacts?email=bob@example.com", nil, &bob)
	require.Equal(t, http.StatusOK, code, raw)
	require.Equal(t, "Toronto", bob.Attributes["CITY"], "other columns are attributes")
	require.NotContains(t, ui.Get(path).Body, "import-result", "the outcome is shown once")

	// Files refused as a whole import nothing, and say so.
	for _, tc := range []struct {
		name, file, want string
	}{
		{"no identity column", "name,city\nAnn,Lyon\n", "among them email, phone or external_id"},
		{"header only", "email\n", "The file has no rows under its header."},
		{"too large", "email\n" + strings.Repeat("x@example.com\n", 40000), "import at most 512 KiB at a time"},
		{"too many rows", "email\n" + strings.Repeat("x@example.com\n", 5001), "The file has more than 5000 rows; split it."},
		{"not UTF-8", "email,city\nzed@example.com,\xff\xfe\n", "column 2 holds bytes that are not UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := ui.Follow(ui.Upload(path+"/import", "file", "bad.csv", []byte(tc.file)))
			require.Equal(t, http.StatusBadRequest, res.Status)
			require.Contains(t, res.Body, tc.want)
			require.Contains(t, res.Body, "import-result bad")
		})
	}
	require.Len(t, listMembers(t, env, listID, 1), 4, "nothing of the refused files went in")

	// Pages of 50, latest added first; removing takes one off.
	var many strings.Builder
	many.WriteString("email\n")
	for i := range 50 {
		fmt.Fprintf(&many, "m%02d@example.com\n", i)
	}
	res = ui.Follow(ui.Upload(path+"/import", "file", "many.csv", []byte(many.String())))
	require.Equal(t, http.StatusOK, res.Status)
	require.Contains(t, res.Body, "54 members.")
	require.Contains(t, res.Body, `href="`+path+`?page=2">Older</a>`)
	second := ui.Get(path + "?page=2")
	require.Equal(t, http.StatusOK, second.Status)
	require.Len(t, listMembers(t, env, listID, 2), 4)
	require.Contains(t, second.Body, `href="`+path+`?page=1">Newer</a>`)

	var ann struct{ ID int64 }
	code, raw = env.Call("GET", "/api/v1/contacts?email=ann@example.com", nil, &ann)
	require.Equal(t, http.StatusOK, code, raw)
	res = ui.Post(fmt.Sprintf("%s/members/%d/remove", path, ann.ID), url.Values{"page": {"2"}}, nil)
	require.Equal(t, http.StatusSeeOther, res.Status)
	require.Equal(t, path+"?page=2", res.Location)
	require.NotContains(t, listMembers(t, env, listID, 2), "ann@example.com")
	require.Equal(t, http.StatusNotFound, ui.Post(fmt.Sprintf("%s/members/%d/remove", path, ann.ID), url.Values{}, nil).Status,
		"no longer on the list")
	code, _ = env.Call("DELETE", fmt.Sprintf("/api/v1/lists/%d/members/%d", listID, ann.ID), nil, nil)
	require.Equal(t, http.StatusNotFound, code)
}

// A segment is saved from filter rows and shows the contacts matching it now.
//
//nolint:paralleltest // the subtests post with one session, whose stash holds one refused form at a time
func TestUISegments(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	env.User(uiEmail, uiPassword)
	ui := env.SignIn(uiEmail, uiPassword)
	for _, c := range []string{`{"email": "ca@example.com", "attributes": {"country": "Canada"}}`,
		`{"email": "fr@example.com", "attributes": {"country": "France"}}`, `{"email": "none@example.com"}`} {
		code, raw := env.Call("POST", "/api/v1/contacts", c, nil)
		require.Equal(t, http.StatusOK, code, raw)
	}
	rows := func(name, op, value string) url.Values {
		return url.Values{"filter_kind": {"attribute"}, "filter_name": {name}, "filter_op": {op}, "filter_value": {value}}
	}
	for _, tc := range []struct {
		name   string
		form   url.Values
		errFor string
		msg    string
	}{
		{"no name", rows("country", "eq", "Canada"), "segment-name", "Is required, up to 200 bytes"},
		{"no filter", url.Values{"name": {"Canadians"}}, "filters", "A segment needs at least one filter"},
		{"no value", rows("country", "eq", ""), "filters", "Filters[0]: eq needs a value"},
		{"a property", url.Values{"filter_kind": {"property"}, "filter_name": {"url"}, "filter_op": {"exists"}}, "filters",
			"Filters[0]: a segment filters attributes only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name != "no name" {
				tc.form.Set("name", "Canadians")
			}
			res := ui.Submit("/segments", tc.form)
			require.Equal(t, http.StatusBadRequest, res.Status)
			require.Contains(t, res.Body, fmt.Sprintf(`data-error-for="%s" >%s</p>`, tc.errFor, tc.msg))
		})
	}
	form := rows("country", "eq", "Canada")
	form.Set("name", "Canadians")
	res := ui.Post("/segments", form, nil)
	require.Equal(t, http.StatusSeeOther, res.Status, res.Body)
	page := ui.Get(res.Location)
	require.Equal(t, http.StatusOK, page.Status)
	require.Contains(t, page.Body, "ca@example.com")
	require.NotContains(t, page.Body, "fr@example.com")
	require.NotContains(t, page.Body, "none@example.com")
	index := ui.Get("/lists")
	require.Contains(t, index.Body, `<span class="mono">COUNTRY eq Canada</span>`)
	var segs struct{ Segments []struct{ Name string } }
	code, raw := env.Call("GET", "/api/v1/segments", nil, &segs)
	require.Equal(t, http.StatusOK, code, raw)
	require.Equal(t, "Canadians", segs.Segments[0].Name)
	var members struct {
		Members []struct{ Email string }
		Next    *int64 `json:"next_after"`
	}
	code, raw = env.Call("GET", fmt.Sprintf("/api/v1/segments/%d/members", idOf(t, res.Location)), nil, &members)
	require.Equal(t, http.StatusOK, code, raw)
	require.Len(t, members.Members, 1)
	require.Equal(t, "ca@example.com", members.Members[0].Email)
	require.Nil(t, members.Next)
}

// Another panel's lists, segments and contacts are "not found" on every
// page and post of this panel, and the API's.
func TestUIAudienceIsolation(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	env.User(uiEmail, uiPassword)
	ui := env.SignIn(uiEmail, uiPassword)
	rival := env.TokenFor("rival")
	var rl, rs, rc struct{ ID int64 }
	code, raw := env.CallAs(rival, "POST", "/api/v1/lists", `{"name": "Rival list"}`, &rl)
	require.Equal(t, http.StatusCreated, code, raw)
	code, raw = env.CallAs(rival, "POST", "/api/v1/segments", `{"name": "Rival segment", "filters": [{"attribute": "X", "op": "exists"}]}`, &rs)
	require.Equal(t, http.StatusCreated, code, raw)
	code, raw = env.CallAs(rival, "POST", "/api/v1/lists/"+itoa(rl.ID)+"/members", `{"members": [{"email": "rival@example.com"}]}`, nil)
	require.Equal(t, http.StatusOK, code, raw)
	code, raw = env.CallAs(rival, "GET", "/api/v1/contacts?email=rival@example.com", nil, &rc)
	require.Equal(t, http.StatusOK, code, raw)

	list, segment := "/lists/"+itoa(rl.ID), "/segments/"+itoa(rs.ID)
	for _, path := range []string{list, segment} {
		res := ui.Get(path)
		require.Equal(t, http.StatusNotFound, res.Status, path)
		require.NotContains(t, res.Body, "Rival")
	}
	require.Equal(t, http.StatusNotFound, ui.Post(list+"/members", url.Values{"email": {"x@example.com"}}, nil).Status)
	require.Equal(t, http.StatusNotFound, ui.Post(list+"/members/"+itoa(rc.ID)+"/remove", url.Values{}, nil).Status)
	require.Equal(t, http.StatusNotFound, ui.Upload(list+"/import", "file", "a.csv", []byte("email\nx@example.com\n")).Status)
	require.NotContains(t, ui.Get("/lists").Body, "Rival")

	// Own list, the rival's contact: not found either.
	res := ui.Post("/lists", url.Values{"name": {"Mine"}}, nil)
	require.Equal(t, http.StatusSeeOther, res.Status)
	mine := idOf(t, res.Location)
	require.Equal(t, http.StatusNotFound, ui.Post(res.Location+"/members/"+itoa(rc.ID)+"/remove", url.Values{}, nil).Status)
	for _, call := range []struct{ method, path string }{
		{"GET", "/api/v1" + list + "/members"}, {"DELETE", "/api/v1" + list + "/members/" + itoa(rc.ID)},
		{"GET", "/api/v1" + segment + "/members"}, {"DELETE", fmt.Sprintf("/api/v1/lists/%d/members/%d", mine, rc.ID)},
	} {
		code, _ := env.Call(call.method, call.path, nil, nil)
		require.Equal(t, http.StatusNotFound, code, call.path)
	}
	code, _ = env.CallAs(rival, "GET", "/api/v1/lists/"+itoa(rl.ID)+"/members", nil, nil)
	require.Equal(t, http.StatusOK, code, "still the rival's")
}
