package app

import (
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/app/ingest"
	"github.com/heraldhq/herald/app/ui"
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
	api.POST("/webhooks", s.oneRenderAtATime, s.admin.WebhookCreate)
	api.POST("/webhooks/test", s.oneRenderAtATime, s.admin.WebhookTestUnsaved)
	api.POST("/webhooks/preview", s.oneRenderAtATime, s.admin.WebhookPreview)
	api.GET("/webhooks/:id", s.admin.WebhookGet)
	api.PATCH("/webhooks/:id", s.oneRenderAtATime, s.admin.WebhookUpdate)
	api.DELETE("/webhooks/:id", s.admin.WebhookDelete)
	api.POST("/webhooks/:id/test", s.oneRenderAtATime, s.admin.WebhookTestSaved)
	api.POST("/webhooks/:id/activate", s.admin.WebhookActivate)
	api.POST("/webhooks/:id/deactivate", s.admin.WebhookDeactivate)
	api.POST("/webhooks/:id/signing-secret", s.oneRenderAtATime, s.admin.WebhookRotateSigningSecret)
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
	api.GET("/journeys/:id/stats", s.admin.JourneyStats)
	api.POST("/journeys/:id/clone", s.admin.JourneyClone)
	api.POST("/journeys/:id/archive", s.admin.JourneyArchive)
	api.POST("/journeys/:id/unarchive", s.admin.JourneyUnarchive)
	api.DELETE("/journeys/:id", s.admin.JourneyDelete)

	api.POST("/contacts", s.admin.ContactUpsert)
	api.GET("/contacts", s.admin.ContactFind)
	api.GET("/contacts/:id", s.admin.ContactGet)
	api.PUT("/contacts/:id/data/:table", s.admin.ContactDataPut)
	api.GET("/contacts/:id/data/:table", s.admin.ContactDataGet)
	api.DELETE("/contacts/:id/data/:table", s.admin.ContactDataDelete)
	api.GET("/lists", s.admin.ListList)
	api.POST("/lists", s.admin.ListCreate)
	api.POST("/lists/:id/members", s.admin.ListAddMembers)
	api.GET("/lists/:id/members", s.admin.ListMembers)
	api.DELETE("/lists/:id/members/:contact", s.admin.ListRemoveMember)
	api.GET("/segments", s.admin.SegmentList)
	api.POST("/segments", s.admin.SegmentCreate)
	api.GET("/segments/:id/members", s.admin.SegmentMembersList)

	api.GET("/alert-recipients", s.admin.AlertRecipientList)
	api.POST("/alert-recipients", s.admin.AlertRecipientAdd)
	api.DELETE("/alert-recipients/:id", s.admin.AlertRecipientRemove)
	api.POST("/alert-recipients/:id/confirmation", s.admin.AlertRecipientConfirmation)
	api.GET("/alerts", s.admin.AlertList)
	api.GET("/settings", s.admin.SettingsGet)
	api.PATCH("/settings", s.admin.SettingsUpdate)

	// The marketer UI: pages behind a session, every form guarded against
	// cross-origin posts (CSRF).
	r.GET("/static/*file", s.marketer.Static)
	r.HEAD("/static/*file", s.marketer.Static)
	site := r.Group("", s.marketer.RateLimit, s.marketer.CrossOrigin)
	site.GET("/login", s.marketer.LoginPage)
	site.POST("/login", s.marketer.Login)
	// An invitation link works signed in or out: it checks for itself.
	site.GET(ui.InvitationPath, s.marketer.InvitationPage)
	site.POST(ui.InvitationPath, s.marketer.InvitationAccept)
	// So does the link that asks an alert recipient's owner to agree.
	site.GET(httpx.ConsentPath, s.marketer.ConsentPage)
	site.POST(httpx.ConsentPath, s.marketer.ConsentAnswer)
	site.GET(ui.ConsentAnsweredPath, s.marketer.ConsentAnswered)
	site.GET(ui.OptOutPath, s.marketer.OptOutPage)
	site.POST(ui.OptOutPath, s.marketer.OptOut)
	page := site.Group("", s.marketer.RequireSession)
	page.GET("/", s.marketer.Home)
	page.POST("/logout", s.marketer.Logout)
	page.POST("/panel", s.marketer.PanelSwitch)

	page.GET("/webhooks", s.marketer.WebhookListPage)
	page.POST("/webhooks", s.oneRenderAtATime, s.marketer.WebhookSave)
	page.GET("/webhooks/new", s.marketer.WebhookNew)
	page.POST("/webhooks/test", s.oneRenderAtATime, s.marketer.WebhookTestForm)
	page.POST("/webhooks/preview", s.oneRenderAtATime, s.marketer.WebhookPreviewForm)
	page.GET("/webhooks/:id", s.marketer.WebhookShow)
	page.POST("/webhooks/:id", s.oneRenderAtATime, s.marketer.WebhookSave)
	page.GET("/webhooks/:id/edit", s.marketer.WebhookEdit)
	page.POST("/webhooks/:id/test", s.oneRenderAtATime, s.marketer.WebhookTestForm)
	page.POST("/webhooks/:id/preview", s.oneRenderAtATime, s.marketer.WebhookPreviewForm)
	page.POST("/webhooks/:id/enable", s.marketer.WebhookEnable)
	page.POST("/webhooks/:id/disable", s.marketer.WebhookDisable)
	page.POST("/webhooks/:id/recover", s.oneRenderAtATime, s.marketer.WebhookRecover)
	page.POST("/webhooks/:id/delete", s.marketer.WebhookRemove)
	page.POST("/webhooks/:id/signing-secret", s.oneRenderAtATime, s.marketer.WebhookSigningSecret)
	page.POST("/webhooks/:id/replay", s.marketer.DeliveryReplayForm)
	page.GET("/webhooks/:id/deliveries", s.marketer.DeliveryListPart)
	page.GET("/webhooks/:id/deliveries.csv", s.marketer.DeliveryExport)
	page.GET("/webhooks/:id/deliveries/:delivery", s.marketer.DeliveryShow)

	page.GET("/journeys", s.marketer.JourneyListPage)
	page.POST("/journeys", s.marketer.JourneyNew)
	page.GET("/journeys/:id", s.marketer.JourneyBuilder)
	page.POST("/journeys/:id", s.marketer.JourneySettingsSave)
	page.POST("/journeys/:id/steps", s.marketer.JourneyStepAdd)
	page.POST("/journeys/:id/steps/:node", s.marketer.JourneyStepSave)
	page.POST("/journeys/:id/steps/:node/delete", s.marketer.JourneyStepDelete)
	page.POST("/journeys/:id/steps/:node/preview", s.oneRenderAtATime, s.marketer.JourneyPreview)
	page.POST("/journeys/:id/steps/:node/test-send", s.oneRenderAtATime, s.marketer.JourneyTestSend)
	page.POST("/journeys/:id/publish", s.marketer.JourneyPublishForm)
	page.POST("/journeys/:id/pause", s.marketer.JourneyPauseForm)
	page.POST("/journeys/:id/stop", s.marketer.JourneyStopForm)
	page.POST("/journeys/:id/clone", s.marketer.JourneyCloneForm)
	page.POST("/journeys/:id/archive", s.marketer.JourneyArchiveForm)
	page.POST("/journeys/:id/unarchive", s.marketer.JourneyUnarchiveForm)
	page.POST("/journeys/:id/delete", s.marketer.JourneyDeleteForm)

	page.GET("/lists", s.marketer.AudiencesPage)
	page.POST("/lists", s.marketer.ListNew)
	page.GET("/lists/:id", s.marketer.ListShow)
	page.POST("/lists/:id/members", s.marketer.ListMemberAdd)
	page.POST("/lists/:id/members/:contact/remove", s.marketer.ListMemberRemove)
	page.POST("/lists/:id/import", s.marketer.ListImport)
	page.POST("/segments", s.marketer.SegmentNew)
	page.GET("/segments/:id", s.marketer.SegmentShow)

	page.GET("/contacts", s.marketer.ContactPage)
	page.GET("/journeys/:id/runs", s.marketer.JourneyRunsPage)
	page.GET("/settings", s.marketer.SettingsShow)
	page.POST("/settings/time-zone", s.marketer.TimeZoneSave)
	page.POST("/settings/ingest-keys", s.marketer.IngestKeyNew)
	page.POST("/settings/ingest-keys/:id/revoke", s.marketer.IngestKeyRevokeForm)
	page.POST("/settings/users", s.marketer.PanelUserAdd)
	page.POST("/settings/invitations/:id/revoke", s.marketer.InvitationRevokeForm)
	page.POST("/settings/leave", s.marketer.PanelLeave)
	page.POST("/settings/alert-recipients", s.marketer.AlertRecipientNew)
	page.POST("/settings/test-alert", s.marketer.AlertTestSend)
	page.POST("/settings/alert-recipients/:id/remove", s.marketer.AlertRecipientRemoveForm)
	page.POST("/settings/alert-recipients/:id/confirmation", s.marketer.AlertRecipientConfirmationForm)
}

// noRoute answers unknown paths: JSON under the APIs, a page elsewhere.
func (s *Server) noRoute(c *gin.Context) {
	err := httpx.NotFound("no such route")
	if strings.HasPrefix(c.Request.URL.Path, "/api/") || strings.HasPrefix(c.Request.URL.Path, "/v1/") {
		s.fail(c, err)
		return
	}
	s.marketer.FailPage(c, httpx.NotFound("There is no such page."))
}
