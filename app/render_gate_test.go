package app_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
)

// A panel's requests that render a body template (saves, tests, previews)
// take turns, two at a time, so that one panel cannot keep every core of
// the server busy rendering; another panel's go on meanwhile.
func TestTemplateRendersOfAPanelTakeTurns(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	other := env.TokenFor("render_gate_other")
	plain := apptest.NewReceiver(t)
	hook := env.ActiveWebhook("Signed", plain.URL, nil) // a rotation validates its template again
	hold, arrived := make(chan struct{}), make(chan int, 4)
	recv := apptest.NewReceiver(t)
	recv.Answer = func(n int, r *apptest.Request) apptest.Answer {
		arrived <- n
		return apptest.Answer{Status: 200, Hold: hold}
	}
	released := false
	release := func() {
		if !released {
			close(hold)
			released = true
		}
	}
	defer release()

	// Two tests of this panel hold its two turns while their endpoint waits.
	tests := make(chan int, 2)
	for range 2 {
		go func() {
			code, _ := env.Call("POST", "/api/v1/webhooks/test", map[string]any{"label": "Slow", "url": recv.URL}, nil)
			tests <- code
		}()
	}
	<-arrived
	<-arrived

	preview := map[string]any{"label": "P", "body_format": "template", "body_template": `{"e": {{ event.name | json }}}`}
	mine := make(chan int, 2)
	go func() {
		code, _ := env.Call("POST", "/api/v1/webhooks/preview", preview, nil)
		mine <- code
	}()
	go func() {
		code, _ := env.Call("POST", hookPath(hook, "/signing-secret"), nil, nil)
		mine <- code
	}()
	code, raw := env.CallAs(other, "POST", "/api/v1/webhooks/preview", preview, nil)
	require.Equal(t, http.StatusOK, code, raw, "another panel's preview does not wait")
	code, raw = env.CallAs(other, "POST", "/api/v1/webhooks/preview", preview, nil)
	require.Equal(t, http.StatusOK, code, raw)
	select {
	case code := <-mine:
		t.Fatalf("the panel's third rendering request ran beside its two (answered %d)", code)
	default:
	}

	release()
	require.Equal(t, http.StatusOK, <-tests)
	require.Equal(t, http.StatusOK, <-tests)
	require.Equal(t, http.StatusOK, <-mine, "its turn came")
	require.Equal(t, http.StatusOK, <-mine, "its turn came")
}
