package ui

import (
	"cmp"
	"fmt"
	"time"

	"github.com/heraldhq/herald/jobs/health"
	"github.com/heraldhq/herald/models"
)

// webhookState is where a webhook stands, as the list and its page show it.
type webhookState struct {
	// Name is the word shown: untested, active, failing, paused, inactive
	// or disabled.
	Name string
	// Tone colours the badge: ok, warn, bad or muted.
	Tone string
	// Hint says what the state means, for the badge's title.
	Hint string
}

// stateOf maps a webhook to the state the UI shows at now: its status,
// and for an active one the failure tracker's view of it. Trouble shows
// as soon as the tracker sees any: the last request failed (whatever its
// code, 4xx included), or the failure rate of the window is over the
// threshold, even before the window has the attempts that degrade it.
// Paused and disabled are red: nothing, or only a probe, goes out.
func stateOf(w *models.Webhook, now time.Time) webhookState {
	switch w.Status {
	case models.StatusActive:
		h := health.Parse(w.Health)
		th := health.ThresholdsFor(w.HealthSettings, nil)
		attempts, failures := h.Window(th.Window.D(), now)
		switch {
		case h.State == health.Paused:
			return webhookState{"paused", "bad", "Failing: only a probe goes out, with backoff, until the endpoint answers again; the rest wait."}
		case h.State == health.Degraded:
			return webhookState{"failing", "warn", fmt.Sprintf("In service, but %d of its %d requests in the last %s failed.", failures, attempts, th.Window.D())}
		case h.ConsecutiveFailures == 1:
			return webhookState{"failing", "warn", "In service, but its last request failed (" + h.LastError + "); failed deliveries are retried."}
		case h.ConsecutiveFailures > 1:
			return webhookState{"failing", "warn", fmt.Sprintf("In service, but its last %d requests failed (the last: %s); failed deliveries are retried.",
				h.ConsecutiveFailures, h.LastError)}
		case attempts > 0 && float64(failures) > th.DegradedRate*float64(attempts):
			return webhookState{"failing", "warn", fmt.Sprintf("In service, but %d of its %d requests in the last %s failed.", failures, attempts, th.Window.D())}
		}
		return webhookState{"active", "ok", "Verified and in service."}
	case models.StatusInactive:
		return webhookState{"inactive", "muted", "Switched off by a person; its deliveries are held until it is enabled."}
	case models.StatusDisabled:
		return webhookState{"disabled", "bad", "Switched off after repeated failures; its deliveries are held. Test it, then enable it."}
	case models.StatusUntested:
		return webhookState{"untested", "warn", "No test of its current settings returned HTTP 200 yet; it sends nothing."}
	}
	return webhookState{string(w.Status), "muted", ""}
}

// Badge colours of attempts' outcomes, deliveries' statuses and journeys'
// statuses; anything else is "muted".
var (
	outcomeTones  = map[string]string{models.OutcomeDelivered: "ok", models.OutcomeRetry: "warn", models.OutcomeFailed: "bad"}
	deliveryTones = map[models.DeliveryStatus]string{models.DeliveryDelivered: "ok", models.DeliveryFailed: "bad", models.DeliveryHeld: "warn"}
	journeyTones  = map[models.JourneyStatus]string{models.JourneyLive: "ok", models.JourneyPaused: "warn"}
	// A run that ended could not go on (its step was deleted, or the
	// database refused its next step): a failure, where a stopped run was
	// stopped by a person.
	runTones = map[models.RunStatus]string{models.RunCompleted: "ok", models.RunEnded: "bad"}
)

func outcomeTone(o string) string                  { return toneOr(outcomeTones[o]) }
func deliveryTone(st models.DeliveryStatus) string { return toneOr(deliveryTones[st]) }
func journeyTone(st models.JourneyStatus) string   { return toneOr(journeyTones[st]) }
func runTone(st models.RunStatus) string           { return toneOr(runTones[st]) }

func toneOr(tone string) string { return cmp.Or(tone, "muted") }
