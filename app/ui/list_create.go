package ui

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
)

// ListNew makes a list from its name and opens it, to add members.
func (s *Handlers) ListNew(c *gin.Context) {
	form := audienceForm{Name: strings.TrimSpace(c.PostForm("name")), Errors: formErrors{}}
	l, err := s.store.CreateList(c.Request.Context(), httpx.PanelOf(c).ID, form.Name)
	if err != nil {
		s.audienceRefused(c, err, &form, audiencesStash{NewList: &form}, "new-list")
		return
	}
	s.setFlash(c, "ok", "List “"+l.Name+"” created. Add members one by one or import a CSV file.")
	c.Redirect(http.StatusSeeOther, "/lists/"+strconv.FormatInt(l.ID, 10))
}

// audienceRefused sends a refused list or segment form back to the page,
// with its messages at the fields.
func (s *Handlers) audienceRefused(c *gin.Context, err error, form *audienceForm, st audiencesStash, anchor string) {
	errs, ok := formError(err)
	if !ok {
		s.FailPage(c, err)
		return
	}
	form.Errors = errs
	status, _ := s.classify(c, err)
	s.redirectWith(c, "audiences", status, st, "/lists#"+anchor)
}
