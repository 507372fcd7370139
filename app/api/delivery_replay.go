package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
)

// DeliveryReplay sends deliveries again from the first attempt: the ones
// named in delivery_ids (failed or delivered), or all failed ones when the
// body is empty or names none.
func (s *Handlers) DeliveryReplay(c *gin.Context) {
	w, err := s.loadWebhook(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var in struct {
		DeliveryIDs []string `json:"delivery_ids"`
	}
	if c.Request.ContentLength != 0 {
		if err := httpx.DecodeJSON(c, &in); err != nil {
			s.fail(c, err)
			return
		}
	}
	ids, err := models.ParseDeliveryIDs(in.DeliveryIDs)
	if err != nil {
		s.fail(c, err)
		return
	}
	n, err := s.webhooks(c).Replay(c.Request.Context(), w, ids)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"replayed": n})
}
