package app

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/models"
)

// panelUserAdd gives a person access to this panel: an existing user is
// added as they are (their password is theirs, not the panel's to set);
// a new one is created with the password typed here.
func (s *Server) panelUserAdd(c *gin.Context) {
	ctx := c.Request.Context()
	email, password := c.PostForm("email"), c.PostForm("password")
	u, err := s.store.UserByEmail(ctx, email)
	created := false
	if errors.Is(err, models.ErrNotFound) {
		if password == "" {
			err = &models.ValidationError{Field: "password", Message: "is required for a new user"}
		} else {
			u, err = s.store.CreateUser(ctx, email, password)
			created = true
		}
	}
	if err == nil {
		err = s.store.AddUserToPanel(ctx, u.ID, panelOf(c).ID)
	}
	if err != nil {
		errs, ok := formError(err)
		if !ok {
			s.failPage(c, err)
			return
		}
		status, _ := s.classify(c, err)
		s.renderSettings(c, status, &settingsPage{UserEmail: email, UserErrors: errs})
		return
	}
	msg := u.Email + " can now sign in to this panel with their own password."
	if created {
		msg = "Created " + u.Email + ": tell them their password through a channel you trust."
	}
	s.setFlash(c, "ok", msg)
	c.Redirect(http.StatusSeeOther, "/settings#users")
}
