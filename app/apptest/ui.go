package apptest

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
)

// User creates a web UI user with this password, a member of the env's
// panel and of the other named panels (created if needed).
func (e *Env) User(email, password string, otherPanels ...string) {
	e.T.Helper()
	ctx := context.Background()
	u, err := e.Store.CreateUser(ctx, email, password)
	if err != nil {
		e.T.Fatal(err)
	}
	ids := []int64{e.Panel.ID}
	for _, name := range otherPanels {
		p, err := e.Store.EnsurePanel(ctx, name)
		if err != nil {
			e.T.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	for _, id := range ids {
		if err := e.Store.AddUserToPanel(ctx, u.ID, id); err != nil {
			e.T.Fatal(err)
		}
	}
}

// UI is a client of the web UI as a browser without JavaScript would be:
// it keeps cookies and does not follow redirects, so tests see them.
type UI struct {
	e      *Env
	Client *http.Client
}

// NewUI returns a UI client that is not signed in.
func (e *Env) NewUI() *UI {
	jar, _ := cookiejar.New(nil)
	return &UI{e: e, Client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// SignIn returns a UI client signed in as email.
func (e *Env) SignIn(email, password string) *UI {
	e.T.Helper()
	ui := e.NewUI()
	if res := ui.Post("/login", url.Values{"email": {email}, "password": {password}}, nil); res.Status != http.StatusSeeOther {
		e.T.Fatalf("sign in as %s: %d %s", email, res.Status, res.Body)
	}
	return ui
}

// Result is an answer of the UI.
type Result struct {
	Status   int
	Body     string
	Location string
	Header   http.Header
}

// Get fetches a page.
func (u *UI) Get(path string) Result {
	u.e.T.Helper()
	return u.Do(http.MethodGet, path, nil, nil)
}

// Post sends a form, with extra headers (an Origin, say).
func (u *UI) Post(path string, form url.Values, header http.Header) Result {
	u.e.T.Helper()
	return u.Do(http.MethodPost, path, form, header)
}

// Do sends a request with a form body (none when form is nil).
func (u *UI) Do(method, path string, form url.Values, header http.Header) Result {
	u.e.T.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u.e.URL+path, body)
	if err != nil {
		u.e.T.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return u.send(req)
}

// Upload posts a file as a multipart form's field, as a browser's file
// input does.
func (u *UI) Upload(path, field, filename string, content []byte) Result {
	u.e.T.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	part, err := mw.CreateFormFile(field, filename)
	if err == nil {
		_, err = part.Write(content)
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		u.e.T.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, u.e.URL+path, &buf)
	if err != nil {
		u.e.T.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return u.send(req)
}

func (u *UI) send(req *http.Request) Result {
	u.e.T.Helper()
	resp, err := u.Client.Do(req)
	if err != nil {
		u.e.T.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	return Result{Status: resp.StatusCode, Body: string(raw), Location: resp.Header.Get("Location"), Header: resp.Header}
}

// Submit posts a form as a browser does: every UI form post redirects
// (post/redirect/get), and Submit follows that redirect and returns the
// page it leads to, as the browser shows it.
func (u *UI) Submit(path string, form url.Values) Result {
	u.e.T.Helper()
	res := u.Post(path, form, nil)
	if res.Status != http.StatusSeeOther {
		u.e.T.Fatalf("POST %s answered %d, not a redirect (post/redirect/get): %s", path, res.Status, res.Body)
	}
	target, _, _ := strings.Cut(res.Location, "#")
	return u.Get(target)
}

// Follow is the browser's side of post/redirect/get after Post: res must
// be a 303, and Follow returns the page it leads to.
func (u *UI) Follow(res Result) Result {
	u.e.T.Helper()
	if res.Status != http.StatusSeeOther {
		u.e.T.Fatalf("answered %d, not a redirect (post/redirect/get): %s", res.Status, res.Body)
	}
	target, _, _ := strings.Cut(res.Location, "#")
	return u.Get(target)
}
