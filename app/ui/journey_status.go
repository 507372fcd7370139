package ui

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/jobs/journey"
	"github.com/heraldhq/herald/models"
)

// JourneyPublishForm puts a journey live. When its graph cannot go live,
// the builder shows why next to each step.
func (s *Handlers) JourneyPublishForm(c *gin.Context) {
	j, def, err := s.loadJourneyDef(c)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	if _, err = s.engine.Publish(c.Request.Context(), j.PanelID, j.ID); err != nil {
		var ce *models.ConflictError
		switch {
		case len(journey.ProblemsOf(err)) > 0:
			status, _ := s.classify(c, err)
			s.builderAfterPost(c, status, j, def, "", formErrors{"": "The journey cannot be published yet: fix the problems marked below."}, journey.ProblemsOf(err))
		case errors.As(err, &ce):
			s.setFlash(c, "error", sentence(ce.Message)+".")
			c.Redirect(http.StatusSeeOther, builderURL(j.ID, ""))
		default:
			s.FailPage(c, err)
		}
		return
	}
	s.setFlash(c, "ok", "Published. “"+j.Name+"” is live and takes new entries.")
	c.Redirect(http.StatusSeeOther, builderURL(j.ID, ""))
}

// JourneyPauseForm holds a live journey's runs where they are.
func (s *Handlers) JourneyPauseForm(c *gin.Context) {
	s.journeyMoveForm(c, models.JourneyPaused, "Paused: no new entries, and runs wait where they are until you publish again.")
}

// JourneyStopForm ends a journey and its runs for good.
func (s *Handlers) JourneyStopForm(c *gin.Context) {
	s.journeyMoveForm(c, models.JourneyStopped, "Stopped: the journey and all its runs have ended.")
}

func (s *Handlers) journeyMoveForm(c *gin.Context, to models.JourneyStatus, done string) {
	id, err := httpx.IDParam(c, "journey")
	if err != nil {
		s.FailPage(c, err)
		return
	}
	_, err = s.store.SetJourneyStatus(c.Request.Context(), httpx.PanelOf(c).ID, id, to, nil)
	s.journeyChanged(c, id, err, done)
}

// journeyChanged ends a post that changed journey id (or could not) back
// in the builder: done, or why the change was refused, in the flash. An
// error that is no refusal (the journey not found) is an error page.
func (s *Handlers) journeyChanged(c *gin.Context, id int64, err error, done string) {
	var ce *models.ConflictError
	switch {
	case errors.As(err, &ce):
		s.setFlash(c, "error", sentence(ce.Message)+".")
	case err != nil:
		s.FailPage(c, httpx.NotFoundAs(err, "journey not found"))
		return
	default:
		s.setFlash(c, "ok", done)
	}
	c.Redirect(http.StatusSeeOther, builderURL(id, ""))
}
