package httpx

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// A wrong JSON type is answered in words of what the field takes.
// (Matching "int" anywhere called an object, map[string]interface {}, a
// whole number.)
func TestTypeName(t *testing.T) {
	t.Parallel()
	for goType, want := range map[string]string{
		"int": "a whole number", "int64": "a whole number", "*uint16": "a whole number",
		"float64": "a number", "bool": "true or false", "string": "a string", "*string": "a string",
		"[]string": "a list", "*[]int64": "a list", "[]map[string]interface {}": "a list",
		"map[string]interface {}": "an object", "map[string]int": "an object", "api.webhookInput": "an object",
	} {
		require.Equal(t, want, typeName(goType), goType)
	}
}
