package ui

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
)

// WebhookSigningSecret generates (or rotates) a webhook's signing secret
// and shows it once, on the webhook's page the post redirects to: sealed
// in the server-side stash, so it is in no URL or cookie, and a reload
// neither shows it again nor rotates it again. remove=1 removes it.
func (s *Handlers) WebhookSigningSecret(c *gin.Context) {
	w, err := s.loadWebhook(c)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	secret := ""
	if c.PostForm("remove") == "" {
		secret = models.NewSigningSecret()
	}
	w, err = s.store.UpdateWebhook(c.Request.Context(), w.PanelID, w.ID, &models.WebhookInput{SigningSecret: &secret})
	if err != nil {
		s.FailPage(c, httpx.WebhookErr(err))
		return
	}
	if secret == "" {
		s.setFlash(c, "ok", "Signing secret removed: requests go out unsigned.")
		c.Redirect(http.StatusSeeOther, "/webhooks/"+strconv.FormatInt(w.ID, 10))
		return
	}
	s.setFlash(c, "ok", "New signing secret made: copy it now.")
	s.redirectWith(c, webhookStashPage(w.ID), http.StatusOK, webhookStash{SecretOnce: secret},
		"/webhooks/"+strconv.FormatInt(w.ID, 10)+"#signing-secret")
}
