package ui

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/jobs/delivery"
	"github.com/heraldhq/herald/jobs/journey"
	"github.com/heraldhq/herald/models"
)

// testSendsPerMinute bounds a panel's step test-sends: each one is a real
// request to someone's endpoint with a real contact's data.
const testSendsPerMinute = 10

// JourneyTestSend sends a webhook step once for one contact (named by
// e-mail, phone or external id), with the contact's real data and marked
// as a test, and shows the endpoint's answer under the step's form. No run
// moves and no stat counts it (journey.Engine.PrepareTestSend,
// delivery.Service.SendStepTest).
func (s *Handlers) JourneyTestSend(c *gin.Context) {
	j, err := httpx.LoadJourney(c, s.store)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	panel := httpx.PanelOf(c)
	node := c.Param("node")
	who := strings.TrimSpace(c.PostForm("contact"))
	st := builderStash{Selected: node, Errors: formErrors{}, TestContact: who}
	status := http.StatusOK
	var contact *models.Contact
	switch {
	case who == "":
		st.Errors["contact"], status = "Name the contact by e-mail, phone or external id.", http.StatusBadRequest
	case !s.allow(c, "journey-test-send:"+strconv.FormatInt(panel.ID, 10), testSendsPerMinute, time.Minute):
		st.Errors["contact"], status = "This panel sent "+strconv.Itoa(testSendsPerMinute)+
			" tests in the last minute: wait a moment and send again.", http.StatusTooManyRequests
	default:
		contact, err = s.findContact(c, panel.ID, who)
		if errors.Is(err, models.ErrNotFound) {
			st.Errors["contact"], status = "No contact of this panel has this e-mail, phone or external id.", http.StatusBadRequest
		} else if err != nil {
			s.FailPage(c, err)
			return
		}
	}
	if contact != nil {
		var res *delivery.StepTest
		var ready *journey.TestSend
		ready, err = s.engine.PrepareTestSend(c.Request.Context(), j, node, contact)
		if err == nil {
			res, err = s.webhooks(c).SendStepTest(c.Request.Context(), panel, ready)
		}
		if err != nil {
			errs, ok := formError(err)
			if !ok {
				s.FailPage(c, err)
				return
			}
			if errs["node"] != "" { // not a webhook step: it has no test-send form to show it at
				st.Errors[""] = errs["node"]
			} else {
				st.Errors["contact"] = errs[""] + errs["webhook_id"]
			}
			status, _ = s.classify(c, err)
		}
		st.TestSend = res
	}
	s.redirectWith(c, "journey:"+strconv.FormatInt(j.ID, 10), status, st, builderURL(j.ID, node)+"-test")
}
