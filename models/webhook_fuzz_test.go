package models

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

// The fuzz targets below check what Validate accepts against net/http
// itself rather than against the validator's own rules: an accepted
// webhook must be one the sender (delivery.Sender, in jobs/delivery) can
// actually send. Their seed corpus is in testdata/fuzz/<target>/; `go test` replays it and
// `go test ./models -run '^$' -fuzz FuzzWebhookURL` looks for more.

// FuzzWebhookURL: whatever URL Validate accepts is an http(s) URL with a
// host and no credentials, and survives being made into a request both as
// typed (POST) and re-serialized with data= added to its query (GET).
func FuzzWebhookURL(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw string) {
		s := validSpec()
		s.URL = raw
		if err := s.Validate(true); err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Field != "url" {
				t.Fatalf("only the URL changed, yet Validate says %v", err)
			}
			return
		}
		if strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			t.Fatalf("accepted a URL with a space or control character: %q", raw)
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("accepted %q, which url.Parse refuses: %v", raw, err)
		}
		if u.Scheme != "http" && u.Scheme != "https" || u.Hostname() == "" || u.User != nil {
			t.Fatalf("accepted %q: scheme %q, host %q, userinfo %v", raw, u.Scheme, u.Hostname(), u.User)
		}
		if a, err := netip.ParseAddr(u.Hostname()); err == nil && a.Zone() != "" {
			t.Fatalf("accepted %q, an IPv6 address with a zone, which the SSRF guard cannot judge", raw)
		}

		post, err := http.NewRequest(http.MethodPost, raw, strings.NewReader("data=x"))
		if err != nil {
			t.Fatalf("accepted %q, which http.NewRequest refuses: %v", raw, err)
		}
		if !sameDestination(post.URL, u) {
			t.Fatalf("%q: the request goes to %s://%s", raw, post.URL.Scheme, post.URL.Host)
		}
		writeAndRead(t, post)

		// What the sender does for GET: the URL goes through url.String
		// and is parsed again, which must not move it to another host.
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += "data=x"
		get, err := http.NewRequest(http.MethodGet, u.String(), nil)
		if err != nil {
			t.Fatalf("accepted %q, whose GET form %q http.NewRequest refuses: %v", raw, u.String(), err)
		}
		if !sameDestination(get.URL, u) {
			t.Fatalf("%q: its GET form goes to %s://%s", raw, get.URL.Scheme, get.URL.Host)
		}
		writeAndRead(t, get)
	})
}

// sameDestination compares where two URLs send a request; http.NewRequest
// drops an empty port ("http://h:" is "http://h"), which goes nowhere else.
func sameDestination(a, b *url.URL) bool {
	return a.Scheme == b.Scheme && a.Hostname() == b.Hostname() && a.Port() == b.Port()
}

// writeAndRead writes req as HTTP/1.1 and reads it back as a server would.
func writeAndRead(t *testing.T, req *http.Request) {
	t.Helper()
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		t.Fatalf("%s %s cannot be written: %v", req.Method, req.URL, err)
	}
	back, err := http.ReadRequest(bufio.NewReader(&buf))
	if err != nil {
		t.Fatalf("%s %s was written as a request a server cannot read: %v\n%s", req.Method, req.URL, err, buf.Bytes())
	}
	if back.Host == "" || back.RequestURI != req.URL.RequestURI() {
		t.Fatalf("%s %s arrives as host %q, target %q", req.Method, req.URL, back.Host, back.RequestURI)
	}
}

// connectionHeaders may not be set by a webhook: they describe the
// connection or the message framing (RFC 9110 sections 7.2, 7.6.1, 8.6,
// 10.1.1), which net/http owns.
var connectionHeaders = []string{"Host", "Connection", "Proxy-Connection", "Keep-Alive", "TE", "Transfer-Encoding",
	"Upgrade", "Trailer", "Content-Length", "Expect"}

// FuzzWebhookHeaders: whatever custom headers Validate accepts are sent by
// net/http as exactly those headers, each once and with its value, and
// leave Herald's own headers alone.
func FuzzWebhookHeaders(f *testing.F) {
	f.Fuzz(func(t *testing.T, name1, value1, name2, value2 string, basicAuth bool) {
		s := validSpec()
		s.URL = "http://hooks.example.com/in"
		s.Headers = []Header{{name1, value1}, {name2, value2}}
		if basicAuth {
			s.BasicAuth = &BasicAuth{Username: "user", Password: "pass"}
		}
		if err := s.Validate(true); err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || !strings.HasPrefix(ve.Field, "headers") {
				t.Fatalf("only the headers changed, yet Validate says %v", err)
			}
			return
		}
		if strings.EqualFold(name1, name2) {
			t.Fatalf("accepted %q and %q, the same header twice", name1, name2)
		}
		for _, h := range s.Headers {
			for _, c := range connectionHeaders {
				if strings.EqualFold(h.Name, c) {
					t.Fatalf("accepted connection header %q", h.Name)
				}
			}
			if strings.ContainsAny(h.Value, "\r\n\x00") {
				t.Fatalf("accepted %q: %q, a value that can split the header", h.Name, h.Value)
			}
		}

		// Built as delivery.Sender.build builds a POST (models cannot import
		// jobs): custom headers keep the case they were typed in.
		const body = "data=%7B%7D"
		req, err := http.NewRequest(http.MethodPost, s.URL, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, h := range s.Headers {
			req.Header[h.Name] = []string{h.Value}
		}
		if s.BasicAuth != nil {
			req.SetBasicAuth(s.BasicAuth.Username, s.BasicAuth.Password)
		}
		req.Header.Set("User-Agent", "Herald/test")
		req.Header.Set("webhook-id", "msg_1")

		got := onTheWire(t, req)
		for name, values := range got.Header {
			if len(values) != 1 {
				t.Fatalf("header %s arrives %d times: %q (custom headers %q)", name, len(values), values, s.Headers)
			}
		}
		for _, h := range s.Headers {
			// A receiver never sees surrounding blanks (RFC 9110 section 5.5).
			if want := strings.Trim(h.Value, " \t"); got.Header.Get(h.Name) != want {
				t.Fatalf("header %q arrives as %q, not %q", h.Name, got.Header.Get(h.Name), want)
			}
		}
		user, pass, _ := got.BasicAuth()
		if got.Host != "hooks.example.com" || got.ContentLength != int64(len(body)) ||
			got.Header.Get("Content-Type") != "application/x-www-form-urlencoded" ||
			got.Header.Get("User-Agent") != "Herald/test" || got.Header.Get("Webhook-Id") != "msg_1" ||
			basicAuth && (user != "user" || pass != "pass") {
			t.Fatalf("custom headers %q changed Herald's own: %v", s.Headers, got.Header)
		}
	})
}

// onTheWire sends req through a real http.Transport over an in-memory pipe
// and returns it as the server end reads it: exactly what net/http puts on
// the network, with no network involved.
func onTheWire(t *testing.T, req *http.Request) *http.Request {
	t.Helper()
	type read struct {
		req *http.Request
		err error
	}
	got := make(chan read, 1)
	tr := &http.Transport{DisableKeepAlives: true, DialContext: func(context.Context, string, string) (net.Conn, error) {
		client, server := net.Pipe()
		go func() {
			defer func() { _ = server.Close() }()
			r, err := http.ReadRequest(bufio.NewReader(server))
			if err == nil {
				_, err = io.Copy(io.Discard, r.Body)
			}
			got <- read{r, err}
			if err == nil {
				_, _ = io.WriteString(server, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
			}
		}()
		return client, nil
	}}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		select {
		case r := <-got:
			t.Fatalf("net/http cannot send the request: %v (the server read: %v)", err, r.err)
		default:
			t.Fatalf("net/http refuses to send the request: %v", err)
		}
	}
	_ = resp.Body.Close()
	r := <-got
	if r.err != nil {
		t.Fatalf("the server cannot read the request: %v", r.err)
	}
	return r.req
}
