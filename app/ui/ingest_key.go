package ui

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
)

// IngestKeyNew makes an ingest key and shows it once, on the settings
// page the post redirects to; only its hash is kept.
func (s *Handlers) IngestKeyNew(c *gin.Context) {
	label := strings.TrimSpace(c.PostForm("label"))
	if len(label) > 200 {
		s.settingsAfterPost(c, http.StatusBadRequest, &settingsPage{KeyLabel: label, KeyErrors: formErrors{"label": "Keep the label under 200 characters."}}, "ingest-keys")
		return
	}
	key, _, err := s.store.CreateToken(c.Request.Context(), httpx.PanelOf(c).ID, models.TokenIngest, label)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	s.settingsAfterPost(c, http.StatusOK, &settingsPage{NewKey: key}, "ingest-keys")
}

// IngestKeyRevokeForm revokes an ingest key at once.
func (s *Handlers) IngestKeyRevokeForm(c *gin.Context) {
	id, err := httpx.IDParam(c, "ingest key")
	if err == nil {
		err = s.store.RevokeToken(c.Request.Context(), httpx.PanelOf(c).ID, models.TokenIngest, id)
	}
	if err != nil {
		s.FailPage(c, httpx.NotFoundAs(err, "ingest key not found"))
		return
	}
	s.setFlash(c, "ok", "Key revoked: requests with it are refused from now on.")
	c.Redirect(http.StatusSeeOther, "/settings#ingest-keys")
}
