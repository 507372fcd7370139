package ingest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// BenchmarkParse parses a body like make bench's batched load: 100 small
// events, each with a property and a user.
func BenchmarkParse(b *testing.B) {
	evs := make([]map[string]any, 100)
	for i := range evs {
		evs[i] = map[string]any{"event": "page_view", "properties": map[string]any{"sent_ns": 1764547200000000000 + i},
			"user": map[string]any{"email": fmt.Sprintf("user%d@bench.example", i), "first_name": "Bench"}}
	}
	body, err := json.Marshal(evs)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		evs, err := Parse("application/json", body, now)
		if err != nil {
			b.Fatal(err)
		}
		// What storing them adds: their properties are encoded
		// (models.InsertEvents).
		for _, ev := range evs {
			if _, err := json.Marshal(ev.Properties); err != nil {
				b.Fatal(err)
			}
		}
	}
}
