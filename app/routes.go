package app

import (
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/app/ingest"
)

// routes is the one table of every route Herald serves.
func (s *Server) routes(r *gin.Engine) {
	r.Use(s.requestLog, s.recoverJSON, s.limitBody, s.checkRequestText)
	r.NoRoute(s.noRoute)
	r.NoMethod(func(c *gin.Context) { s.fail(c, &httpx.Error{Status: 405, Msg: "method not allowed"}) })

	r.GET("/healthz", s.healthz)
	if s.gatherer != nil {
		r.GET("/metrics", s.metricsHandler)
	}
	r.POST(ingest.Path, s.ingestAPI.Serve)

	api := r.Group("/api/v1", s.adminAuth, s.adminRateLimit)
	api.GET("/webhooks", s.admin.WebhookList)
	api.POST("/webhooks", s.admin.WebhookCreate)
	api.POST("/webhooks/test", s.admin.WebhookTestUnsaved)
	api.GET("/webhooks/:id", s.admin.WebhookGet)
	api.PATCH("/webhooks/:id", s.admin.WebhookUpdate)
	api.DELETE("/webhooks/:id", s.admin.WebhookDelete)
	api.POST("/webhooks/:id/test", s.admin.WebhookTestSaved)
	api.POST("/webhooks/:id/activate", s.admin.WebhookActivate)
	api.POST("/webhooks/:id/deactivate", s.admin.WebhookDeactivate)
	api.POST("/webhooks/:id/signing-secret", s.admin.WebhookRotateSigningSecret)
	api.POST("/webhooks/:id/deliveries", s.admin.DeliveryCreate)
	api.GET("/webhooks/:id/deliveries", s.admin.DeliveryList)
	api.GET("/webhooks/:id/attempts", s.admin.AttemptList)
	api.POST("/webhooks/:id/replay", s.admin.DeliveryReplay)

	api.GET("/ingest-keys", s.admin.IngestKeyList)
	api.POST("/ingest-keys", s.admin.IngestKeyCreate)
	api.DELETE("/ingest-keys/:id", s.admin.IngestKeyRevoke)

	api.GET("/journeys", s.admin.JourneyList)
	api.POST("/journeys", s.admin.JourneyCreate)
	api.GET("/journeys/:id", s.admin.JourneyGet)
	api.PUT("/journeys/:id", s.admin.JourneyUpdate)
	api.POST("/journeys/:id/publish", s.admin.JourneyPublish)
	api.POST("/journeys/:id/pause", s.admin.JourneyPause)
	api.POST("/journeys/:id/stop", s.admin.JourneyStop)
	api.GET("/journeys/:id/runs", s.admin.JourneyRuns)

	api.POST("/contacts", s.admin.ContactUpsert)
	api.GET("/contacts", s.admin.ContactFind)
	api.GET("/contacts/:id", s.admin.ContactGet)
	api.GET("/lists", s.admin.ListList)
	api.POST("/lists", s.admin.ListCreate)
	api.POST("/lists/:id/members", s.admin.ListAddMembers)
	api.GET("/segments", s.admin.SegmentList)
	api.POST("/segments", s.admin.SegmentCreate)

	api.GET("/alert-recipients", s.admin.AlertRecipientList)
	api.POST("/alert-recipients", s.admin.AlertRecipientAdd)
	api.DELETE("/alert-recipients/:id", s.admin.AlertRecipientRemove)
	api.GET("/alerts", s.admin.AlertList)
	api.GET("/settings", s.admin.SettingsGet)
	api.PATCH("/settings", s.admin.SettingsUpdate)

	// The marketer UI: pages behind a session, every form guarded against
	// cross-origin posts (CSRF).
	r.GET("/static/*file", s.static)
	r.HEAD("/static/*file", s.static)
	ui := r.Group("", s.uiRateLimit, s.crossOrigin)
	ui.GET("/login", s.loginPage)
	ui.POST("/login", s.login)
	// An invitation link works signed in or out: it checks for itself.
	ui.GET(invitationPath, s.invitationPage)
	ui.POST(invitationPath, s.invitationAccept)
	page := ui.Group("", s.requireSession)
	page.GET("/", s.home)
	page.POST("/logout", s.logout)
	page.POST("/panel", s.panelSwitch)

	page.GET("/webhooks", s.webhookListPage)
	page.POST("/webhooks", s.webhookSave)
	page.GET("/webhooks/new", s.webhookNew)
	page.POST("/webhooks/test", s.webhookTestForm)
	page.GET("/webhooks/:id", s.webhookShow)
	page.POST("/webhooks/:id", s.webhookSave)
	page.GET("/webhooks/:id/edit", s.webhookEdit)
	page.POST("/webhooks/:id/test", s.webhookTestForm)
	page.POST("/webhooks/:id/enable", s.webhookEnable)
	page.POST("/webhooks/:id/disable", s.webhookDisable)
	page.POST("/webhooks/:id/delete", s.webhookRemove)
	page.POST("/webhooks/:id/signing-secret", s.webhookSigningSecret)
	page.POST("/webhooks/:id/replay", s.deliveryReplayForm)

	page.GET("/journeys", s.journeyListPage)
	page.POST("/journeys", s.journeyNew)
	page.GET("/journeys/:id", s.journeyBuilder)
	page.POST("/journeys/:id", s.journeySettingsSave)
	page.POST("/journeys/:id/steps", s.journeyStepAdd)
	page.POST("/journeys/:id/steps/:node", s.journeyStepSave)
	page.POST("/journeys/:id/steps/:node/delete", s.journeyStepDelete)
	page.POST("/journeys/:id/steps/:node/preview", s.journeyPreview)
	page.POST("/journeys/:id/publish", s.journeyPublishForm)
	page.POST("/journeys/:id/pause", s.journeyPauseForm)
	page.POST("/journeys/:id/stop", s.journeyStopForm)

	page.GET("/settings", s.settingsShow)
	page.POST("/settings/ingest-keys", s.ingestKeyNew)
	page.POST("/settings/ingest-keys/:id/revoke", s.ingestKeyRevokeForm)
	page.POST("/settings/users", s.panelUserAdd)
	page.POST("/settings/invitations/:id/revoke", s.invitationRevokeForm)
	page.POST("/settings/leave", s.panelLeave)
	page.POST("/settings/alert-recipients", s.alertRecipientNew)
	page.POST("/settings/alert-recipients/:id/remove", s.alertRecipientRemoveForm)
}

// noRoute answers unknown paths: JSON under the APIs, a page elsewhere.
func (s *Server) noRoute(c *gin.Context) {
	err := httpx.NotFound("no such route")
	if strings.HasPrefix(c.Request.URL.Path, "/api/") || strings.HasPrefix(c.Request.URL.Path, "/v1/") {
		s.fail(c, err)
		return
	}
	s.failPage(c, httpx.NotFound("There is no such page."))
}
