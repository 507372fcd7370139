package httpx

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/jobs/journey"
	"github.com/heraldhq/herald/models"
)

// Classify is where the journey package's errors become statuses: neither
// the API nor the UI wraps them.
func TestClassify(t *testing.T) {
	t.Parallel()
	ps := []journey.Problem{
		{Node: "score", Field: "save", Message: "needs batch_size 1"},
		{Node: "end", Message: "is not reachable"},
	}
	for _, tc := range []struct {
		name   string
		err    error
		status int
		body   ErrorBody
	}{
		{"journey not valid", &journey.InvalidError{Problems: ps}, http.StatusBadRequest,
			ErrorBody{Error: "the journey is not valid: score.save: needs batch_size 1", Field: "nodes.score.save", Problems: ps}},
		// Problem.String writes ".name" for the journey's own field: kept as
		// the API has always answered it.
		{"journey's own field", &journey.InvalidError{Problems: []journey.Problem{{Field: "name", Message: "is required"}}},
			http.StatusBadRequest, ErrorBody{Error: "the journey is not valid: .name: is required", Field: "name",
				Problems: []journey.Problem{{Field: "name", Message: "is required"}}}},
		{"journey cannot be published, wrapped", fmt.Errorf("publish: %w", &journey.PublishError{Problems: ps[1:]}),
			http.StatusUnprocessableEntity,
			ErrorBody{Error: "the journey cannot be published: end: is not reachable", Field: "nodes.end", Problems: ps[1:]}},
		{"validation", &models.ValidationError{Field: "time_zone", Message: "bad"}, http.StatusBadRequest,
			ErrorBody{Error: "bad", Field: "time_zone"}},
		{"http error", BadRequest("limit", "too big"), http.StatusBadRequest, ErrorBody{Error: "too big", Field: "limit"}},
		{"not found", fmt.Errorf("x: %w", models.ErrNotFound), http.StatusNotFound, ErrorBody{Error: "not found"}},
		{"not found, saying what", fmt.Errorf("x: %w", &models.NotFoundError{Message: "step not found"}), http.StatusNotFound,
			ErrorBody{Error: "step not found"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, _ := gin.CreateTestContext(httptest.NewRecorder())
			c.Request = httptest.NewRequest(http.MethodGet, "/", nil)
			status, body := Classify(slog.New(slog.DiscardHandler), c, tc.err)
			require.Equal(t, tc.status, status)
			require.Equal(t, tc.body, body)
		})
	}
}
