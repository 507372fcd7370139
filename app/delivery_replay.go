package app

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/heraldhq/herald/models"
)

// deliveryReplay sends deliveries again from the first attempt: the ones
// named in delivery_ids (failed or delivered), or all failed ones when the
// body is empty or names none.
func (s *Server) deliveryReplay(c *gin.Context) {
	w, err := s.loadWebhook(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var in struct {
		DeliveryIDs []string `json:"delivery_ids"`
	}
	if c.Request.ContentLength != 0 {
		if err := decodeJSON(c, &in); err != nil {
			s.fail(c, err)
			return
		}
	}
	ids, err := deliveryIDs(in.DeliveryIDs)
	if err != nil {
		s.fail(c, err)
		return
	}
	n, err := s.replay(c, w, ids)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"replayed": n})
}

// replay sends deliveries of w again (all failed ones when ids is empty)
// and flushes w when it is in service; otherwise they are held.
func (s *Server) replay(c *gin.Context, w *models.Webhook, ids []uuid.UUID) (int64, error) {
	n, err := s.store.ReplayDeliveries(c.Request.Context(), w.PanelID, w.ID, ids)
	if err == nil && n > 0 && w.Status == models.StatusActive {
		s.flush(c, w.ID, 0)
	}
	return n, err
}
