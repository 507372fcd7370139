package delivery

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models"
)

func TestBuildFormatBody(t *testing.T) {
	t.Parallel()
	items := [][]byte{
		[]byte(`{"delivery_id":"dlv_1","event":"open","att_params":{"EMAIL":"a@b.com"}}`),
		[]byte(`{"delivery_id":"dlv_2","event":"click","att_params":{"EMAIL":"c@d.com"}}`),
	}
	perEvent := `{"id": {{ delivery_id | json }}, "email": {{ contact.email | json }}}`
	batch := `[{% for e in events %}{{ e.delivery_id | json }}{% unless forloop.last %},{% endunless %}{% endfor %}]`
	tests := []struct {
		name        string
		spec        models.WebhookSpec
		body        string
		contentType string
		n           int
		first       int // 0: all items; else only the first ones
	}{
		{"json batch of one item is the item", models.WebhookSpec{BodyFormat: models.BodyJSON, BatchSize: 1, MaxBodyBytes: 1 << 20},
			string(items[0]), "application/json", 1, 0},
		{"json batch is an array", models.WebhookSpec{BodyFormat: models.BodyJSON, BatchSize: 100, MaxBodyBytes: 1 << 20},
			"[" + string(items[0]) + "," + string(items[1]) + "]", "application/json", 2, 0},
		{"json batch of one event is still an array", models.WebhookSpec{BodyFormat: models.BodyJSON, BatchSize: 100, MaxBodyBytes: 1 << 20},
			"[" + string(items[0]) + "]", "application/json", 1, 1},
		{"json array split at max_body_bytes", models.WebhookSpec{BodyFormat: models.BodyJSON, BatchSize: 100, MaxBodyBytes: 100},
			"[" + string(items[0]) + "]", "application/json", 1, 0},
		{"json item too large", models.WebhookSpec{BodyFormat: models.BodyJSON, BatchSize: 1, MaxBodyBytes: 10},
			"", "application/json", 0, 0},
		{"template per event", models.WebhookSpec{BodyFormat: models.BodyTemplate, BodyTemplate: perEvent, BatchSize: 100, MaxBodyBytes: 1 << 20},
			`{"id": "dlv_1", "email": "a@b.com"}`, "application/json", 1, 0},
		{"template over events", models.WebhookSpec{BodyFormat: models.BodyTemplate, BodyTemplate: batch, BatchSize: 100, MaxBodyBytes: 1 << 20},
			`["dlv_1","dlv_2"]`, "application/json", 2, 0},
		{"template over events halves to fit", models.WebhookSpec{BodyFormat: models.BodyTemplate, BodyTemplate: batch, BatchSize: 100, MaxBodyBytes: 12},
			`["dlv_1"]`, "application/json", 1, 0},
		{"form template", models.WebhookSpec{BodyFormat: models.BodyTemplate, TemplateContentType: models.ContentTypeForm,
			BodyTemplate: `email={{ contact.email | url_encode }}`, BatchSize: 1, MaxBodyBytes: 1 << 20},
			`email=a%40b.com`, "application/x-www-form-urlencoded", 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := items
			if tt.first > 0 {
				in = items[:tt.first]
			}
			b := BuildFormatBody("acme", &tt.spec, in, nil)
			require.Equal(t, tt.body, string(b.Bytes))
			require.Equal(t, tt.contentType, b.ContentType)
			require.Equal(t, tt.n, b.N)
		})
	}
	t.Run("a batch that does not render is halved: the event at fault fails alone", func(t *testing.T) {
		t.Parallel()
		spec := models.WebhookSpec{BodyFormat: models.BodyTemplate, MaxBodyBytes: 1 << 20, BatchSize: 100,
			BodyTemplate: `[{% for e in events %}"{{ e.item.q }}"{% unless forloop.last %},{% endunless %}{% endfor %}]`}
		in := [][]byte{[]byte(`{"delivery_id":"dlv_1","q":"a"}`), []byte(`{"delivery_id":"dlv_2","q":"say \"hi\""}`),
			[]byte(`{"delivery_id":"dlv_3","q":"c"}`)}
		b := BuildFormatBody("acme", &spec, in, nil)
		require.NoError(t, b.Err)
		require.Equal(t, 1, b.N, "the first event goes out")
		require.Equal(t, `["a"]`, string(b.Bytes))
		b = BuildFormatBody("acme", &spec, in[1:], nil)
		require.Zero(t, b.N, "then the one that breaks the JSON fails")
		require.Equal(t, ClassTemplate, errClass(b))
	})
	t.Run("a value that breaks the JSON fails the event, with the place", func(t *testing.T) {
		t.Parallel()
		spec := models.WebhookSpec{BodyFormat: models.BodyTemplate, BodyTemplate: `{"e": "{{ item.q }}"}`, MaxBodyBytes: 1 << 20}
		b := BuildFormatBody("acme", &spec, [][]byte{[]byte(`{"delivery_id":"dlv_1","q":"say \"hi\""}`)}, nil)
		require.Zero(t, b.N)
		require.ErrorContains(t, b.Err, "invalid JSON at line 1, column")
		require.Equal(t, ClassTemplate, errClass(b))
	})
}

// TestSendSignsHMACSHA256 checks the hmac-sha256 scheme with crypto/hmac
// directly, as a receiver would, not with SignHex.
func TestSendSignsHMACSHA256(t *testing.T) {
	t.Parallel()
	type seen struct {
		header http.Header
		body   []byte
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- seen{r.Header.Clone(), body}
	}))
	t.Cleanup(srv.Close)
	secret := models.NewSigningSecret()
	now := time.Unix(1_700_000_000, 0)
	sender := loopbackSender(5 * time.Second)
	sender.Now = func() time.Time { return now }
	for _, header := range []string{"", "X-Hub-Signature-256"} {
		spec := &models.WebhookSpec{URL: srv.URL, Method: models.MethodPost, SigningSecret: secret, BodyFormat: models.BodyJSON,
			BatchSize: 1, MaxBodyBytes: 1 << 20, SignatureScheme: models.SignatureHMAC, SignatureHeader: header}
		res := sender.Send(context.Background(), Request{Spec: spec, MessageID: "m", Body: []byte(`{"a":1}`), ContentType: "application/json"})
		require.True(t, res.OK(), res.ErrorText())
		s := <-got
		require.Equal(t, "1700000000", s.header.Get("X-Webhook-Timestamp"))
		require.Empty(t, s.header.Get("webhook-signature"), "one scheme at a time")
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
		require.NoError(t, err)
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(s.header.Get("X-Webhook-Timestamp") + "." + string(s.body)))
		want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
		name := header
		if name == "" {
			name = "X-Webhook-Signature"
		}
		require.Equal(t, want, s.header.Get(name))
		require.Equal(t, `{"a":1}`, string(s.body))
		ts, _ := strconv.ParseInt(s.header.Get("X-Webhook-Timestamp"), 10, 64)
		require.Equal(t, now.Unix(), ts)
	}
}
