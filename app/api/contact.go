package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/jobs/journey"
	"github.com/heraldhq/herald/models"
)

// contactJSON is a contact as the API shows it.
type contactJSON struct {
	ID         int64          `json:"id"`
	ExternalID *string        `json:"external_id"`
	Email      *string        `json:"email"`
	Phone      *string        `json:"phone"`
	Attributes map[string]any `json:"attributes"`
	CreatedAt  time.Time      `json:"created_at"`
	UpdatedAt  time.Time      `json:"updated_at"`
}

func newContactJSON(c *models.Contact) contactJSON {
	return contactJSON{ID: c.ID, ExternalID: c.ExternalID, Email: c.Email, Phone: c.Phone, Attributes: c.Attributes,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

// contactsJSON shows contacts (a page of members) as the API does.
func contactsJSON(cs []models.Contact) []contactJSON {
	out := make([]contactJSON, len(cs))
	for i := range cs {
		out[i] = newContactJSON(&cs[i])
	}
	return out
}

// ContactUpsert creates or updates a contact; segment-triggered journeys
// it now enters start.
func (s *Handlers) ContactUpsert(c *gin.Context) {
	var in journey.MemberInput
	if err := httpx.DecodeJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	m, err := in.Member("")
	if err != nil {
		s.fail(c, err)
		return
	}
	contact, err := s.engine.UpsertContact(c.Request.Context(), httpx.PanelOf(c), m)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, newContactJSON(contact))
}

// ContactGet shows a contact by id.
func (s *Handlers) ContactGet(c *gin.Context) {
	id, err := httpx.IDParam(c, "contact")
	if err != nil {
		s.fail(c, err)
		return
	}
	contact, err := s.store.ContactByID(c.Request.Context(), httpx.PanelOf(c).ID, id)
	if err != nil {
		s.fail(c, httpx.NotFoundAs(err, "contact not found"))
		return
	}
	c.JSON(http.StatusOK, newContactJSON(contact))
}

// ContactFind looks a contact up by ?external_id=, ?email= or ?phone=.
func (s *Handlers) ContactFind(c *gin.Context) {
	id := models.Identity{ExternalID: c.Query("external_id"), Email: models.NormalizeEmail(c.Query("email")),
		Phone: models.NormalizePhone(c.Query("phone"))}
	if id.Empty() {
		s.fail(c, httpx.BadRequest("email", "look a contact up by external_id, email or phone"))
		return
	}
	contact, err := s.store.FindContact(c.Request.Context(), httpx.PanelOf(c).ID, id)
	if err != nil {
		s.fail(c, httpx.NotFoundAs(err, "contact not found"))
		return
	}
	c.JSON(http.StatusOK, newContactJSON(contact))
}
