package journey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/heraldhq/herald/models"
)

// maxCopyNames bounds the numbered names a copy tries ("Copy of X (2)"…).
const maxCopyNames = 20

// Clone stores a draft copy of j, whatever its status, named "Copy of …"
// (numbered when that name is taken), for the admin API and the builder
// alike. When every name it tries is taken it is a *models.ConflictError.
func (e *Engine) Clone(ctx context.Context, j *models.Journey) (*models.Journey, error) {
	var def Definition
	if err := json.Unmarshal(j.Definition, &def); err != nil {
		return nil, fmt.Errorf("journey: clone %d: %w", j.ID, err)
	}
	for n := 1; n <= maxCopyNames; n++ {
		def.Name = copyName(j.Name, n)
		raw, err := json.Marshal(&def)
		if err != nil {
			return nil, fmt.Errorf("journey: clone %d: %w", j.ID, err)
		}
		copied, err := e.Store.CreateJourney(ctx, j.PanelID, def.Name, raw)
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
