// Package templates holds Herald's html/template pages and e-mails,
// embedded in the binary.
package templates

import (
	"embed"
	htmltemplate "html/template"
	texttemplate "text/template"
)

//go:embed mail/*.tmpl
var mailFiles embed.FS

// Mail returns the alert e-mail templates: alert.html.tmpl (HTML, escaped)
// and alert.txt.tmpl (plain text).
func Mail() (*htmltemplate.Template, *texttemplate.Template, error) {
	html, err := htmltemplate.ParseFS(mailFiles, "mail/alert.html.tmpl")
	if err != nil {
		return nil, nil, err
	}
	text, err := texttemplate.ParseFS(mailFiles, "mail/alert.txt.tmpl")
	if err != nil {
		return nil, nil, err
	}
	return html, text, nil
}
