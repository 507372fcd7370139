package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
)

// runJSON is one run of a journey.
type runJSON struct {
	ID        uuid.UUID        `json:"id"`
	ContactID int64            `json:"contact_id"`
	Status    models.RunStatus `json:"status"`
	Node      string           `json:"node"`
	WaitEvent string           `json:"wait_event,omitempty"`
	WaitUntil *time.Time       `json:"wait_until,omitempty"`
	// AwaitsDelivery is the delivery a run waiting at a webhook node waits for.
	AwaitsDelivery string `json:"awaits_delivery,omitempty"`
	// AwaitsDeliveryStatus is that delivery's status: pending on its
	// way (in flight too, since issue 15), held while its webhook is out of service (the run waits
	// until the webhook is back, with no time limit).
	AwaitsDeliveryStatus models.DeliveryStatus `json:"awaits_delivery_status,omitempty"`
	State                json.RawMessage       `json:"state"`
	EndReason            string                `json:"end_reason,omitempty"`
	StartedAt            time.Time             `json:"started_at"`
	EndedAt              *time.Time            `json:"ended_at"`
}

// JourneyRuns lists a journey's runs, newest first (?status=, ?node=, ?limit=):
// where each is, and the messages it recorded (state.sent, with msgids).
func (s *Handlers) JourneyRuns(c *gin.Context) {
	j, err := s.loadJourney(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	limit, err := limitParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	status := models.RunStatus(c.Query("status"))
	switch status {
	case "", models.RunWaiting, models.RunCompleted, models.RunStopped, models.RunEnded:
	default:
		s.fail(c, httpx.BadRequest("status", "must be waiting, completed, stopped or ended"))
		return
	}
	runs, err := s.store.ListRuns(c.Request.Context(), j.PanelID, j.ID, c.Query("node"), status, limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]runJSON, len(runs))
	for i, r := range runs {
		out[i] = runJSON{ID: r.ID, ContactID: r.ContactID, Status: r.Status, Node: r.Node, WaitEvent: r.WaitEvent,
			WaitUntil: r.WaitUntil, State: r.State, EndReason: r.EndReason, StartedAt: r.StartedAt, EndedAt: r.EndedAt}
		if r.AwaitsDelivery != nil {
			out[i].AwaitsDelivery, out[i].AwaitsDeliveryStatus = models.DeliveryID(*r.AwaitsDelivery), r.AwaitedStatus
		}
	}
	c.JSON(http.StatusOK, gin.H{"runs": out})
}
