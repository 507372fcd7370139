package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/jobs/journey"
	"github.com/heraldhq/herald/models"
)

// JourneyClone copies a journey, whatever its status, into a new draft
// named "Copy of …" (numbered when that name is taken): 201 with the copy.
func (s *Handlers) JourneyClone(c *gin.Context) {
	j, err := s.LoadJourney(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	copied, err := s.Clone(c.Request.Context(), j)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.respondJourney(c, http.StatusCreated, copied)
}

// maxCopyNames bounds the numbered names a copy tries ("Copy of X (2)"…).
const maxCopyNames = 20

// Clone stores a draft copy of j, for the API and the builder alike.
func (s *Handlers) Clone(ctx context.Context, j *models.Journey) (*models.Journey, error) {
	var def journey.Definition
	if err := json.Unmarshal(j.Definition, &def); err != nil {
		return nil, fmt.Errorf("clone journey %d: %w", j.ID, err)
	}
	for n := 1; n <= maxCopyNames; n++ {
		def.Name = copyName(j.Name, n)
		raw, err := json.Marshal(&def)
		if err != nil {
			return nil, fmt.Errorf("clone journey %d: %w", j.ID, err)
		}
		copied, err := s.store.CreateJourney(ctx, j.PanelID, def.Name, raw)
		var ce *models.ConflictError
		if errors.As(err, &ce) && ce.Field == "name" {
			continue
		}
		return copied, err
	}
	return nil, &models.ConflictError{Field: "name",
		Message: fmt.Sprintf("%d copies of this journey already exist; rename one first", maxCopyNames)}
}

// copyName is the n-th name a copy of name tries, cut (at a character) to
// the 200 bytes a journey's name may have.
func copyName(name string, n int) string {
	suffix := ""
	if n > 1 {
		suffix = fmt.Sprintf(" (%d)", n)
	}
	name = "Copy of " + name
	for len(name)+len(suffix) > 200 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	return name + suffix
}
