package rig

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func post(t *testing.T, r *Receiver, data string) int {
	t.Helper()
	resp, err := http.Post(r.URL, "application/x-www-form-urlencoded", strings.NewReader("data="+url.QueryEscape(data)))
	require.NoError(t, err)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// The chaos run's verdict rests on the receiver's counts.
func TestReceiverCounts(t *testing.T) {
	t.Parallel()
	r, err := NewReceiver()
	require.NoError(t, err)
	defer r.Close()
	a := `{"p": [{"delivery_id": "dlv_1", "payload_params": {"chaos_id": "chaos-1", "sent_ns": 1}},
	             {"delivery_id": "dlv_2", "sent_ns": 1},
	             {"delivery_id": "dlv_test"}]}`
	require.Equal(t, 200, post(t, r, a))
	require.EqualValues(t, 2, r.Items.Load(), "the activation test (no stamp) is not counted")
	require.True(t, r.Seen("chaos-1"))
	require.True(t, r.Seen("dlv_2"))
	require.False(t, r.Seen("dlv_1"), "an item with a chaos_id is known by it")

	r.SetStatus(500)
	require.Equal(t, 500, post(t, r, `{"p": [{"delivery_id": "dlv_3", "sent_ns": 1}]}`))
	require.False(t, r.Seen("dlv_3"), "a failing endpoint takes nothing")
	r.SetStatus(0)

	require.Equal(t, 200, post(t, r, a))
	require.EqualValues(t, 2, r.Items.Load())
	require.EqualValues(t, 2, r.Duplicates())
	require.EqualValues(t, 2, r.Requests.Load())
}
