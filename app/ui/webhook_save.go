package ui

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
)

// errNotTested refuses a Save that no passing test of the configuration
// backs: the page keeps Save disabled until then, and this is the same
// rule for whoever posts the form without the page.
var errNotTested = &httpx.Error{Status: http.StatusConflict,
	Msg: "test this configuration first: Save needs a test of exactly this URL, method, authentication and headers that returned HTTP 200"}

// WebhookSave is the form's Save: POST /webhooks creates a webhook, POST
// /webhooks/:id changes one. Either needs a passing test of the
// configuration as submitted. A new webhook is activated at once, so the
// user sees it in service; a changed one stays in service when it was.
//
// The page's script posts with Accept: application/json and gets JSON
// back, so a refused Save leaves what was typed, secrets included, in the
// form. A plain form post gets pages.
func (s *Handlers) WebhookSave(c *gin.Context) {
	ctx := c.Request.Context()
	panel := httpx.PanelOf(c)
	w, err := s.formWebhook(c)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	in, spec, err := s.formSpec(c, w)
	if err == nil {
		err = spec.Validate(true)
	}
	if err == nil {
		err = s.requirePassedTest(ctx, panel.ID, w, &spec)
	}
	var saved *models.Webhook
	var secret string
	if err == nil {
		if w == nil {
			if c.PostForm("signing") != "" {
				secret = models.NewSigningSecret()
				spec.SigningSecret = secret
			}
			saved, err = s.store.CreateWebhook(ctx, panel.ID, spec)
		} else {
			saved, err = s.store.UpdateWebhook(ctx, panel.ID, w.ID, &in)
		}
	}
	if err == nil && (w == nil || w.Status == models.StatusActive) && saved.Status != models.StatusActive {
		saved, err = s.webhooks(c).Activate(c.Request.Context(), panel.ID, saved.ID)
	}
	if err != nil {
		s.webhookSaveFailed(c, w, &spec, err)
		return
	}
	target := "/webhooks/" + strconv.FormatInt(saved.ID, 10)
	switch {
	case WantsJSON(c):
		s.setFlash(c, "ok", savedMessage(w, saved))
		c.JSON(http.StatusOK, gin.H{"redirect": target, "signing_secret": secret})
	case secret != "":
		s.setFlash(c, "ok", savedMessage(w, saved))
		s.redirectWith(c, webhookStashPage(saved.ID), http.StatusOK, webhookStash{SecretOnce: secret}, target+"#signing-secret")
	default:
		s.setFlash(c, "ok", savedMessage(w, saved))
		c.Redirect(http.StatusSeeOther, target)
	}
}

func (s *Handlers) requirePassedTest(ctx context.Context, panelID int64, w *models.Webhook, spec *models.WebhookSpec) error {
	var id int64
	if w != nil {
		id = w.ID
	}
	ok, err := s.store.TestPassed(ctx, panelID, id, spec)
	if err == nil && !ok {
		err = errNotTested
	}
	return err
}

// savedMessage tells the user where the webhook stands after a Save.
func savedMessage(before, after *models.Webhook) string {
	switch {
	case after.Status == models.StatusActive:
		return "Saved. “" + after.Label + "” is active."
	case before != nil && before.Status != models.StatusUntested && after.Status == models.StatusUntested:
		return "Saved. Its connection changed, so it is out of service until you enable it; the test you ran counts for an hour."
	}
	return "Saved."
}

// webhookSaveFailed reports a refused Save: as JSON to the page's script,
// or by redirecting to the form, shown again with what was typed (secrets
// aside) and the messages next to the fields.
func (s *Handlers) webhookSaveFailed(c *gin.Context, w *models.Webhook, spec *models.WebhookSpec, err error) {
	if WantsJSON(c) {
		s.fail(c, err)
		return
	}
	errs, ok := formError(err)
	if !ok {
		s.FailPage(c, err)
		return
	}
	f := newWebhookForm(0, "", spec, false)
	if w != nil {
		f.ID, f.Status = w.ID, w.Status
	} else {
		// Nothing typed is kept, so nothing is "set" yet.
		f.PasswordSet = false
		for i := range f.Headers {
			f.Headers[i].ValueSet = false
		}
	}
	if spec.BasicAuth != nil || len(f.Headers) > 0 {
		errs["secrets"] = "Passwords and header values are never sent back to the page: type new ones again, or leave them blank to keep the saved ones."
	}
	if typed, ok := c.GetPostForm("batch_wait"); ok {
		f.BatchWait = typed // shown as typed, refused or not
	}
	f.Errors = errs
	status, _ := s.classify(c, err)
	target := "/webhooks/new"
	if w != nil {
		target = "/webhooks/" + strconv.FormatInt(w.ID, 10) + "/edit"
	}
	s.redirectWith(c, "webhook_form:"+target, status, f, target)
}

// WantsJSON tells the page's script, which asks for JSON, from a plain form post.
func WantsJSON(c *gin.Context) bool {
	return strings.Contains(c.GetHeader("Accept"), "application/json")
}
