package journey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modeltest"
)

func TestFillStats(t *testing.T) {
	t.Parallel()
	def := parse(t, `{"name": "Fill", "nodes": [
	  {"id": "start", "type": "trigger", "event": "Signed Up", "next": "wait"},
	  {"id": "wait", "type": "wait_for_event", "event": "Paid", "within": "1h", "happened": "hook", "timeout": "end"},
	  {"id": "hook", "type": "webhook", "webhook_id": 7, "next": "end"},
	  {"id": "end", "type": "stop"}]}`)
	zero := func(exits ...string) *models.NodeStats {
		st := &models.NodeStats{Exits: map[string]int64{}}
		for _, e := range exits {
			st.Exits[e] = 0
		}
		return st
	}
	for _, tc := range []struct {
		name    string
		def     *Definition // def above when nil
		counted map[string]*models.NodeStats
		want    map[string]*models.NodeStats
	}{
		{
			name:    "no run yet: every step and exit at zero",
			counted: map[string]*models.NodeStats{},
			want: map[string]*models.NodeStats{
				"start": zero(ExitNext), "wait": zero(ExitHappened, ExitTimeout), "hook": zero(ExitNext), "end": zero(),
			},
		},
		{
			name: "counts kept, missing exits added",
			counted: map[string]*models.NodeStats{
				"start": {Entered: 3, Exits: map[string]int64{ExitNext: 3}},
				"wait":  {Entered: 3, Waiting: 1, Exits: map[string]int64{ExitTimeout: 2}},
				"end":   {Entered: 2, Exits: nil},
			},
			want: map[string]*models.NodeStats{
				"start": {Entered: 3, Exits: map[string]int64{ExitNext: 3}},
				"wait":  {Entered: 3, Waiting: 1, Exits: map[string]int64{ExitHappened: 0, ExitTimeout: 2}},
				"hook":  zero(ExitNext),
				"end":   {Entered: 2, Exits: map[string]int64{}},
			},
		},
		{
			name:    "a webhook step with outcome exits shows delivered and failed, not next",
			counted: map[string]*models.NodeStats{},
			def: parse(t, `{"name": "Outcome", "nodes": [
			  {"id": "start", "type": "trigger", "event": "Signed Up", "next": "hook"},
			  {"id": "hook", "type": "webhook", "webhook_id": 7, "delivered": "end", "failed": "end"},
			  {"id": "end", "type": "stop"}]}`),
			want: map[string]*models.NodeStats{
				"start": zero(ExitNext), "hook": zero(ExitDelivered, ExitFailed), "end": zero(),
			},
		},
		{
			name: "a step no longer in the graph keeps its counts",
			counted: map[string]*models.NodeStats{
				"gone": {Entered: 1, Exits: map[string]int64{ExitNext: 1}},
			},
			want: map[string]*models.NodeStats{
				"gone":  {Entered: 1, Exits: map[string]int64{ExitNext: 1}},
				"start": zero(ExitNext), "wait": zero(ExitHappened, ExitTimeout), "hook": zero(ExitNext), "end": zero(),
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := def
			if tc.def != nil {
				d = tc.def
			}
			d.FillStats(tc.counted)
			require.Equal(t, tc.want, tc.counted)
		})
	}
}

func TestProblemsOf(t *testing.T) {
	t.Parallel()
	ps := []Problem{{Node: "start", Field: "event", Message: "is required"}}
	for _, tc := range []struct {
		name string
		err  error
		want []Problem
	}{
		{"invalid", &InvalidError{Problems: ps}, ps},
		{"cannot publish, wrapped", fmt.Errorf("publish: %w", &PublishError{Problems: ps}), ps},
		{"other error", errors.New("boom"), nil},
		{"no error", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, ProblemsOf(tc.err))
		})
	}
}

// CheckDefinition is the graph's own check and, for a webhook step that
// saves from the response, the batching check against the panel's asset.
func TestCheckDefinition(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	engine := &Engine{Store: store, Log: slog.New(slog.DiscardHandler)}
	panel, err := store.EnsurePanel(ctx, "check_def")
	require.NoError(t, err)
	spec := models.DefaultWebhookSpec()
	spec.Label, spec.URL = "Batched", "http://127.0.0.1:9/hook"
	batched, err := store.CreateWebhook(ctx, panel.ID, spec)
	require.NoError(t, err)
	spec.Label, spec.BatchSize = "Single", 1
	single, err := store.CreateWebhook(ctx, panel.ID, spec)
	require.NoError(t, err)
	saving := func(hook int64) string {
		return fmt.Sprintf(`{"name": "Score", "nodes": [
		  {"id": "start", "type": "trigger", "event": "Signed Up", "next": "score"},
		  {"id": "score", "type": "webhook", "webhook_id": %d, "save": [{"path": "data.score", "attribute": "SCORE"}], "next": "end"},
		  {"id": "end", "type": "stop"}]}`, hook)
	}

	t.Run("valid: stored with reentry never", func(t *testing.T) {
		t.Parallel()
		raw, err := engine.CheckDefinition(ctx, panel.ID, parse(t, saving(single.ID)))
		require.NoError(t, err)
		var stored Definition
		require.NoError(t, json.Unmarshal(raw, &stored))
		require.Equal(t, "never", stored.Reentry)
		require.Len(t, stored.Nodes, 3)
	})
	t.Run("graph problems", func(t *testing.T) {
		t.Parallel()
		_, err := engine.CheckDefinition(ctx, panel.ID, parse(t, `{"name": "", "nodes": []}`))
		var ie *InvalidError
		require.ErrorAs(t, err, &ie)
		require.Contains(t, ie.Problems, Problem{Field: "name", Message: "is required"})
	})
	t.Run("saving from a batched asset", func(t *testing.T) {
		t.Parallel()
		_, err := engine.CheckDefinition(ctx, panel.ID, parse(t, saving(batched.ID)))
		var ie *InvalidError
		require.ErrorAs(t, err, &ie)
		require.Len(t, ie.Problems, 1)
		require.Equal(t, "score", ie.Problems[0].Node)
		require.Equal(t, "save", ie.Problems[0].Field)
		require.Contains(t, ie.Problems[0].Message, `webhook "Batched"`)
	})
}
