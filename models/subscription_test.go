package models

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSubscriptionMatches(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                   string
		sub                    Subscription
		event, source, channel string
		want                   bool
	}{
		{"the name", Subscription{Event: "NEW_VISIT"}, "NEW_VISIT", "web", "", true},
		{"the name, case aside", Subscription{Event: "NEW_VISIT"}, "new_visit", "crm", "email", true},
		{"another name", Subscription{Event: "NEW_VISIT"}, "NEW_VISITOR", "web", "", false},
		{"the source", Subscription{Event: "click", Source: "esp"}, "click", "esp", "email", true},
		{"another source", Subscription{Event: "click", Source: "esp"}, "click", "crm", "email", false},
		{"the source compares exactly", Subscription{Event: "click", Source: "esp"}, "click", "ESP", "email", false},
		{"the channel", Subscription{Event: "click", Channel: "email"}, "click", "crm", "EMAIL", true},
		{"another channel", Subscription{Event: "click", Channel: "email"}, "click", "crm", "sms", false},
		{"no channel", Subscription{Event: "click", Channel: "email"}, "click", "crm", "", false},
		{"source and channel", Subscription{Event: "click", Source: "esp", Channel: "email"}, "click", "esp", "email", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, tc.sub.Matches(tc.event, tc.source, tc.channel))
		})
	}
}
