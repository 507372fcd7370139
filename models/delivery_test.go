package models_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models"
)

func TestParseDeliveryIDs(t *testing.T) {
	t.Parallel()
	a, b := models.NewID(time.Now()), models.NewID(time.Now())
	for _, tc := range []struct {
		name string
		in   []string
		want []uuid.UUID
		bad  string // the message of the ValidationError, "" when parsed
	}{
		{name: "none", in: nil, want: []uuid.UUID{}},
		{name: "two, in order", in: []string{models.DeliveryID(b), models.DeliveryID(a)}, want: []uuid.UUID{b, a}},
		{name: "no prefix", in: []string{models.DeliveryID(a), "01ARZ3NDEKTSV4RRFFQ69G5FAV"},
			bad: `"01ARZ3NDEKTSV4RRFFQ69G5FAV" is not a delivery id (dlv_...)`},
		{name: "not a ULID", in: []string{"dlv_nope"}, bad: `"dlv_nope" is not a delivery id (dlv_...)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := models.ParseDeliveryIDs(tc.in)
			if tc.bad == "" {
				require.NoError(t, err)
				require.Equal(t, tc.want, got)
				return
			}
			var ve *models.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, "delivery_id", ve.Field)
			require.Equal(t, tc.bad, ve.Message)
		})
	}
}
