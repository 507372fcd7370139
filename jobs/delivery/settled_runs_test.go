package delivery

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models"
)

func TestSettledRuns(t *testing.T) {
	t.Parallel()
	run := func() *uuid.UUID { id := models.NewID(time.Now()); return &id }
	delivered := models.ClaimedRow{ID: models.NewID(time.Now()), RunID: run(), RunAwaits: true}
	failed := models.ClaimedRow{ID: models.NewID(time.Now()), RunID: run(), RunAwaits: true}
	retried := models.ClaimedRow{ID: models.NewID(time.Now()), RunID: run(), RunAwaits: true}
	notAwaiting := models.ClaimedRow{ID: models.NewID(time.Now()), RunID: run()}
	plain := models.ClaimedRow{ID: models.NewID(time.Now())}
	for _, tc := range []struct {
		name string
		rows []models.ClaimedRow
		done models.Completion
		want []models.ClaimedRow
	}{
		{"no run awaits", []models.ClaimedRow{plain, notAwaiting},
			models.Completion{Delivered: []uuid.UUID{plain.ID, notAwaiting.ID}}, nil},
		{"delivered and failed move on, a retry waits",
			[]models.ClaimedRow{plain, delivered, retried, failed, notAwaiting},
			models.Completion{Delivered: []uuid.UUID{plain.ID, delivered.ID, notAwaiting.ID}, Retry: []uuid.UUID{retried.ID},
				Failed: []uuid.UUID{failed.ID}},
			[]models.ClaimedRow{delivered, failed}},
		{"released: nothing settled", []models.ClaimedRow{delivered},
			models.Completion{Released: []uuid.UUID{delivered.ID}}, nil},
		{"an awaiting row without its run", []models.ClaimedRow{{ID: plain.ID, RunAwaits: true}},
			models.Completion{Delivered: []uuid.UUID{plain.ID}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, settledRuns(tc.rows, &tc.done))
		})
	}
}

// BenchmarkSettledRuns is a full batch (1,000 rows, every one awaited by a
// run), and the common one where no run awaits.
func BenchmarkSettledRuns(b *testing.B) {
	rows := make([]models.ClaimedRow, models.MaxBatchSize)
	done := &models.Completion{}
	for i := range rows {
		id := models.NewID(time.Now())
		rows[i] = models.ClaimedRow{ID: id, RunID: &id, RunAwaits: true}
		if i%2 == 0 {
			done.Delivered = append(done.Delivered, id)
		} else {
			done.Failed = append(done.Failed, id)
		}
	}
	b.Run("awaited", func(b *testing.B) {
		for b.Loop() {
			if len(settledRuns(rows, done)) != len(rows) {
				b.Fatal("a row was not settled")
			}
		}
	})
	plain := make([]models.ClaimedRow, len(rows))
	for i := range rows {
		plain[i] = models.ClaimedRow{ID: rows[i].ID}
	}
	b.Run("none awaited", func(b *testing.B) {
		for b.Loop() {
			if settledRuns(plain, done) != nil {
				b.Fatal("a row without a run was settled")
			}
		}
	})
}
