package ui

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models"
)

// An alert row says what became of the alert, and when a failed sending
// is tried again: only a try still to come.
func TestNewAlertRow(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	later, earlier := now.Add(4*time.Second), now.Add(-time.Minute)
	for _, tc := range []struct {
		name    string
		entry   models.AlertEntry
		outcome string
		tone    string
		retry   time.Time
	}{
		{"sent", models.AlertEntry{State: "disabled", SentAt: &now, Recipients: "ops@example.com", Attempts: 1}, "sent", "ok", time.Time{}},
		{"sent to nobody", models.AlertEntry{State: "disabled", SentAt: &now}, "not sent: nobody gets alert e-mail", "warn", time.Time{}},
		{"failed, tried again later", models.AlertEntry{State: "disabled", Attempts: 2, LastError: "550 no such user", NextAttemptAt: &later},
			"not sent: 550 no such user", "bad", later},
		{"no mail server: nothing to wait for", models.AlertEntry{State: "disabled", Attempts: 1,
			LastError: "SMTP is not configured (HERALD_SMTP_URL)", NextAttemptAt: &earlier},
			"not sent: SMTP is not configured (HERALD_SMTP_URL)", "bad", time.Time{}},
		{"waiting its turn", models.AlertEntry{State: "recovered", NextAttemptAt: &earlier}, "waiting to be sent", "muted", time.Time{}},
	} {
		r := newAlertRow(tc.entry, now)
		require.Equal(t, tc.outcome, r.Outcome, tc.name)
		require.Equal(t, tc.tone, r.Tone, tc.name)
		require.Equal(t, tc.retry, r.Retry, tc.name)
	}
}
