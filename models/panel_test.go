package models_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models"
)

func TestCheckTimeZone(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		zone string
		msg  string // "" when accepted
	}{
		{"Europe/Paris", ""},
		{"UTC", ""},
		{"America/New_York", ""},
		{"", "must be an IANA time zone name such as Europe/Paris or UTC"},
		{"Local", "must be an IANA time zone name such as Europe/Paris or UTC"},
		{"Mars/Olympus", `"Mars/Olympus" is not a known IANA time zone (such as Europe/Paris or UTC)`},
		{"../../etc/passwd", `"../../etc/passwd" is not a known IANA time zone (such as Europe/Paris or UTC)`},
	} {
		t.Run(tc.zone, func(t *testing.T) {
			t.Parallel()
			err := models.CheckTimeZone(tc.zone)
			if tc.msg == "" {
				require.NoError(t, err)
				return
			}
			var ve *models.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, "time_zone", ve.Field)
			require.Equal(t, tc.msg, ve.Message)
		})
	}
}

func TestIngestLimit(t *testing.T) {
	t.Parallel()
	n := func(v int) *int { return &v }
	for _, tc := range []struct {
		name       string
		deployment int
		panel      *int
		want       int
	}{
		{"no setting of its own", 1000, nil, 1000},
		{"lowered by the panel", 1000, n(10), 10},
		{"equal", 1000, n(1000), 1000},
		{"stored above the deployment's", 1000, n(10_000_000), 1000},
	} {
		require.Equal(t, tc.want, models.IngestLimit(tc.deployment, tc.panel), tc.name)
	}
}
