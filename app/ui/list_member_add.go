package ui

import (
	"cmp"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/jobs/journey"
)

// ListMemberAdd adds one contact, named by e-mail, phone or external id
// (made when new), to a list; the list-triggered journeys start for it as
// for the API's members.
func (s *Handlers) ListMemberAdd(c *gin.Context) {
	l, err := httpx.LoadList(c, s.store)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	form := memberForm{ExternalID: strings.TrimSpace(c.PostForm("external_id")), Email: strings.TrimSpace(c.PostForm("email")),
		Phone: strings.TrimSpace(c.PostForm("phone")), Errors: formErrors{}}
	target := "/lists/" + strconv.FormatInt(l.ID, 10)
	m, err := journey.MemberInput{ExternalID: form.ExternalID, Email: form.Email, Phone: form.Phone}.Member("")
	var added int
	if err == nil {
		added, err = s.engine.AddToList(c.Request.Context(), httpx.PanelOf(c), l.ID, []journey.Member{m})
	}
	if err != nil {
		errs, ok := formError(err)
		if !ok {
			s.FailPage(c, err)
			return
		}
		if errs[""] != "" { // "name the contact by …" names no field: shown at the first one
			errs["email"], errs[""] = errs[""], ""
		}
		form.Errors = errs
		status, _ := s.classify(c, err)
		s.redirectWith(c, listStashPage(l.ID), status, listStash{Add: &form}, target+"#add-member")
		return
	}
	who := cmp.Or(m.User.Email, m.User.Phone, m.User.ExternalID)
	if added == 0 {
		s.setFlash(c, "ok", fmt.Sprintf("%s was already on the list.", who))
	} else {
		s.setFlash(c, "ok", fmt.Sprintf("%s added.", who))
	}
	c.Redirect(http.StatusSeeOther, target)
}
