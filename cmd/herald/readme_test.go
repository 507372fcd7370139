package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The README's configuration table lists every variable the config reads,
// each with the default that defaults holds: the defaults are written
// once, in code, and the table cannot drift from them.
func TestREADMEListsEveryVariable(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	rows := map[string]string{} // variable → its default cell
	for _, m := range regexp.MustCompile("(?m)^\\| `(HERALD_[A-Z_]+)` \\| ([^|]*) \\|").FindAllStringSubmatch(string(readme), -1) {
		rows[m[1]] = strings.TrimSpace(m[2])
	}
	source, err := os.ReadFile("config.go")
	require.NoError(t, err)
	read := map[string]bool{}
	for _, m := range regexp.MustCompile(`"(HERALD_[A-Z_]+)"`).FindAllStringSubmatch(string(source), -1) {
		read[m[1]] = true
	}
	require.NotEmpty(t, read)
	for name := range read {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cell, ok := rows[name]
			require.True(t, ok, "the README's configuration table has no row for %s", name)
			if def, ok := defaults[name]; ok {
				require.Contains(t, cell, "`"+def+"`", "the README's default of %s", name)
			}
		})
	}
}
