package models

import (
	"cmp"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// MaxNumberExponent bounds a JSON number's exponent either way. jsonb
// keeps a number as numeric, which PostgreSQL writes out digit by digit on
// every read: 1e131000 is 8 bytes sent and stored, and 131,001 digits read
// back, so a 3 KB event made a contact of 26 MB that every later event,
// page and template read again.
const MaxNumberExponent = 1000

// minNumberGrowth is how many digits a document's numbers may add when
// written out, however short the document (see CheckNumbers).
const minNumberGrowth = 4096

// NumberError is a JSON number over the bounds, and where it is.
type NumberError struct {
	// Path names it: user.score, items[2].n ("" for the document).
	Path string
	// Growth: the document's numbers together, rather than this one,
	// would be written out too long.
	Growth bool
}

func (e *NumberError) Error() string {
	what := fmt.Sprintf("is a number with an exponent over %d", MaxNumberExponent)
	if e.Growth {
		what = "is one number too many with a large exponent: written out, the numbers would be far longer than the document"
	}
	if e.Path == "" {
		return what
	}
	return e.Path + ": " + what
}

// CheckNumbers checks the numbers of a decoded JSON value (numbers as
// json.Number, as DecodeExact gives them) that came from a document of
// size bytes, before it is stored as jsonb: no exponent over
// MaxNumberExponent, and no more digits added by writing them all out
// than the document's own size (4 KiB at least). A per-number bound
// alone let 1e1000, 7 bytes each, read back 143 times larger.
func CheckNumbers(v any, size int) *NumberError {
	budget := max(size, minNumberGrowth)
	return checkNumbers(v, "", &budget)
}

func checkNumbers(v any, path string, budget *int) *NumberError {
	switch x := v.(type) {
	case json.Number:
		growth, ok := numberGrowth(string(x))
		if !ok {
			return &NumberError{Path: path}
		}
		if *budget -= growth; *budget < 0 {
			return &NumberError{Path: path, Growth: true}
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys) // the same document names the same field
		for _, k := range keys {
			if err := checkNumbers(x[k], joinPath(path, k), budget); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range x {
			if err := checkNumbers(e, path+"["+strconv.Itoa(i)+"]", budget); err != nil {
				return err
			}
		}
	}
	return nil
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// numberGrowth is about how many characters writing a JSON number out in
// full adds to its text (1e1000: 1,001 digits for 6 bytes), and ok false
// when its exponent is over MaxNumberExponent either way.
func numberGrowth(n string) (growth int, ok bool) {
	at := strings.IndexAny(n, "eE")
	if at < 0 {
		return 0, true
	}
	digits := strings.TrimLeft(strings.TrimLeft(n[at+1:], "+-"), "0")
	if len(digits) > 4 {
		return 0, false
	}
	exp, err := strconv.Atoi(cmp.Or(digits, "0"))
	if err != nil || exp > MaxNumberExponent {
		return 0, false
	}
	return max(0, exp-len(n)), true
}
