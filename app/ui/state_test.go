package ui

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models"
)

func TestStateOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status     models.WebhookStatus
		name, tone string
	}{
		{models.StatusUntested, "untested", "warn"},
		{models.StatusActive, "active", "ok"},
		{models.StatusInactive, "inactive", "muted"},
		{models.StatusDisabled, "disabled", "bad"},
		{"something new", "something new", "muted"},
	} {
		got := stateOf(&models.Webhook{Status: tc.status})
		require.Equal(t, tc.name, got.Name, tc.status)
		require.Equal(t, tc.tone, got.Tone, tc.status)
	}
	// An active webhook shows the failure tracker's word for its health.
	for state, name := range map[string]string{"healthy": "active", "degraded": "failing", "paused": "paused"} {
		w := &models.Webhook{Status: models.StatusActive, Health: []byte(`{"state": "` + state + `"}`)}
		require.Equal(t, name, stateOf(w).Name, state)
	}
}

func TestTones(t *testing.T) {
	t.Parallel()
	for outcome, want := range map[string]string{"delivered": "ok", "retry": "warn", "failed": "bad", "": "muted"} {
		require.Equal(t, want, outcomeTone(outcome), outcome)
	}
	for st, want := range map[models.DeliveryStatus]string{models.DeliveryDelivered: "ok", models.DeliveryFailed: "bad",
		models.DeliveryHeld: "warn", models.DeliveryPending: "muted", models.DeliverySending: "muted"} {
		require.Equal(t, want, deliveryTone(st), st)
	}
	for st, want := range map[models.JourneyStatus]string{models.JourneyLive: "ok", models.JourneyPaused: "warn",
		models.JourneyDraft: "muted", models.JourneyStopped: "muted"} {
		require.Equal(t, want, journeyTone(st), st)
	}
}
