package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
)

const shelfJourney = `{"name": %q, "nodes": [
	{"id": "t", "type": "trigger", "event": "open", "next": "s"}, {"id": "s", "type": "stop"}]}`

// newJourney makes a draft through the API of the panel of token.
func newJourney(t *testing.T, env *apptest.Env, token, name string) int64 {
	t.Helper()
	var j struct{ ID int64 }
	code, raw := env.CallAs(token, "POST", "/api/v1/journeys", fmt.Sprintf(shelfJourney, name), &j)
	require.Equal(t, http.StatusCreated, code, raw)
	return j.ID
}

// A journey is cloned into a draft copy, a draft deleted, a stopped or
// paused journey archived and back; what cannot be done says why.
func TestUIJourneyCloneArchiveDelete(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	env.User(uiEmail, uiPassword)
	ui := env.SignIn(uiEmail, uiPassword)
	id := newJourney(t, env, env.Token, "Welcome")
	path := "/journeys/" + itoa(id)

	res := ui.Post(path+"/clone", url.Values{}, nil)
	require.Equal(t, http.StatusSeeOther, res.Status, res.Body)
	copyPath := res.Location
	require.NotEqual(t, path, copyPath)
	page := ui.Get(copyPath)
	require.Contains(t, page.Body, "Copied into the draft “Copy of Welcome”.")
	require.Contains(t, page.Body, `<h1>Copy of Welcome <span class="badge`)
	var copied struct {
		Name, Status string
		Nodes        []struct{ ID string }
	}
	code, raw := env.Call("GET", "/api/v1"+copyPath, nil, &copied)
	require.Equal(t, http.StatusOK, code, raw)
	require.Equal(t, "draft", copied.Status)
	require.Len(t, copied.Nodes, 2)
	res = ui.Post(path+"/clone", url.Values{}, nil)
	require.Contains(t, ui.Get(res.Location).Body, "<h1>Copy of Welcome (2) ")

	// A draft is deleted; the copy (2) stays.
	res = ui.Post(copyPath+"/delete", url.Values{}, nil)
	require.Equal(t, http.StatusSeeOther, res.Status)
	require.Equal(t, "/journeys", res.Location)
	require.Contains(t, ui.Get("/journeys").Body, "Draft deleted.")
	require.Equal(t, http.StatusNotFound, ui.Get(copyPath).Status)
	list := ui.Get("/journeys").Body
	require.NotContains(t, list, ">Copy of Welcome</a>")
	require.Contains(t, list, ">Copy of Welcome (2)</a>")

	// A draft is not archived, and a journey that ran is not deleted.
	require.Contains(t, ui.Submit(path+"/archive", url.Values{}).Body, "A draft journey cannot be archived; only a stopped or paused one can.")
	require.Equal(t, http.StatusSeeOther, ui.Post(path+"/publish", url.Values{}, nil).Status)
	require.Contains(t, ui.Submit(path+"/archive", url.Values{}).Body, "A live journey cannot be archived")
	page = ui.Submit(path+"/delete", url.Values{})
	require.Contains(t, page.Body, "A journey that has run cannot be deleted; stop it and archive it instead.")
	require.NotContains(t, page.Body, `action="`+path+`/delete"`, "no Delete button on a journey that ran")
	require.Equal(t, http.StatusSeeOther, ui.Post(path+"/stop", url.Values{}, nil).Status)
	page = ui.Submit(path+"/delete", url.Values{})
	require.Contains(t, page.Body, "A journey that has run cannot be deleted")

	// Stopped, it is archived: off the list, under Archived.
	page = ui.Submit(path+"/archive", url.Values{})
	require.Contains(t, page.Body, "Archived: the journey list no longer shows it")
	require.Contains(t, page.Body, ">Unarchive</button>")
	require.NotContains(t, ui.Get("/journeys").Body, ">Welcome</a>")
	archived := ui.Get("/journeys?archived=1")
	require.Equal(t, http.StatusOK, archived.Status)
	require.Contains(t, archived.Body, ">Welcome</a>")
	require.NotContains(t, archived.Body, "Copy of Welcome")
	page = ui.Submit(path+"/unarchive", url.Values{})
	require.Contains(t, page.Body, "Back on the journey list.")
	require.Contains(t, ui.Get("/journeys").Body, ">Welcome</a>")
}

// The API clones, archives and deletes journeys by the same rules.
func TestJourneyCloneArchiveDeleteAPI(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	id := newJourney(t, env, env.Token, "Winback")
	path := "/api/v1/journeys/" + itoa(id)

	var copied struct {
		ID           int64
		Name, Status string
	}
	code, raw := env.Call("POST", path+"/clone", nil, &copied)
	require.Equal(t, http.StatusCreated, code, raw)
	require.Equal(t, "Copy of Winback", copied.Name)
	require.Equal(t, "draft", copied.Status)
	code, raw = env.Call("POST", path+"/archive", nil, nil)
	require.Equal(t, http.StatusConflict, code, raw)
	code, raw = env.Call("POST", path+"/publish", nil, nil)
	require.Equal(t, http.StatusOK, code, raw)
	code, raw = env.Call("DELETE", path, nil, nil)
	require.Equal(t, http.StatusConflict, code, raw)
	require.Contains(t, raw, "a journey that has run cannot be deleted")
	code, raw = env.Call("POST", path+"/pause", nil, nil)
	require.Equal(t, http.StatusOK, code, raw)
	var j struct {
		ArchivedAt *string `json:"archived_at"`
	}
	code, raw = env.Call("POST", path+"/archive", nil, &j)
	require.Equal(t, http.StatusOK, code, raw)
	require.NotNil(t, j.ArchivedAt)

	var shown struct{ Journeys []struct{ Name string } }
	code, raw = env.Call("GET", "/api/v1/journeys", nil, &shown)
	require.Equal(t, http.StatusOK, code, raw)
	require.Len(t, shown.Journeys, 1)
	require.Equal(t, "Copy of Winback", shown.Journeys[0].Name)
	code, raw = env.Call("GET", "/api/v1/journeys?archived=true", nil, &shown)
	require.Equal(t, http.StatusOK, code, raw)
	require.Len(t, shown.Journeys, 1)
	require.Equal(t, "Winback", shown.Journeys[0].Name)
	code, _ = env.Call("GET", "/api/v1/journeys?archived=maybe", nil, nil)
	require.Equal(t, http.StatusBadRequest, code)

	// Resuming an archived journey puts it back on the list.
	code, raw = env.Call("POST", path+"/publish", nil, &j)
	require.Equal(t, http.StatusOK, code, raw)
	require.Nil(t, j.ArchivedAt)

	code, _ = env.Call("DELETE", fmt.Sprintf("/api/v1/journeys/%d", copied.ID), nil, nil)
	require.Equal(t, http.StatusNoContent, code)
	code, _ = env.Call("GET", fmt.Sprintf("/api/v1/journeys/%d", copied.ID), nil, nil)
	require.Equal(t, http.StatusNotFound, code)
}

// Another panel's journey cannot be cloned, archived or deleted, from the
// UI or the API: it is "not found".
func TestJourneyShelfIsolation(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	env.User(uiEmail, uiPassword)
	ui := env.SignIn(uiEmail, uiPassword)
	rival := env.TokenFor("rival")
	id := newJourney(t, env, rival, "Rival journey")
	code, raw := env.CallAs(rival, "POST", fmt.Sprintf("/api/v1/journeys/%d/stop", id), nil, nil)
	require.Equal(t, http.StatusOK, code, raw)
	path := "/journeys/" + itoa(id)
	for _, action := range []string{"clone", "archive", "unarchive", "delete"} {
		res := ui.Post(path+"/"+action, url.Values{}, nil)
		require.Equal(t, http.StatusNotFound, res.Status, action)
		require.NotContains(t, res.Body, "Rival")
	}
	for _, call := range []struct{ method, path string }{
		{"POST", "/api/v1" + path + "/clone"}, {"POST", "/api/v1" + path + "/archive"},
		{"POST", "/api/v1" + path + "/unarchive"}, {"DELETE", "/api/v1" + path},
	} {
		code, _ := env.Call(call.method, call.path, nil, nil)
		require.Equal(t, http.StatusNotFound, code, call.path)
	}
	var shown struct{ Journeys []struct{ Name string } }
	code, raw = env.CallAs(rival, "GET", "/api/v1/journeys", nil, &shown)
	require.Equal(t, http.StatusOK, code, raw)
	require.Len(t, shown.Journeys, 1, "not archived, not copied, not deleted")
}
