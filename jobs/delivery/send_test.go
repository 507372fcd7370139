package delivery

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/jobs/egress"
	"github.com/heraldhq/herald/models"
)

func loopbackSender(timeout time.Duration) *Sender {
	return &Sender{
		Client:    egress.NewHTTPClient(egress.Config{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, RequestTimeout: timeout}),
		UserAgent: "Herald/test",
	}
}

type captured struct {
	method, contentType, user, pass, ua, rawBody string
	header                                       http.Header
	authOK                                       bool
	data                                         map[string][]map[string]any
}

// capture answers status and records the request as a receiver would read
// it: form-decode, then JSON-decode the data field.
func capture(t *testing.T, status int, got *captured) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got.method, got.contentType, got.ua, got.rawBody, got.header = r.Method, r.Header.Get("Content-Type"), r.UserAgent(), string(body), r.Header.Clone()
		got.user, got.pass, got.authOK = r.BasicAuth()
		form := r.URL.Query()
		if r.Method == http.MethodPost {
			form, _ = url.ParseQuery(string(body))
		}
		assert.NoError(t, json.Unmarshal([]byte(form.Get("data")), &got.data)) // not require: this is the server's goroutine
		w.WriteHeader(status)
		_, _ = w.Write([]byte(strings.Repeat("r", 10_000)))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestSendPostsFormEncodedSignedBatch(t *testing.T) {
	t.Parallel()
	var got captured
	srv := capture(t, 200, &got)
	secret := models.NewSigningSecret()
	spec := &models.WebhookSpec{
		URL: srv.URL + "/hook", Method: models.MethodPost,
		BasicAuth:     &models.BasicAuth{Username: "mkt", Password: "s3cr:et"},
		Headers:       []models.Header{{Name: "X-Api-Key", Value: "key-1"}, {Name: "X-Tenant", Value: "acme"}},
		SigningSecret: secret,
	}
	payload := SamplePayload("acme_prod", "Email Open Webhook", time.Date(2022, 12, 2, 15, 48, 5, 0, time.UTC))
	res := loopbackSender(5*time.Second).Send(context.Background(), Request{Spec: spec, MessageID: "msg_1", Body: FormBody(payload)})

	require.True(t, res.OK(), res.ErrorText())
	require.Equal(t, 200, res.StatusCode)
	require.Len(t, res.Body, KeepResponseBytes, "the recorded body is capped at 4 KiB")
	require.Equal(t, "POST", got.method)
	require.Equal(t, "application/x-www-form-urlencoded", got.contentType)
	require.True(t, got.authOK)
	require.Equal(t, "mkt", got.user)
	require.Equal(t, "s3cr:et", got.pass)
	require.Equal(t, "key-1", got.header.Get("X-Api-Key"))
	require.Equal(t, "acme", got.header.Get("X-Tenant"))
	require.Equal(t, "Herald/test", got.ua)

	items := got.data["acme_prod"]
	require.Len(t, items, 1)
	require.Equal(t, true, items[0]["test"])
	require.Equal(t, "Email Open Webhook", items[0]["webhook_name"])
	require.Equal(t, "open", items[0]["event"])
	params := items[0]["event_params"].(map[string]any)
	require.Equal(t, "2022-12-02T15:48:05", params["timestamp"])
	require.EqualValues(t, 221202154805, params["ts"])

	// The signature verifies with the reference implementation of the spec.
	verifier, err := standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	require.NoError(t, verifier.Verify([]byte(got.rawBody), got.header))
	require.Equal(t, "msg_1", got.header.Get("webhook-id"))
	require.Error(t, verifier.Verify([]byte(got.rawBody+"x"), got.header), "a changed body must not verify")

	// Secrets never reach the attempt log.
	logged, _ := json.Marshal(res.Header)
	for _, s := range []string{"key-1", "acme\"", "s3cr", "bWt0"} {
		require.NotContains(t, string(logged), s)
	}
}

func TestSendGetCarriesDataInQuery(t *testing.T) {
	t.Parallel()
	var got captured
	srv := capture(t, 200, &got)
	spec := &models.WebhookSpec{URL: srv.URL + "/hook?source=herald", Method: models.MethodGet}
	res := loopbackSender(5*time.Second).Send(context.Background(), Request{Spec: spec, MessageID: "m", Body: FormBody(SamplePayload("p", "w", time.Now()))})
	require.True(t, res.OK(), res.ErrorText())
	require.Equal(t, "GET", got.method)
	require.Len(t, got.data["p"], 1)
}

func TestSendReportsFailures(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/429":
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(429)
		case "/slow":
			// Answers only once the sender has hung up: with the body read,
			// the server watches the connection and cancels the context.
			_, _ = io.Copy(io.Discard, r.Body)
			<-r.Context().Done()
		default:
			w.WriteHeader(500)
		}
	}))
	defer srv.Close()
	// A timeout that a loaded machine's loopback round trip stays well
	// within; only /slow waits it out.
	s := loopbackSender(time.Second)
	send := func(path string) Response {
		spec := &models.WebhookSpec{URL: srv.URL + path, Method: models.MethodPost}
		return s.Send(context.Background(), Request{Spec: spec, MessageID: "m", Body: FormBody([]byte(`{}`))})
	}

	res := send("/500")
	require.False(t, res.OK())
	require.Equal(t, 500, res.StatusCode)
	require.Equal(t, egress.ClassHTTP, res.ErrClass)
	require.Equal(t, "HTTP 500", res.ErrorText())

	res = send("/429")
	require.Equal(t, 429, res.StatusCode)
	require.Equal(t, 2*time.Minute, res.RetryAfter)

	res = send("/slow")
	require.False(t, res.OK())
	require.Equal(t, egress.ClassTimeout, res.ErrClass)
	require.NotContains(t, res.ErrorText(), srv.URL, "errors do not repeat the URL")
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	require.Equal(t, 30*time.Second, parseRetryAfter("30", now))
	require.Equal(t, 90*time.Second, parseRetryAfter(now.Add(90*time.Second).Format(http.TimeFormat), now))
	require.Zero(t, parseRetryAfter("soon", now))
	require.Zero(t, parseRetryAfter("-5", now))
	require.Zero(t, parseRetryAfter("", now))
}

// headerServer is a raw loopback TCP server answering every request with
// 200 and about headerBytes of response headers, as no http.Server would.
func headerServer(t *testing.T, headerBytes int) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	var head strings.Builder
	head.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n")
	line := "X-Pad-%05d: " + strings.Repeat("a", 1000) + "\r\n"
	for i := 0; head.Len() < headerBytes; i++ {
		fmt.Fprintf(&head, line, i)
	}
	head.WriteString("\r\n")
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer func() { _ = conn.Close() }()
				if _, err := http.ReadRequest(bufio.NewReader(conn)); err != nil {
					return
				}
				// The client hangs up once it has read enough: ignore the error.
				_, _ = io.WriteString(conn, head.String())
			}()
		}
	}()
	return "http://" + ln.Addr().String() + "/"
}

// A receiver answering a huge header block is cut off at
// MaxResponseHeaderBytes and the attempt is classed as such.
func TestClientCapsResponseHeaders(t *testing.T) {
	t.Parallel()
	sender := &Sender{
		Client:    egress.NewHTTPClient(egress.Config{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}),
		UserAgent: "Herald/test",
	}
	send := func(url string) Response {
		return sender.Send(context.Background(), Request{
			Spec: &models.WebhookSpec{URL: url, Method: models.MethodPost}, MessageID: "msg_1", Body: FormBody([]byte(`{}`)),
		})
	}

	res := send(headerServer(t, 1<<20))
	require.False(t, res.OK())
	require.Error(t, res.Err)
	require.Equal(t, egress.ClassHeaders, res.ErrClass, res.ErrorText())
	require.Equal(t, egress.ClassHeaders, egress.ClassifyError(res.Err))

	res = send(headerServer(t, 16<<10))
	require.NoError(t, res.Err, "headers under the cap are read")
	require.Equal(t, http.StatusOK, res.StatusCode)
}

// A request that asks for its response (a journey node saving from it)
// gets the whole body up to the cap, and nothing when it is larger; the
// attempt's record stays capped at 4 KiB either way.
func TestSendCapturesResponseUpToTheCap(t *testing.T) {
	t.Parallel()
	const limit = 64 << 10
	for _, tc := range []struct {
		name     string
		size     int
		capture  int
		captured bool
	}{
		{"not asked", 1000, 0, false},
		{"small", 1000, limit, true},
		{"exactly the cap", limit, limit, true},
		{"over the cap", limit + 1, limit, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := strings.Repeat("x", tc.size)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write([]byte(body))
			}))
			t.Cleanup(srv.Close)
			spec := &models.WebhookSpec{URL: srv.URL, Method: models.MethodPost}
			res := loopbackSender(5*time.Second).Send(context.Background(), Request{Spec: spec, MessageID: "m", Body: []byte("data=1"),
				CaptureBytes: tc.capture})
			require.True(t, res.OK(), res.ErrorText())
			require.Len(t, res.Body, min(tc.size, KeepResponseBytes))
			if tc.captured {
				require.Equal(t, body, string(res.Captured))
			} else {
				require.Nil(t, res.Captured)
			}
		})
	}
}
