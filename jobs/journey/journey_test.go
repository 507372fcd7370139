package journey

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// cartJourney is the README's example journey: added to cart in Canada, no order
// within 30 minutes, then the webhook.
const cartJourney = `{"name": "Cart recovery", "reentry": "after:24h",
 "nodes": [
  {"id": "start", "type": "trigger", "event": "Added to Cart",
   "filters": [{"attribute": "COUNTRY", "op": "eq", "value": "Canada"}], "next": "wait"},
  {"id": "wait", "type": "wait_for_event", "event": "Placed Order", "within": "30m", "happened": "end", "timeout": "hook"},
  {"id": "hook", "type": "webhook", "webhook_id": 7, "event_params": ["timestamp", "ts", "email", "foreignkey"],
   "att_params": ["EMAIL", "FIRSTNAME", "CITY"], "custom_params": {"Action": "Cart abandoned"}, "next": "end"},
  {"id": "end", "type": "stop"}]}`

func parse(t *testing.T, s string) *Definition {
	t.Helper()
	var d Definition
	require.NoError(t, json.Unmarshal([]byte(s), &d))
	return &d
}

var (
	t0      = time.Date(2022, 12, 2, 15, 48, 5, 0, time.UTC)
	contact = &Contact{ID: 1, Key: "a@b.com", Email: "a@b.com",
		Attributes: map[string]any{"EMAIL": "a@b.com", "FIRSTNAME": "RMT", "CITY": "Pune", "COUNTRY": "Canada"}}
)

func env(now time.Time) *Env {
	n := 0
	return &Env{JourneyName: "Cart recovery", Labels: map[int64]string{7: "Cart Webhook"}, Now: now,
		NewMsgID: func() string { n++; return fmt.Sprint("m", n) }}
}

func TestAbandonedCart(t *testing.T) {
	t.Parallel()
	d := parse(t, cartJourney)
	require.Empty(t, d.CheckPublish(map[int64]Asset{7: {Label: "Cart Webhook", Active: true}}))
	cart := &Event{ID: "e1", Name: "Added to Cart", At: t0, Properties: map[string]any{"items": []any{map[string]any{"sku": "A1"}}}}
	require.True(t, d.StartsOn(cart, contact))
	elsewhere := &Contact{Attributes: map[string]any{"COUNTRY": "India"}}
	require.False(t, d.StartsOn(cart, elsewhere), "the filter keeps others out")
	require.False(t, d.StartsOn(&Event{Name: "Viewed"}, contact))

	var st State
	step := d.Enter(&st, cart, contact, env(t0))
	require.True(t, step.Waiting)
	require.Equal(t, "wait", step.Node)
	require.Equal(t, "placed order", step.WaitEvent)
	require.Equal(t, t0.Add(30*time.Minute), step.WaitUntil)
	require.Empty(t, step.Fires)

	// No order in time: the webhook fires with the cart.
	step = d.Resume(&st, "wait", nil, contact, env(t0.Add(30*time.Minute)))
	require.False(t, step.Waiting)
	require.Equal(t, "end", step.Node)
	require.Len(t, step.Fires, 1)
	it := step.Fires[0].Item
	require.Equal(t, int64(7), step.Fires[0].WebhookID)
	require.Equal(t, "Cart Webhook", it.WebhookName)
	require.Equal(t, "Added to Cart", it.Event)
	require.Equal(t, "Cart recovery", it.JourneyName)
	require.Equal(t, map[string]any{"timestamp": "2022-12-02T15:48:05", "ts": int64(221202154805), "email": "a@b.com", "foreignkey": "a@b.com"}, it.EventParams)
	require.Equal(t, map[string]any{"EMAIL": "a@b.com", "FIRSTNAME": "RMT", "CITY": "Pune"}, it.AttParams)
	require.Equal(t, map[string]any{"Action": "Cart abandoned"}, it.CustomParams)
	require.Equal(t, map[string]any{"items": []any{map[string]any{"sku": "A1"}}}, it.PayloadParams)
	require.Equal(t, CustomActivity, it.Channel, "an activity without a channel is a custom activity")

	// An order in time: no webhook.
	var st2 State
	d.Enter(&st2, cart, contact, env(t0))
	order := &Event{Name: "Placed Order", At: t0.Add(time.Minute)}
	require.True(t, d.Awaits("wait", &st2, order))
	step = d.Resume(&st2, "wait", order, contact, env(t0.Add(time.Minute)))
	require.Empty(t, step.Fires)
	require.Equal(t, "end", step.Node)
}

func TestOpenThenClickOfTheSameMessage(t *testing.T) {
	t.Parallel()
	d := parse(t, `{"name": "Engaged", "nodes": [
	  {"id": "t", "type": "trigger", "event": "subscribed", "next": "mail"},
	  {"id": "mail", "type": "action", "channel": "email", "message_name": "Welcome", "next": "open"},
	  {"id": "open", "type": "wait_for_event", "event": "open", "channel": "email", "of_node": "mail", "within": "2h", "happened": "click", "timeout": "end"},
	  {"id": "click", "type": "wait_for_event", "event": "click", "channel": "email", "of_node": "mail", "within": "2h", "happened": "hook", "timeout": "end"},
	  {"id": "hook", "type": "webhook", "webhook_id": 7, "event_params": ["message_name", "msgid", "ip_addr"], "next": "end"},
	  {"id": "end", "type": "stop"}]}`)
	require.Empty(t, d.CheckPublish(map[int64]Asset{7: {Active: true}}))
	var st State
	step := d.Enter(&st, &Event{Name: "subscribed", At: t0}, contact, env(t0))
	require.Equal(t, []Sent{{Node: "mail", MsgID: "m1", Channel: "email", MessageName: "Welcome"}}, step.Sent)
	require.Equal(t, "open", step.Node)

	require.False(t, d.Awaits("open", &st, &Event{Name: "open", Channel: "email", MsgID: "other"}), "another message's open")
	require.False(t, d.Awaits("open", &st, &Event{Name: "open", Channel: "sms", MsgID: "m1"}), "another channel")
	open := &Event{Name: "open", Channel: "email", MsgID: "m1", At: t0.Add(time.Minute)}
	require.True(t, d.Awaits("open", &st, open))
	step = d.Resume(&st, "open", open, contact, env(open.At))
	require.Equal(t, "click", step.Node)
	click := &Event{Name: "click", Channel: "email", MsgID: "m1", At: t0.Add(2 * time.Minute), Properties: map[string]any{"ip_addr": "106.51.148.72"}}
	step = d.Resume(&st, "click", click, contact, env(click.At))
	require.Len(t, step.Fires, 1)
	it := step.Fires[0].Item
	require.Equal(t, "m1", it.MsgID)
	require.Equal(t, "email", it.Channel)
	require.Equal(t, "click", it.Event)
	require.Equal(t, map[string]any{"message_name": "Welcome", "msgid": "m1", "ip_addr": "106.51.148.72"}, it.EventParams)
	require.Empty(t, it.PayloadParams, "a channel event carries no payload")
}

func TestClickOfTheOpenedMessage(t *testing.T) {
	t.Parallel()
	d := parse(t, `{"name": "Open then click", "nodes": [
	  {"id": "t", "type": "trigger", "event": "open", "channel": "email", "next": "w"},
	  {"id": "w", "type": "wait_for_event", "event": "click", "of_node": "t", "within": "1h", "happened": "hook", "timeout": "end"},
	  {"id": "hook", "type": "webhook", "webhook_id": 7, "next": "end"},
	  {"id": "end", "type": "stop"}]}`)
	require.Empty(t, d.CheckPublish(map[int64]Asset{7: {Active: true}}))
	var st State
	d.Enter(&st, &Event{Name: "open", Channel: "email", MsgID: "546", At: t0}, contact, env(t0))
	require.False(t, d.Awaits("w", &st, &Event{Name: "click", Channel: "email", MsgID: "547"}))
	require.True(t, d.Awaits("w", &st, &Event{Name: "click", Channel: "email", MsgID: "546"}))
}

// "Clicked this link within 1 h": only a click whose properties pass the
// wait's filters ends the wait.
func TestWaitForEventFilters(t *testing.T) {
	t.Parallel()
	d := parse(t, `{"name": "Clicked the offer", "nodes": [
	  {"id": "t", "type": "trigger", "event": "open", "channel": "email", "next": "w"},
	  {"id": "w", "type": "wait_for_event", "event": "click", "channel": "email", "within": "1h", "happened": "hook", "timeout": "end",
	   "filters": [{"property": "url", "op": "eq", "value": "https://shop.example/offer"}, {"property": "linkid", "op": "in", "value": [3, 4]}]},
	  {"id": "hook", "type": "webhook", "webhook_id": 7, "next": "end"},
	  {"id": "end", "type": "stop"}]}`)
	require.Empty(t, d.CheckPublish(map[int64]Asset{7: {Active: true}}))
	var st State
	d.Enter(&st, &Event{Name: "open", Channel: "email", MsgID: "546", At: t0}, contact, env(t0))
	for _, tc := range []struct {
		name  string
		props map[string]any
		want  bool
	}{
		{"the link", map[string]any{"url": "https://shop.example/offer", "linkid": json.Number("3")}, true},
		{"the link, case aside", map[string]any{"url": "HTTPS://shop.example/OFFER", "linkid": "4"}, true},
		{"another link", map[string]any{"url": "https://shop.example/unsubscribe", "linkid": json.Number("3")}, false},
		{"another link id", map[string]any{"url": "https://shop.example/offer", "linkid": json.Number("9")}, false},
		{"no properties", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev := &Event{Name: "click", Channel: "email", MsgID: "546", Properties: tc.props}
			require.Equal(t, tc.want, d.Awaits("w", &st, ev))
		})
	}
}

func TestCheckFindsMalformedJourneys(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		json string
		want string
	}{
		"no name":         {`{"nodes": [{"id": "t", "type": "trigger", "event": "x", "next": "s"}, {"id": "s", "type": "stop"}]}`, "name: is required"},
		"bad reentry":     {`{"name": "j", "reentry": "sometimes", "nodes": [{"id": "t", "type": "trigger", "event": "x", "next": "s"}, {"id": "s", "type": "stop"}]}`, "reentry"},
		"no trigger":      {`{"name": "j", "nodes": [{"id": "s", "type": "stop"}]}`, "exactly one trigger"},
		"two triggers":    {`{"name": "j", "nodes": [{"id": "a", "type": "trigger", "event": "x", "next": "s"}, {"id": "b", "type": "trigger", "event": "y", "next": "s"}, {"id": "s", "type": "stop"}]}`, "exactly one trigger"},
		"unknown type":    {`{"name": "j", "nodes": [{"id": "t", "type": "trigger", "event": "x", "next": "s"}, {"id": "s", "type": "teleport"}]}`, "s.type"},
		"dangling next":   {`{"name": "j", "nodes": [{"id": "t", "type": "trigger", "event": "x", "next": "nowhere"}]}`, "does not exist"},
		"duplicate id":    {`{"name": "j", "nodes": [{"id": "t", "type": "trigger", "event": "x", "next": "s"}, {"id": "s", "type": "stop"}, {"id": "s", "type": "stop"}]}`, "used by two"},
		"wait no within":  {`{"name": "j", "nodes": [{"id": "t", "type": "trigger", "event": "x", "next": "w"}, {"id": "w", "type": "wait_for_event", "event": "y", "happened": "s", "timeout": "s"}, {"id": "s", "type": "stop"}]}`, "w.within"},
		"wait too long":   {`{"name": "j", "nodes": [{"id": "t", "type": "trigger", "event": "x", "next": "w"}, {"id": "w", "type": "wait_for_event", "event": "y", "within": "9000h", "happened": "s", "timeout": "s"}, {"id": "s", "type": "stop"}]}`, "w.within"},
		"bad filter op":   {`{"name": "j", "nodes": [{"id": "t", "type": "trigger", "event": "x", "filters": [{"attribute": "A", "op": "like", "value": 1}], "next": "s"}, {"id": "s", "type": "stop"}]}`, "filters[0]"},
		"action channel":  {`{"name": "j", "nodes": [{"id": "t", "type": "trigger", "event": "x", "next": "a"}, {"id": "a", "type": "action", "channel": "fax", "message_name": "m", "next": "s"}, {"id": "s", "type": "stop"}]}`, "a.channel"},
		"webhook no id":   {`{"name": "j", "nodes": [{"id": "t", "type": "trigger", "event": "x", "next": "h"}, {"id": "h", "type": "webhook", "next": "s"}, {"id": "s", "type": "stop"}]}`, "h.webhook_id"},
		"of_node no act":  {`{"name": "j", "nodes": [{"id": "t", "type": "trigger", "event": "x", "next": "w"}, {"id": "w", "type": "wait_for_event", "event": "y", "within": "1m", "of_node": "s", "happened": "s", "timeout": "s"}, {"id": "s", "type": "stop"}]}`, "w.of_node"},
		"wait filter op":  {`{"name": "j", "nodes": [{"id": "t", "type": "trigger", "event": "x", "next": "w"}, {"id": "w", "type": "wait_for_event", "event": "y", "within": "1m", "filters": [{"property": "url", "op": "like", "value": 1}], "happened": "s", "timeout": "s"}, {"id": "s", "type": "stop"}]}`, "w.filters[0]: op must be one of"},
		"wait attribute":  {`{"name": "j", "nodes": [{"id": "t", "type": "trigger", "event": "x", "next": "w"}, {"id": "w", "type": "wait_for_event", "event": "y", "within": "1m", "filters": [{"property": "url", "op": "exists"}, {"attribute": "CITY", "op": "exists"}], "happened": "s", "timeout": "s"}, {"id": "s", "type": "stop"}]}`, "w.filters[1]: a wait filters the awaited event's properties only"},
		"wait no value":   {`{"name": "j", "nodes": [{"id": "t", "type": "trigger", "event": "x", "next": "w"}, {"id": "w", "type": "wait_for_event", "event": "y", "within": "1m", "filters": [{"property": "url", "op": "eq"}], "happened": "s", "timeout": "s"}, {"id": "s", "type": "stop"}]}`, "w.filters[0]: eq needs a value"},
		"udt table name":  {`{"name": "j", "nodes": [{"id": "t", "type": "trigger", "event": "x", "next": "h"}, {"id": "h", "type": "webhook", "webhook_id": 7, "udt_params": ["orders", "a/b"], "next": "s"}, {"id": "s", "type": "stop"}]}`, "h.udt_params[1]: must name a data table"},
		"wait event long": {`{"name": "j", "nodes": [{"id": "t", "type": "trigger", "event": "x", "next": "w"}, {"id": "w", "type": "wait_for_event", "event": "` + strings.Repeat("y", 201) + `", "within": "1m", "happened": "s", "timeout": "s"}, {"id": "s", "type": "stop"}]}`, "w.event: is longer than 200 bytes"},
		"trigger long":    {`{"name": "j", "nodes": [{"id": "t", "type": "trigger", "event": "` + strings.Repeat("x", 201) + `", "next": "s"}, {"id": "s", "type": "stop"}]}`, "t.event: is longer than 200 bytes"},
		"back to trigger": {`{"name": "j", "nodes": [{"id": "t", "type": "trigger", "event": "x", "next": "s"}, {"id": "s", "type": "action", "channel": "sms", "message_name": "m", "next": "t"}]}`, "back to the trigger"},
	}
	for name, tt := range tests {
		ps := parse(t, tt.json).Check()
		var all []string
		for _, p := range ps {
			all = append(all, p.String())
		}
		require.Contains(t, strings.Join(all, "\n"), tt.want, name)
	}
}

func TestCheckPublish(t *testing.T) {
	t.Parallel()
	d := parse(t, cartJourney)
	ps := d.CheckPublish(map[int64]Asset{})
	require.Len(t, ps, 1)
	require.Contains(t, ps[0].Message, "does not exist")
	ps = d.CheckPublish(map[int64]Asset{7: {Label: "Cart Webhook"}})
	require.Contains(t, ps[0].Message, "not active")

	unreachable := parse(t, `{"name": "j", "nodes": [{"id": "t", "type": "trigger", "event": "x", "next": "s"}, {"id": "s", "type": "stop"}, {"id": "island", "type": "stop"}]}`)
	ps = unreachable.CheckPublish(nil)
	require.Equal(t, "island", ps[0].Node)

	loop := parse(t, `{"name": "j", "nodes": [{"id": "t", "type": "trigger", "event": "x", "next": "a"},
	  {"id": "a", "type": "action", "channel": "sms", "message_name": "m", "next": "b"},
	  {"id": "b", "type": "action", "channel": "sms", "message_name": "m", "next": "a"}]}`)
	ps = loop.CheckPublish(nil)
	require.Len(t, ps, 1)
	require.Contains(t, ps[0].Message, "loop with no wait_for_event")

	reminder := parse(t, `{"name": "j", "nodes": [{"id": "t", "type": "trigger", "event": "x", "next": "a"},
	  {"id": "a", "type": "action", "channel": "sms", "message_name": "nudge", "next": "w"},
	  {"id": "w", "type": "wait_for_event", "event": "paid", "within": "24h", "happened": "s", "timeout": "a"},
	  {"id": "s", "type": "stop"}]}`)
	require.Empty(t, reminder.CheckPublish(nil), "a loop through a wait is a reminder, not a spin")
}

func TestFilters(t *testing.T) {
	t.Parallel()
	attrs := map[string]any{"COUNTRY": "Canada", "AGE": json.Number("34"), "TAGS": []any{"vip", "beta"}, "EMPTY": ""}
	props := map[string]any{"total": 120.5, "items": []any{map[string]any{"sku": "A1"}}, "at": "2026-01-02T00:00:00Z"}
	tests := []struct {
		f    Filter
		want bool
	}{
		{Filter{Attribute: "country", Op: "eq", Value: "canada"}, true},
		{Filter{Attribute: "COUNTRY", Op: "ne", Value: "Canada"}, false},
		{Filter{Attribute: "CITY", Op: "ne", Value: "Pune"}, true},
		{Filter{Attribute: "COUNTRY", Op: "in", Value: []any{"India", "Canada"}}, true},
		{Filter{Attribute: "COUNTRY", Op: "contains", Value: "nad"}, true},
		{Filter{Attribute: "TAGS", Op: "contains", Value: "vip"}, true},
		{Filter{Attribute: "TAGS", Op: "contains", Value: "gold"}, false},
		{Filter{Attribute: "CITY", Op: "exists"}, false},
		{Filter{Attribute: "EMPTY", Op: "exists"}, false},
		{Filter{Attribute: "CITY", Op: "exists", Value: false}, true},
		{Filter{Attribute: "AGE", Op: "gt", Value: 30}, true},
		{Filter{Attribute: "AGE", Op: "lt", Value: "30"}, false},
		{Filter{Property: "total", Op: "gt", Value: 100}, true},
		{Filter{Property: "items.0.sku", Op: "eq", Value: "A1"}, true},
		{Filter{Property: "items.1.sku", Op: "exists"}, false},
		{Filter{Property: "at", Op: "gt", Value: "2025-12-31T23:00:00Z"}, true},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, MatchAll([]Filter{tt.f}, attrs, props), "%+v", tt.f)
	}
}

func TestReentry(t *testing.T) {
	t.Parallel()
	never, _ := ParseReentry("never")
	always, _ := ParseReentry("always")
	daily, _ := ParseReentry("after:24h")
	require.True(t, never.Allows(time.Time{}, t0), "a first entry is always allowed")
	require.False(t, never.Allows(t0, t0.Add(1000*time.Hour)))
	require.True(t, always.Allows(t0, t0))
	require.False(t, daily.Allows(t0, t0.Add(23*time.Hour)))
	require.True(t, daily.Allows(t0, t0.Add(24*time.Hour)))
	_, err := ParseReentry("after:soon")
	require.Error(t, err)
	_, err = ParseReentry("after:87601h")
	require.ErrorContains(t, err, "at most", "longer than ten years is refused")
	_, err = ParseReentry("after:87600h")
	require.NoError(t, err)
}

func TestTS(t *testing.T) {
	t.Parallel()
	require.EqualValues(t, 221202154805, TS(t0))
	require.EqualValues(t, 260101000000, TS(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)))
}
