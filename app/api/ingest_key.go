package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
)

// ingestKeyJSON is an ingest key as listed: never the key itself.
type ingestKeyJSON struct {
	ID         int64      `json:"id"`
	Hint       string     `json:"hint"`
	Label      string     `json:"label"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	Key        string     `json:"key,omitempty"` // only in the answer that creates it
}

func newIngestKeyJSON(t *models.Token) ingestKeyJSON {
	return ingestKeyJSON{ID: t.ID, Hint: t.Hint + "…", Label: t.Label, CreatedAt: t.CreatedAt, LastUsedAt: t.LastUsedAt}
}

// IngestKeyCreate makes a new sk_live_ key and shows it this once.
func (s *Handlers) IngestKeyCreate(c *gin.Context) {
	var in struct {
		Label string `json:"label"`
	}
	if c.Request.ContentLength != 0 {
		if err := httpx.DecodeJSON(c, &in); err != nil {
			s.fail(c, err)
			return
		}
	}
	if len(in.Label) > 200 {
		s.fail(c, httpx.BadRequest("label", "is longer than 200 bytes"))
		return
	}
	key, t, err := s.store.CreateToken(c.Request.Context(), httpx.PanelOf(c).ID, models.TokenIngest, strings.TrimSpace(in.Label))
	if err != nil {
		s.fail(c, err)
		return
	}
	out := newIngestKeyJSON(t)
	out.Key = key
	c.JSON(http.StatusCreated, out)
}

// IngestKeyList lists the panel's live ingest keys.
func (s *Handlers) IngestKeyList(c *gin.Context) {
	ts, err := s.store.ListTokens(c.Request.Context(), httpx.PanelOf(c).ID, models.TokenIngest)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]ingestKeyJSON, len(ts))
	for i := range ts {
		out[i] = newIngestKeyJSON(&ts[i])
	}
	c.JSON(http.StatusOK, gin.H{"ingest_keys": out})
}

// IngestKeyRevoke revokes a key at once.
func (s *Handlers) IngestKeyRevoke(c *gin.Context) {
	id, err := httpx.IDParam(c, "ingest key")
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.store.RevokeToken(c.Request.Context(), httpx.PanelOf(c).ID, models.TokenIngest, id); err != nil {
		s.fail(c, httpx.NotFoundAs(err, "ingest key not found"))
		return
	}
	c.Status(http.StatusNoContent)
}
