package ui

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/jobs/journey"
	"github.com/heraldhq/herald/models"
)

// JourneyStepAdd inserts a new step after another and opens its form. The
// step starts with settings that pass Check, so the journey stays savable:
// a webhook step starts on the first active webhook.
func (s *Handlers) JourneyStepAdd(c *gin.Context) {
	j, def, err := s.loadJourneyDef(c)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	typ := c.PostForm("type")
	n := journey.Node{ID: newStepID(def, typ), Type: typ}
	switch typ {
	case journey.TypeAction:
		n.Channel, n.MessageName = "email", "New message"
	case journey.TypeWait:
		n.Event, n.Within = "open", "1h"
	case journey.TypeWebhook:
		n.EventParams, n.AttParams = []string{"timestamp", "ts", "email"}, []string{"EMAIL"}
		hooks, err := s.store.ListWebhooks(c.Request.Context(), j.PanelID)
		if err != nil {
			s.FailPage(c, err)
			return
		}
		for _, w := range hooks {
			if w.Status == models.StatusActive {
				n.WebhookID = w.ID
				break
			}
		}
		if n.WebhookID == 0 {
			s.builderAfterPost(c, http.StatusConflict, j, def, "", formErrors{
				"": "A webhook step needs an active webhook: create one under Webhooks, test it and save it first."}, nil)
			return
		}
	case journey.TypeStop:
	default:
		s.builderAfterPost(c, http.StatusBadRequest, j, def, "", formErrors{"": "Pick the kind of step to add."}, nil)
		return
	}
	if err := insertStep(def, c.PostForm("after"), c.PostForm("exit"), n); err != nil {
		s.builderAfterPost(c, http.StatusBadRequest, j, def, "", formErrors{"": sentence(err.Error()) + "."}, nil)
		return
	}
	s.saveJourney(c, j, def, n.ID, formErrors{}, nil)
}
