package models

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// MaxNumberExponent bounds a JSON number's exponent either way. jsonb
// keeps a number as numeric, which PostgreSQL writes out digit by digit on
// every read: 1e131000 is 8 bytes sent and stored, and 131,001 digits read
// back, so a 3 KB event made a contact of 26 MB that every later event,
// page and template read again.
const MaxNumberExponent = 1000

// numberGrowthFactor and minNumberGrowth bound how many characters a
// document's numbers may add, together, when PostgreSQL writes them out:
// 8 times the document's length, 1 KiB at least. A bound per number alone
// let 1e1000s, 7 bytes each, read back 143 times larger; a larger floor
// let many small events add up on one contact.
const (
	numberGrowthFactor = 8
	minNumberGrowth    = 1024
)

// PostgreSQL's numeric holds at most this many digits before the decimal
// point and after it; a number past either is refused at insert, which
// for a value saved from a receiver's answer held its run for good.
const (
	maxNumericIntDigits  = 131072
	maxNumericFracDigits = 16383
)

// NumberError is a JSON number over the bounds, and where it is.
type NumberError struct {
	// Path names it: user.score, items[2].n ("" for the document).
	Path string
	// Growth: the document's numbers together, rather than this one,
	// would be written out too long.
	Growth bool
}

func (e *NumberError) Error() string {
	what := fmt.Sprintf("is a number with an exponent over %d, or more digits than PostgreSQL keeps", MaxNumberExponent)
	if e.Growth {
		what = "is one number too many with a large exponent: written out, the numbers would be far longer than the document"
	}
	if e.Path == "" {
		return what
	}
	return e.Path + ": " + what
}

// NumberBudget is what the numbers of one stored value may add written
// out; the values checked against one budget share it.
type NumberBudget struct{ left int }

// NewNumberBudget is the budget of a value that came as a document of
// size bytes (see numberGrowthFactor).
func NewNumberBudget(size int) *NumberBudget {
	return &NumberBudget{left: max(numberGrowthFactor*size, minNumberGrowth)}
}

// CheckNumbers checks the numbers of a decoded JSON value (numbers as
// json.Number, as DecodeExact gives them) that came as a document of size
// bytes, before it is stored as jsonb (NewNumberBudget).
func CheckNumbers(v any, size int) *NumberError {
	return NewNumberBudget(size).Check(v)
}

// Check spends the budget on v's numbers: none may have an exponent over
// MaxNumberExponent or more digits than numeric keeps, and together they
// may not add more than is left.
func (b *NumberBudget) Check(v any) *NumberError {
	// Maps are walked in Go's order, which costs nothing; only a value
	// found wrong is walked again in key order, so that the same document
	// always names the same field.
	left := b.left
	if b.check(v, "", false) == nil {
		return nil
	}
	b.left = left
	return b.check(v, "", true)
}

func (b *NumberBudget) check(v any, path string, sorted bool) *NumberError {
	switch x := v.(type) {
	case json.Number:
		written, ok := writtenOut(string(x))
		if !ok {
			return &NumberError{Path: path}
		}
		if b.left -= max(0, written-len(x)); b.left < 0 {
			return &NumberError{Path: path, Growth: true}
		}
	case map[string]any:
		if !sorted {
			for _, e := range x {
				if err := b.check(e, "", false); err != nil {
					return err
				}
			}
			return nil
		}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if err := b.check(x[k], joinPath(path, k), true); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range x {
			p := path
			if sorted {
				p += "[" + strconv.Itoa(i) + "]"
			}
			if err := b.check(e, p, sorted); err != nil {
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

// writtenOut is about how long PostgreSQL writes a JSON number out
// (1e1000: 1,001 digits; 1.5e-30: 0.0…015, 33 characters), and ok false
// when its exponent is over MaxNumberExponent either way or numeric
// cannot hold it.
func writtenOut(n string) (length int, ok bool) {
	s := strings.TrimPrefix(n, "-")
	mantissa, exponent, _ := strings.Cut(strings.ToLower(s), "e")
	// Zero is written "0" (with the fraction digits its exponent leaves,
	// 0.00e1 is 0.0) however large its exponent: PostgreSQL reads
	// exponents of up to six digits of it.
	zero := strings.Trim(mantissa, "0.") == "" && !strings.HasPrefix(exponent, "-")
	exp := 0
	if exponent != "" {
		digits := strings.TrimLeft(strings.TrimLeft(exponent, "+-"), "0")
		maxDigits := 4 // MaxNumberExponent's
		if zero {
			maxDigits = 6
		}
		if len(digits) > maxDigits {
			return 0, false
		}
		e, err := strconv.Atoi(cmp.Or(digits, "0"))
		if err != nil || (e > MaxNumberExponent && !zero) {
			return 0, false
		}
		if strings.HasPrefix(exponent, "-") {
			e = -e
		}
		exp = e
	}
	whole, frac, _ := strings.Cut(mantissa, ".")
	intDigits := max(1, len(strings.TrimLeft(whole, "0"))+exp)
	if zero {
		intDigits = 1
	}
	fracDigits := max(0, len(frac)-exp)
	if intDigits > maxNumericIntDigits || fracDigits > maxNumericFracDigits {
		return 0, false
	}
	return len(n) - len(s) + intDigits + min(fracDigits, 1) + fracDigits, true
}
