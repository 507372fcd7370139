package ui

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// A marketer types a duration as a number and a unit; the journey keeps
// the Go duration the API takes ("30m", "72h"). These functions convert
// between the two and say a duration in words, and are pure.

// durationUnit is one choice of a duration's unit select.
type durationUnit struct {
	Name string // seconds, minutes, hours, days: the select's value and label
	Size time.Duration
}

// durationUnits are the units offered, smallest first.
var durationUnits = []durationUnit{
	{"seconds", time.Second}, {"minutes", time.Minute}, {"hours", time.Hour}, {"days", 24 * time.Hour},
}

// durationField is a duration as its form shows it, or as it was typed.
type durationField struct{ Number, Unit string }

// splitDuration writes d in the largest unit that holds it whole (90m is
// 90 minutes, 48h is 2 days); below a second it is a decimal of seconds.
// Zero or less is an empty number in minutes, the form's default.
func splitDuration(d time.Duration) durationField {
	if d <= 0 {
		return durationField{Unit: "minutes"}
	}
	for i := len(durationUnits) - 1; i >= 0; i-- {
		u := durationUnits[i]
		if d%u.Size == 0 {
			return durationField{Number: strconv.FormatInt(int64(d/u.Size), 10), Unit: u.Name}
		}
	}
	return durationField{Number: strconv.FormatFloat(d.Seconds(), 'f', -1, 64), Unit: "seconds"}
}

// splitStored splits a stored Go duration for the form; what does not
// parse is shown as typed, in no unit, for the marketer to fix.
func splitStored(s string) durationField {
	if s == "" {
		return durationField{Unit: "minutes"}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return durationField{Number: s}
	}
	return splitDuration(d)
}

// parseDuration reads a number (decimals allowed) of a unit into a
// duration between lo and hi, rounded to the millisecond. Its errors are
// the field's message.
func parseDuration(f durationField, lo, hi time.Duration) (time.Duration, error) {
	var size time.Duration
	for _, u := range durationUnits {
		if u.Name == f.Unit {
			size = u.Size
		}
	}
	if size == 0 {
		return 0, errors.New("pick a unit: seconds, minutes, hours or days")
	}
	x, err := strconv.ParseFloat(strings.TrimSpace(f.Number), 64)
	switch {
	case strings.TrimSpace(f.Number) == "":
		return 0, errors.New("type a number")
	case err != nil && !errors.Is(err, strconv.ErrRange), math.IsNaN(x):
		return 0, errors.New("must be a number, such as 30 or 1.5")
	case x <= 0:
		return 0, fmt.Errorf("must be more than 0 (at least %s)", durationWords(lo))
	case math.IsInf(x, 0) || x*float64(size) > float64(hi):
		return 0, fmt.Errorf("must be at most %s", durationWords(hi))
	}
	d := time.Duration(math.Round(x*float64(size)/float64(time.Millisecond))) * time.Millisecond
	if d < lo {
		return 0, fmt.Errorf("must be at least %s", durationWords(lo))
	}
	return d, nil
}

// goDuration writes d as the API's Go duration, without the zero parts
// time.Duration.String adds: "30m", "72h", "1h30m", "1.5s".
func goDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// durationWords says d for people: "30 minutes", "1 day", "1.5 seconds".
func durationWords(d time.Duration) string {
	f := splitDuration(d)
	if f.Number == "" {
		return "no time"
	}
	unit := f.Unit
	if f.Number == "1" {
		unit = strings.TrimSuffix(unit, "s")
	}
	return f.Number + " " + unit
}

// storedWords says a stored Go duration in words; one that does not
// parse is quoted as stored.
func storedWords(s string) string {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return "“" + s + "”"
	}
	return durationWords(d)
}

// parseSeconds reads a number of seconds (decimals allowed: 0.5) into
// whole milliseconds between 0 and maxMS, for the webhook's batch wait.
func parseSeconds(s string, maxMS int) (int, error) {
	s = strings.TrimSpace(s)
	x, err := strconv.ParseFloat(s, 64)
	bounds := fmt.Errorf("must be between 0 and %s seconds", secondsText(maxMS))
	switch {
	case s == "":
		return 0, errors.New("type a number of seconds (0 sends at once)")
	case err != nil && !errors.Is(err, strconv.ErrRange), math.IsNaN(x):
		return 0, errors.New("must be a number of seconds, such as 1 or 0.5")
	case x < 0 || math.IsInf(x, 0) || x*1000 > float64(maxMS):
		return 0, bounds
	}
	if math.Abs(x*1000-math.Round(x*1000)) > 1e-6 {
		return 0, errors.New("must be whole milliseconds (at most 3 decimals)")
	}
	return int(math.Round(x * 1000)), nil
}

// secondsText writes milliseconds as seconds: 1500 is "1.5".
func secondsText(ms int) string {
	return strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)
}
