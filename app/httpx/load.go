package httpx

import (
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/models"
)

// LoadWebhook loads the webhook named by the request's :id parameter, in
// the request's panel only: another panel's webhook is "webhook not
// found", never "forbidden". For the admin API and the UI alike.
func LoadWebhook(c *gin.Context, store *models.Store) (*models.Webhook, error) {
	id, err := IDParam(c, "webhook")
	if err != nil {
		return nil, err
	}
	w, err := store.Webhook(c.Request.Context(), PanelOf(c).ID, id)
	return w, WebhookErr(err)
}

// WebhookErr words models.ErrNotFound as "webhook not found".
func WebhookErr(err error) error { return NotFoundAs(err, "webhook not found") }

// LoadJourney loads the journey named by the request's :id parameter, in
// the request's panel only, as LoadWebhook does.
func LoadJourney(c *gin.Context, store *models.Store) (*models.Journey, error) {
	id, err := IDParam(c, "journey")
	if err != nil {
		return nil, err
	}
	j, err := store.Journey(c.Request.Context(), PanelOf(c).ID, id)
	return j, NotFoundAs(err, "journey not found")
}

// LoadList loads the list named by the request's :id parameter, in the
// request's panel only, as LoadWebhook does.
func LoadList(c *gin.Context, store *models.Store) (*models.List, error) {
	id, err := IDParam(c, "list")
	if err != nil {
		return nil, err
	}
	l, err := store.ListByID(c.Request.Context(), PanelOf(c).ID, id)
	return l, NotFoundAs(err, "list not found")
}

// LoadSegment loads the segment named by the request's :id parameter, in
// the request's panel only, as LoadWebhook does.
func LoadSegment(c *gin.Context, store *models.Store) (*models.Segment, error) {
	id, err := IDParam(c, "segment")
	if err != nil {
		return nil, err
	}
	seg, err := store.SegmentByID(c.Request.Context(), PanelOf(c).ID, id)
	return seg, NotFoundAs(err, "segment not found")
}

// PageParam reads the request's ?page= (1 when absent), for the pages of
// a list's members in the admin API and the UI alike.
func PageParam(c *gin.Context) (int, error) {
	raw := c.Query("page")
	if raw == "" {
		return 1, nil
	}
	page, err := strconv.Atoi(raw)
	if err != nil || page < 1 || page > 1_000_000 {
		return 0, BadRequest("page", "must be a whole number from 1")
	}
	return page, nil
}

// AfterParam reads the request's ?after= (0 when absent): where the page
// before of a segment's members stopped, its next_after.
func AfterParam(c *gin.Context) (int64, error) {
	raw := c.Query("after")
	if raw == "" {
		return 0, nil
	}
	after, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || after < 0 {
		return 0, BadRequest("after", "must be the next_after of the page before")
	}
	return after, nil
}
