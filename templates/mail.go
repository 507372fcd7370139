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
	return mailPair("alert")
}

// TestAlertMail returns the test alert's templates: test_alert.html.tmpl
// and test_alert.txt.tmpl. Both get Panel and Stop.
func TestAlertMail() (*htmltemplate.Template, *texttemplate.Template, error) {
	return mailPair("test_alert")
}

// mailPair parses an e-mail's two templates, mail/<name>.html.tmpl (HTML,
// escaped) and mail/<name>.txt.tmpl (plain text).
func mailPair(name string) (*htmltemplate.Template, *texttemplate.Template, error) {
	html, err := htmltemplate.ParseFS(mailFiles, "mail/"+name+".html.tmpl")
	if err != nil {
		return nil, nil, err
	}
	text, err := texttemplate.ParseFS(mailFiles, "mail/"+name+".txt.tmpl")
	if err != nil {
		return nil, nil, err
	}
	return html, text, nil
}
