package delivery

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestAppendQueryEscapeMatchesStdlib(t *testing.T) {
	t.Parallel()
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	for _, s := range []string{"", "plain", `{"a": "b c", "d": [1, 2]}`, "ünïcödé ✓", "%+&=?#/", string(all)} {
		require.Equal(t, url.QueryEscape(s), string(appendQueryEscape(nil, []byte(s))))
	}
}

func FuzzAppendQueryEscape(f *testing.F) {
	f.Add([]byte(`{"acme":[{"x":"y z"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if url.QueryEscape(string(b)) != string(appendQueryEscape(nil, b)) {
			t.Fatalf("escape differs for %q", b)
		}
	})
}

func TestBuildBody(t *testing.T) {
	t.Parallel()
	items := [][]byte{[]byte(`{"delivery_id":"dlv_1","e":"a b"}`), []byte(`{"delivery_id":"dlv_2"}`), []byte(`{"delivery_id":"dlv_3"}`)}
	body, n := BuildBody("acme_prod", items, 1<<20)
	require.Equal(t, 3, n)
	form, err := url.ParseQuery(string(body))
	require.NoError(t, err)
	var doc map[string][]map[string]any
	require.NoError(t, json.Unmarshal([]byte(form.Get("data")), &doc))
	require.Len(t, doc["acme_prod"], 3)
	require.Equal(t, "a b", doc["acme_prod"][0]["e"])

	one, _ := BuildBody("acme_prod", items[:1], 1<<20)
	two, _ := BuildBody("acme_prod", items[:2], 1<<20)
	body, n = BuildBody("acme_prod", items, len(two))
	require.Equal(t, 2, n, "as many as fit")
	require.Equal(t, two, body)
	_, n = BuildBody("acme_prod", items, len(one)-1)
	require.Zero(t, n, "the first item alone does not fit")
}

func TestBatchIDIsStableForTheSameDeliveries(t *testing.T) {
	t.Parallel()
	a, b := uuid.New(), uuid.New()
	first := BatchID([]uuid.UUID{a, b})
	require.Equal(t, first, BatchID([]uuid.UUID{a, b}))
	require.NotEqual(t, BatchID([]uuid.UUID{a, b}), BatchID([]uuid.UUID{a}))
	require.True(t, strings.HasPrefix(BatchID([]uuid.UUID{a}), "msg_"))
}

func TestRetryPolicyDecide(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	p := RetryPolicy{Schedule: DefaultRetrySchedule, MaxAttempts: 9, GiveUpAfter: 72 * time.Hour}
	netErr := &Response{Err: errString("connection refused")}
	tests := []struct {
		name     string
		res      *Response
		attempts int
		age      time.Duration
		jitter   float64
		verdict  Verdict
		wait     time.Duration
	}{
		{"2xx", &Response{StatusCode: 204}, 1, 0, 0, Delivered, 0},
		{"500 first", &Response{StatusCode: 500}, 1, 0, 0, Retry, 10 * time.Second},
		{"500 second", &Response{StatusCode: 500}, 2, 0, 0, Retry, time.Minute},
		{"503 eighth", &Response{StatusCode: 503}, 8, 0, 0, Retry, 24 * time.Hour},
		{"jitter +", &Response{StatusCode: 500}, 1, 0, 0.5, Retry, 11 * time.Second},
		{"jitter -", &Response{StatusCode: 500}, 1, 0, -1, Retry, 8 * time.Second},
		{"network error", netErr, 1, 0, 0, Retry, 10 * time.Second},
		{"408", &Response{StatusCode: 408}, 1, 0, 0, Retry, 10 * time.Second},
		{"429 with Retry-After", &Response{StatusCode: 429, RetryAfter: 90 * time.Second}, 1, 0, 0, Retry, 90 * time.Second},
		{"Retry-After shorter than backoff", &Response{StatusCode: 429, RetryAfter: time.Second}, 2, 0, 0, Retry, time.Minute},
		{"Retry-After capped", &Response{StatusCode: 503, RetryAfter: 100 * time.Hour}, 1, 0, 0, Retry, 24 * time.Hour},
		{"400", &Response{StatusCode: 400}, 1, 0, 0, GiveUp, 0},
		{"404", &Response{StatusCode: 404}, 1, 0, 0, GiveUp, 0},
		{"redirect", &Response{StatusCode: 302}, 1, 0, 0, GiveUp, 0},
		{"out of attempts", &Response{StatusCode: 500}, 9, 0, 0, GiveUp, 0},
		{"out of time", &Response{StatusCode: 500}, 3, 71*time.Hour + 58*time.Minute, 0, GiveUp, 0},
	}
	for _, tt := range tests {
		v, at := p.Decide(tt.res, tt.attempts, now.Add(-tt.age), now, tt.jitter)
		require.Equal(t, tt.verdict, v, tt.name)
		if tt.verdict == Retry {
			require.Equal(t, tt.wait, at.Sub(now), tt.name)
		}
	}
}

type errString string

func (e errString) Error() string { return string(e) }
