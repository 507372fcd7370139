package journey

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models"
)

func TestSendsRaw(t *testing.T) {
	t.Parallel()
	raw := []byte(`{"event": "NEW_VISIT"}`)
	for _, tc := range []struct {
		name      string
		format    string
		batchSize int
		hashPII   bool
		raw       []byte
		want      bool
	}{
		{"json one at a time", models.BodyJSON, 1, false, raw, true},
		{"json batches", models.BodyJSON, 10, false, raw, false},
		{"form", models.BodyForm, 1, false, raw, false},
		{"template", models.BodyTemplate, 1, false, raw, false},
		{"hash_pii changes values", models.BodyJSON, 1, true, raw, false},
		{"ingested as a form", models.BodyJSON, 1, false, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := models.SubscribedAsset{AssetInfo: models.AssetInfo{BatchSize: tc.batchSize, HashPII: tc.hashPII}, BodyFormat: tc.format}
			require.Equal(t, tc.want, SendsRaw(&a, &models.Event{Raw: tc.raw}))
		})
	}
}
