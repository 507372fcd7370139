// Package templates holds the web UI's html/template pages, embedded in the
// binary. layout.html frames every page; each page file defines "title" and
// "content"; partials.html holds the pieces pages share.
package templates

import "embed"

// FS holds every template file.
//
//go:embed *.html
var FS embed.FS
