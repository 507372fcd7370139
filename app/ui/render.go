package ui

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/templates"
	"github.com/heraldhq/herald/web"
)

// pageFiles declares each page and the template files it is built from;
// every page also gets layout.html and partials.html.
var pageFiles = map[string][]string{
	"login":        {"login.html"},
	"error":        {"error.html"},
	"webhooks":     {"webhooks.html"},
	"webhook_form": {"webhook_form.html"},
	"webhook":      {"webhook.html", "delivery_detail.html"},
	"journeys":     {"journeys.html"},
	"journey":      {"journey.html"},
	"settings":     {"settings.html"},
	"invitation":   {"invitation.html"},
	"consent":      {"consent.html"},
	"contact":      {"contact.html"},
	"delivery":     {"delivery.html", "delivery_detail.html"},
	"journey_runs": {"journey_runs.html"},
	"audiences":    {"audiences.html"},
	"list":         {"list.html"},
	"segment":      {"segment.html"},
}

// view is what every page template gets: the frame's data and the page's own.
type view struct {
	Title string
	// Nav is the section the page belongs to, for the current-page mark.
	Nav     string
	Session *models.SessionInfo // nil when signed out
	Panels  []models.Panel      // the user's panels, for the switcher
	Flash   *flash
	Data    any
}

// parsePages builds every page's template set; a broken template stops
// Herald at start, not at the first visit.
func (s *Handlers) parsePages() map[string]*template.Template {
	funcs := template.FuncMap{
		"asset":        assetURL,
		"utc":          func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") },
		"isoTime":      func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"ago":          func(t time.Time) string { return ago(s.now().Sub(t)) },
		"percent":      func(r float64) string { return fmt.Sprintf("%.1f%%", r*100) },
		"deliveryID":   models.DeliveryID,
		"prettyJSON":   prettyJSON,
		"contains":     slices.Contains[[]string],
		"join":         strings.Join,
		"dict":         dict,
		"plural":       func(n int, one, many string) string { return plural(int64(n), one, many) },
		"list":         func(v ...string) []string { return v },
		"shortID":      shortID,
		"outcomeTone":  outcomeTone,
		"deliveryTone": deliveryTone,
		"filterValue":  filterValue,
		"journeyTone":  journeyTone,
		"runTone":      runTone,
		"without": func(list, drop []string) []string {
			return slices.DeleteFunc(slices.Clone(list), func(v string) bool { return slices.Contains(drop, v) })
		},
		"add":         func(a, b int64) int64 { return a + b },
		"channelName": channelName,
		// local, clock and zone are the panel's time zone; render binds
		// them to the panel of each request.
		"local": func(t time.Time) string { return localTime(t, time.UTC) },
		"zone":  func() string { return "UTC" },
		"inc":   func(n int) int { return n + 1 },
		"int":   func(n int64) int { return int(n) },
		"clock": func(t time.Time) string { return clockTime(t, time.UTC) },
	}
	out := make(map[string]*template.Template, len(pageFiles))
	for name, files := range pageFiles {
		files = append([]string{"layout.html", "partials.html"}, files...)
		out[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(templates.FS, files...))
	}
	return out
}

// render writes a page in its frame.
func (s *Handlers) render(c *gin.Context, status int, page, title, nav string, data any) {
	v := view{Title: title, Nav: nav, Data: data, Flash: takeFlash(c)}
	if sess, ok := c.Get(ctxSession); ok {
		v.Session = sess.(*models.SessionInfo)
		panels, err := s.store.UserPanels(c.Request.Context(), v.Session.UserID)
		if err != nil {
			s.log.ErrorContext(c.Request.Context(), "panel switcher not rendered", "error", err)
		}
		v.Panels = panels
	}
	s.execute(c, status, page, "layout", v)
}

// renderPart writes one template of a page without the frame: a part of
// the page that its script fetches again (the delivery log's rows).
func (s *Handlers) renderPart(c *gin.Context, page, name string, data any) {
	s.execute(c, http.StatusOK, page, name, view{Data: data})
}

// execute renders template name of page with the times in the request
// panel's zone. It renders into a buffer first, so a template error
// becomes a clean 500 instead of half a page.
func (s *Handlers) execute(c *gin.Context, status int, page, name string, v view) {
	tmpl := s.pages[page]
	if loc := panelLocation(c); loc != time.UTC {
		// A copy whose times are in the panel's zone; parsed templates
		// are cloned cheaply, never parsed again.
		if clone, err := s.zonedPages[page].Clone(); err == nil {
			tmpl = clone.Funcs(template.FuncMap{
				"local": func(t time.Time) string { return localTime(t, loc) },
				"clock": func(t time.Time) string { return clockTime(t, loc) },
				"zone":  loc.String,
			})
		}
	}
	var buf bytes.Buffer
	if err := tmpl.ExecuteTemplate(&buf, name, v); err != nil {
		s.log.ErrorContext(c.Request.Context(), "page not rendered", "request_id", c.GetString(httpx.CtxRequestID), "page", page, "error", err)
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("Internal error: the page could not be rendered.\n"))
		c.Abort()
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// FailPage answers a UI request that went wrong with an error page, mapped
// like the API's errors (see classify).
func (s *Handlers) FailPage(c *gin.Context, err error) {
	status, body := s.classify(c, err)
	title := http.StatusText(status)
	switch {
	case status == http.StatusInternalServerError:
		body.Error = "Something went wrong on our side. It was logged; try again in a moment."
	case !strings.HasSuffix(body.Error, "."):
		body.Error = sentence(body.Error) + "."
	}
	s.render(c, status, "error", title, "", body)
	c.Abort()
}

// formErrors maps a form field to what is wrong with it; "" is the form as a whole.
type formErrors map[string]string

// formError turns a validation or conflict error into messages next to
// fields; ok is false for any other error, which the caller reports as such.
func formError(err error) (formErrors, bool) {
	var ve *models.ValidationError
	var ce *models.ConflictError
	var he *httpx.Error
	switch {
	case errors.As(err, &ve):
		return formErrors{ve.Field: sentence(ve.Message)}, true
	case errors.As(err, &ce):
		return formErrors{ce.Field: sentence(ce.Message)}, true
	case errors.As(err, &he) && he.Status < 500 && he.Status != http.StatusNotFound:
		return formErrors{he.Field: sentence(he.Msg)}, true
	}
	return nil, false
}

// sentence capitalises a message for display: "is required" → "Is required".
func sentence(msg string) string {
	if msg == "" {
		return msg
	}
	return strings.ToUpper(msg[:1]) + msg[1:]
}

// assetHashes version the static files' URLs, so browsers may cache them
// for good and still fetch a new release's.
var assetHashes = func() map[string]string {
	out := map[string]string{}
	_ = fs.WalkDir(web.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(web.FS, path)
		sum := sha256.Sum256(b)
		out[path] = hex.EncodeToString(sum[:6])
		return nil
	})
	return out
}()

func assetURL(name string) string { return "/static/" + name + "?v=" + assetHashes[name] }

// ago writes a duration in the past briefly: "just now", "5 min ago".
func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}

// prettyJSON indents stored JSON for reading; anything else is shown as is.
func prettyJSON(raw []byte) string {
	var out bytes.Buffer
	if json.Indent(&out, raw, "", "  ") != nil {
		return string(raw)
	}
	return out.String()
}

// dict lets a template hand a partial several values: dict "k1" v1 "k2" v2.
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, errors.New("dict wants key, value pairs")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, errors.New("dict keys are strings")
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

// localTime writes t in loc, with the zone's abbreviation.
func localTime(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02 15:04:05 MST")
}

// clockTime writes t's time of day in loc, with the zone's abbreviation.
func clockTime(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("15:04 MST")
}

// panelLocation is the time zone of the request's panel (UTC signed out).
func panelLocation(c *gin.Context) *time.Location {
	if sess, ok := c.Get(ctxSession); ok {
		return sess.(*models.SessionInfo).Panel.Location()
	}
	return time.UTC
}
