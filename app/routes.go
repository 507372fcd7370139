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
	api.GET("/webhooks", s.webhookList)
	api.POST("/webhooks", s.webhookCreate)
	api.POST("/webhooks/test", s.webhookTestUnsaved)
	api.GET("/webhooks/:id", s.webhookGet)
	api.PATCH("/webhooks/:id", s.webhookUpdate)
	api.DELETE("/webhooks/:id", s.webhookDelete)
	api.POST("/webhooks/:id/test", s.webhookTestSaved)
	api.POST("/webhooks/:id/activate", s.webhookActivate)
	api.POST("/webhooks/:id/deactivate", s.webhookDeactivate)
	api.POST("/webhooks/:id/signing-secret", s.webhookRotateSigningSecret)
	api.POST("/webhooks/:id/deliveries", s.deliveryCreate)
	api.GET("/webhooks/:id/deliveries", s.deliveryList)
	api.GET("/webhooks/:id/attempts", s.attemptList)
	api.POST("/webhooks/:id/replay", s.deliveryReplay)

	api.GET("/ingest-keys", s.ingestKeyList)
	api.POST("/ingest-keys", s.ingestKeyCreate)
	api.DELETE("/ingest-keys/:id", s.ingestKeyRevoke)

	api.GET("/journeys", s.journeyList)
	api.POST("/journeys", s.journeyCreate)
	api.GET("/journeys/:id", s.journeyGet)
	api.PUT("/journeys/:id", s.journeyUpdate)
	api.POST("/journeys/:id/publish", s.journeyPublish)
	api.POST("/journeys/:id/pause", s.journeyPause)
	api.POST("/journeys/:id/stop", s.journeyStop)
	api.GET("/journeys/:id/runs", s.journeyRuns)

	api.POST("/contacts", s.contactUpsert)
	api.GET("/contacts", s.contactFind)
	api.GET("/contacts/:id", s.contactGet)
	api.GET("/lists", s.listList)
	api.POST("/lists", s.listCreate)
	api.POST("/lists/:id/members", s.listAddMembers)
	api.GET("/segments", s.segmentList)
	api.POST("/segments", s.segmentCreate)

	api.GET("/alert-recipients", s.alertRecipientList)
	api.POST("/alert-recipients", s.alertRecipientAdd)
	api.DELETE("/alert-recipients/:id", s.alertRecipientRemove)
	api.GET("/alerts", s.alertList)
	api.GET("/settings", s.settingsGet)
	api.PATCH("/settings", s.settingsUpdate)

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
