// Package web holds the web UI's static files, embedded in the binary: one
// hand-written stylesheet and a little JavaScript. Nothing is loaded from
// anywhere else.
package web

import "embed"

// FS holds the static files, served under /static/.
//
//go:embed *.css *.js
var FS embed.FS
