package ui

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models"
)

func TestStateOf(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 29, 15, 0, 0, 0, time.UTC)
	minute := now.Unix() / 60
	for _, tc := range []struct {
		name       string
		status     models.WebhookStatus
		health     string
		want, tone string
	}{
		{"untested", models.StatusUntested, "", "untested", "warn"},
		{"active, never sent", models.StatusActive, "", "active", "ok"},
		{"inactive", models.StatusInactive, "", "inactive", "muted"},
		{"disabled", models.StatusDisabled, `{"state": "disabled"}`, "disabled", "bad"},
		{"unknown status", "something new", "", "something new", "muted"},
		{"healthy, all delivered", models.StatusActive,
			fmt.Sprintf(`{"state": "healthy", "buckets": [{"m": %d, "a": 10, "f": 0}]}`, minute), "active", "ok"},
		// One failed request (a 400 counts as one) is trouble at once,
		// long before the 5 that pause or the 20 that degrade.
		{"last request failed", models.StatusActive,
			fmt.Sprintf(`{"state": "healthy", "consecutive_failures": 1, "buckets": [{"m": %d, "a": 1, "f": 1}]}`, minute), "failing", "warn"},
		{"rate over the threshold below the minimum attempts", models.StatusActive,
			fmt.Sprintf(`{"state": "healthy", "buckets": [{"m": %d, "a": 5, "f": 2}]}`, minute), "failing", "warn"},
		{"rate under the threshold", models.StatusActive,
			fmt.Sprintf(`{"state": "healthy", "buckets": [{"m": %d, "a": 10, "f": 1}]}`, minute), "active", "ok"},
		{"failures out of the window", models.StatusActive,
			fmt.Sprintf(`{"state": "healthy", "buckets": [{"m": %d, "a": 5, "f": 5}]}`, minute-60), "active", "ok"},
		{"degraded", models.StatusActive, `{"state": "degraded"}`, "failing", "warn"},
		{"paused", models.StatusActive, `{"state": "paused", "consecutive_failures": 5}`, "paused", "bad"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := stateOf(&models.Webhook{Status: tc.status, Health: []byte(tc.health)}, now)
			require.Equal(t, tc.want, got.Name)
			require.Equal(t, tc.tone, got.Tone)
		})
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
