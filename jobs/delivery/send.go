package delivery

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/jobs/egress"
	"github.com/heraldhq/herald/models"
)

// KeepResponseBytes is how much of a response body is recorded.
const KeepResponseBytes = 4 << 10

// drainResponseBytes is how much is read to let the connection be reused;
// a larger body closes the connection instead of being read.
const drainResponseBytes = 64 << 10

// Sender sends batches to webhook assets through the SSRF-safe client.
type Sender struct {
	Client    *http.Client
	UserAgent string // "Herald/<version>"
	// Now is the store's clock (models.Store.Now), so that a test moving
	// it moves every deadline; nil reads the wall clock.
	Now func() time.Time
}

// Request is one batch ready to go out.
type Request struct {
	Spec *models.WebhookSpec
	// MessageID is the webhook-id of the Standard Webhooks signature: the
	// same for every retry of the same batch.
	MessageID string
	// Body is the request body, from BuildFormatBody (or BuildBody or
	// FormBody: the form-encoded data=<JSON>).
	Body []byte
	// ContentType of a POST body; empty is the form's.
	ContentType string
	// CaptureBytes, when above zero, keeps up to that much of the response
	// body in Response.Captured (a journey node saves from it).
	CaptureBytes int
}

// Response is what came back, or why nothing did.
type Response struct {
	StatusCode int
	Latency    time.Duration
	Body       []byte // the first KeepResponseBytes
	// Captured is the whole body when the request asked for it
	// (CaptureBytes) and it fit; nil otherwise.
	Captured []byte
	Err      error
	// ErrClass is one of the egress.Class constants: the kind of
	// failure, recorded with attempts and test results as error_class.
	ErrClass   string
	RetryAfter time.Duration // from a 429 or 503 Retry-After header
	// Header is the request headers as sent, with secrets redacted.
	Header http.Header
}

// OK reports a 2xx answer.
func (r *Response) OK() bool { return r.Err == nil && r.StatusCode >= 200 && r.StatusCode < 300 }

// ErrorText describes a failure in one line: the network error or the status.
func (r *Response) ErrorText() string {
	switch {
	case r.Err != nil:
		return r.Err.Error()
	case !r.OK():
		return fmt.Sprintf("HTTP %d", r.StatusCode)
	}
	return ""
}

// FormBody is the request body for a whole JSON payload: the form field data.
func FormBody(payload []byte) []byte {
	return appendQueryEscape([]byte("data="), payload)
}

// Send delivers one request. It never returns an error: failures are in the
// Response so they can be recorded.
func (s *Sender) Send(ctx context.Context, r Request) Response {
	req, err := s.build(ctx, r, r.Body)
	if err != nil {
		return Response{Err: err, ErrClass: egress.ClassNetwork}
	}
	res := Response{Header: redactedHeader(req.Header, r.Spec)}
	start := time.Now()
	resp, err := s.Client.Do(req)
	if err != nil {
		res.Latency = time.Since(start)
		res.Err, res.ErrClass = unwrapURLError(err), egress.ClassifyError(err)
		return res
	}
	// The body is read (or given up on) before Close; Close's error could
	// only concern the connection's reuse, never this delivery's outcome.
	defer func() { _ = resp.Body.Close() }()
	res.StatusCode = resp.StatusCode
	kept, err := readCapped(resp.Body, max(KeepResponseBytes, r.CaptureBytes+1))
	res.Body = kept[:min(len(kept), KeepResponseBytes)]
	if r.CaptureBytes > 0 && len(kept) <= r.CaptureBytes && err == nil {
		res.Captured = kept
	}
	res.Latency = time.Since(start)
	if err != nil && res.StatusCode/100 == 2 {
		// The receiver answered 2xx but the body broke off: the status
		// stands, the batch was accepted.
		err = nil
	}
	if err != nil {
		res.Err, res.ErrClass = unwrapURLError(err), egress.ClassifyError(err)
	} else if !res.OK() {
		res.ErrClass = egress.ClassHTTP
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		res.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), s.now())
	}
	return res
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Sender) build(ctx context.Context, r Request, body []byte) (*http.Request, error) {
	spec := r.Spec
	var req *http.Request
	var err error
	if spec.Method == models.MethodGet {
		u, perr := url.Parse(spec.URL)
		if perr != nil {
			return nil, fmt.Errorf("send: bad URL: %w", perr)
		}
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += string(body)
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	} else {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, spec.URL, bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", cmp.Or(r.ContentType, models.ContentTypeForm))
		}
	}
	if err != nil {
		return nil, fmt.Errorf("send: build request: %w", err)
	}
	for _, h := range spec.Headers {
		req.Header[h.Name] = []string{h.Value} // keep the case the marketer typed; some receivers care
	}
	if spec.BasicAuth != nil {
		req.SetBasicAuth(spec.BasicAuth.Username, spec.BasicAuth.Password)
	}
	req.Header.Set("User-Agent", s.UserAgent)
	if spec.SigningSecret != "" {
		key, err := models.DecodeSigningSecret(spec.SigningSecret)
		if err != nil {
			return nil, fmt.Errorf("send: signing secret: %w", err)
		}
		ts := s.now().Unix()
		// For GET the signed content is the data=... query parameter, the
		// same bytes a POST would carry as its body.
		if spec.SignatureScheme == models.SignatureHMAC {
			req.Header.Set(models.TimestampHeader, strconv.FormatInt(ts, 10))
			req.Header[spec.SignatureHeaderName()] = []string{SignHex(key, ts, body)} // as typed, like custom headers
		} else {
			req.Header.Set("webhook-id", r.MessageID)
			req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
			req.Header.Set("webhook-signature", Sign(key, r.MessageID, ts, body))
		}
	}
	return req, nil
}

// redactedHeader is what the attempt log may keep: header names, and values
// only where they hold no secret.
func redactedHeader(h http.Header, spec *models.WebhookSpec) http.Header {
	out := make(http.Header, len(h))
	for name, vals := range h {
		out[name] = append([]string(nil), vals...)
	}
	for _, c := range spec.Headers {
		out[c.Name] = []string{"[redacted]"}
	}
	if spec.BasicAuth != nil {
		out.Set("Authorization", "Basic [redacted]")
	}
	return out
}

// readCapped keeps the first keep bytes of a body.
func readCapped(r io.Reader, keep int) ([]byte, error) {
	buf := make([]byte, 0, 512)
	kept := bytes.NewBuffer(buf)
	_, err := io.Copy(kept, io.LimitReader(r, int64(keep)))
	if err != nil {
		return kept.Bytes(), err
	}
	// Read (and discard) a little more so a keep-alive connection can be
	// reused; a larger body is cut off when the caller closes it.
	_, err = io.Copy(io.Discard, io.LimitReader(r, drainResponseBytes))
	return kept.Bytes(), err
}

// parseRetryAfter understands both forms of Retry-After: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// unwrapURLError drops the "Post \"url\": " prefix net/http adds, which
// would repeat the URL (and its query string) in every logged error.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
