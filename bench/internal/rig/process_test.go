package rig

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestStatCPUSeconds(t *testing.T) {
	t.Parallel()
	// pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime ...
	line := []byte("4242 (postgres: a (b) c) S 1 4242 4242 0 -1 4194560 10 0 0 0 250 50 1000 200 20 0 1 0 100 0 0")
	for _, tc := range []struct {
		name     string
		children bool
		want     float64
	}{
		{"own time", false, 3},
		{"with exited children", true, 15},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.InDelta(t, tc.want, statCPUSeconds(line, tc.children), 1e-9)
		})
	}
	require.Zero(t, statCPUSeconds([]byte("garbage"), false))
}
