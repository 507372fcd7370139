package app

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/heraldhq/herald/jobs/journey"
	"github.com/heraldhq/herald/models"
)

// journeyPublish puts a draft or paused journey live, after checking its
// graph: every node reachable, no loop without a wait, every webhook node
// on an active asset of this panel, its list or segment existing. 422 with
// the reasons otherwise. A paused journey resumes: runs whose wait ran out
// or whose event came meanwhile move on.
func (s *Server) journeyPublish(c *gin.Context) {
	id, err := idParam(c, "journey")
	if err != nil {
		s.fail(c, err)
		return
	}
	j, err := s.publish(c, panelOf(c).ID, id)
	if err != nil {
		s.fail(c, notFoundAs(err, "journey not found"))
		return
	}
	s.respondJourney(c, http.StatusOK, j)
}

// publish puts a journey live once its graph passes CheckPublish (422 with
// the problems otherwise), for the API and the builder alike.
func (s *Server) publish(c *gin.Context, panelID, id int64) (*models.Journey, error) {
	ctx := c.Request.Context()
	j, err := s.store.SetJourneyStatus(ctx, panelID, id, models.JourneyLive, func(tx *gorm.DB, j *models.Journey) error {
		var def journey.Definition
		if err := json.Unmarshal(j.Definition, &def); err != nil {
			return err
		}
		ps, err := s.publishProblems(c, panelID, &def)
		if err != nil {
			return err
		}
		if len(ps) > 0 {
			return problemsError(http.StatusUnprocessableEntity, "the journey cannot be published", ps)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.engine.SweepRuns(ctx, 0); err != nil {
		s.log.WarnContext(ctx, "resumed journey's due runs are left to the sweep", "journey_id", j.ID, "error", err)
	}
	return j, nil
}

func (s *Server) publishProblems(c *gin.Context, panelID int64, def *journey.Definition) ([]journey.Problem, error) {
	ctx := c.Request.Context()
	var hookIDs []int64
	for _, n := range def.Nodes {
		if n.Type == journey.TypeWebhook {
			hookIDs = append(hookIDs, n.WebhookID)
		}
	}
	infos, err := s.store.Assets(ctx, s.store.Querier(), panelID, hookIDs)
	if err != nil {
		return nil, err
	}
	assets := map[int64]journey.Asset{}
	for id, a := range infos {
		assets[id] = journey.Asset{Label: a.Label, Active: a.Status == models.StatusActive}
	}
	ps := def.CheckPublish(assets)
	if t := def.Trigger(); t != nil {
		for _, ref := range []struct {
			table, field string
			id           int64
		}{{"lists", "list", t.List}, {"segments", "segment", t.Segment}} {
			if ref.id == 0 {
				continue
			}
			owned, err := s.store.PanelOwns(ctx, panelID, ref.table, []int64{ref.id})
			if err != nil {
				return nil, err
			}
			if !owned[ref.id] {
				ps = append(ps, journey.Problem{Node: t.ID, Field: ref.field, Message: fmt.Sprintf("%s %d does not exist", ref.field, ref.id)})
			}
		}
	}
	return ps, nil
}

// journeyPause stops new entries and holds the runs where they are.
func (s *Server) journeyPause(c *gin.Context) { s.journeyMove(c, models.JourneyPaused) }

// journeyStop ends the journey and all its runs, for good.
func (s *Server) journeyStop(c *gin.Context) { s.journeyMove(c, models.JourneyStopped) }

func (s *Server) journeyMove(c *gin.Context, to models.JourneyStatus) {
	id, err := idParam(c, "journey")
	if err != nil {
		s.fail(c, err)
		return
	}
	j, err := s.store.SetJourneyStatus(c.Request.Context(), panelOf(c).ID, id, to, nil)
	if err != nil {
		s.fail(c, notFoundAs(err, "journey not found"))
		return
	}
	s.respondJourney(c, http.StatusOK, j)
}
