package models

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWebhookStatusCanMoveTo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		from, to WebhookStatus
		want     bool
	}{
		// Activate, after a passing test (or the automatic probe).
		{StatusUntested, StatusActive, true},
		{StatusInactive, StatusActive, true},
		{StatusDisabled, StatusActive, true},
		{StatusActive, StatusActive, true},
		// Deactivate.
		{StatusActive, StatusInactive, true},
		{StatusDisabled, StatusInactive, true},
		{StatusInactive, StatusInactive, true},
		{StatusUntested, StatusInactive, false},
		// The failure tracker disables only what is in service.
		{StatusActive, StatusDisabled, true},
		{StatusDisabled, StatusDisabled, true},
		{StatusInactive, StatusDisabled, false},
		{StatusUntested, StatusDisabled, false},
		// A change of the tested configuration.
		{StatusActive, StatusUntested, true},
		{StatusInactive, StatusUntested, true},
		{StatusUntested, StatusUntested, true},
		{StatusDisabled, StatusUntested, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.from)+"→"+string(tt.to), func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, tt.from.CanMoveTo(tt.to))
		})
	}
}

func TestJourneyStatusCanMoveTo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		from, to JourneyStatus
		want     bool
	}{
		// Publish, resume, or publish again.
		{JourneyDraft, JourneyLive, true},
		{JourneyPaused, JourneyLive, true},
		{JourneyLive, JourneyLive, true},
		{JourneyStopped, JourneyLive, false},
		// Pause.
		{JourneyLive, JourneyPaused, true},
		{JourneyPaused, JourneyPaused, true},
		{JourneyDraft, JourneyPaused, false},
		{JourneyStopped, JourneyPaused, false},
		// Stop, for good.
		{JourneyDraft, JourneyStopped, true},
		{JourneyLive, JourneyStopped, true},
		{JourneyPaused, JourneyStopped, true},
		{JourneyStopped, JourneyStopped, true},
		// Nothing goes back to draft.
		{JourneyDraft, JourneyDraft, true},
		{JourneyLive, JourneyDraft, false},
		{JourneyPaused, JourneyDraft, false},
		{JourneyStopped, JourneyDraft, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.from)+"→"+string(tt.to), func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, tt.from.CanMoveTo(tt.to))
		})
	}
}
