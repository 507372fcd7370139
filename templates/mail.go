// Package templates holds Herald's html/template pages and e-mails,
// embedded in the binary.
package templates

import (
	"bytes"
	"embed"
	htmltemplate "html/template"
	"sync"
	texttemplate "text/template"
)

//go:embed mail/*.tmpl
var mailFiles embed.FS

// MailTemplates is one e-mail's two templates, mail/<name>.html.tmpl
// (HTML, escaped) and mail/<name>.txt.tmpl (plain text), parsed once.
type MailTemplates struct {
	html *htmltemplate.Template
	text *texttemplate.Template
}

// Render writes the e-mail for v: its plain text and its HTML.
func (m *MailTemplates) Render(v any) (text, html string, err error) {
	var tb, hb bytes.Buffer
	if err := m.text.Execute(&tb, v); err != nil {
		return "", "", err
	}
	if err := m.html.Execute(&hb, v); err != nil {
		return "", "", err
	}
	return tb.String(), hb.String(), nil
}

// Each e-mail's templates, parsed on first use and shared from then on
// (concurrent senders render the same parsed templates, which is safe).
var (
	// Mail is the alert e-mail (alert.*.tmpl).
	Mail = mailPair("alert")
	// TestAlertMail is the test alert (test_alert.*.tmpl): Panel, Stop.
	TestAlertMail = mailPair("test_alert")
	// InvitationMail is the invitation (invitation.*.tmpl): Inviter,
	// Panel, Email, Link and Expires.
	InvitationMail = mailPair("invitation")
	// RecipientConfirmMail asks an alert recipient's owner to agree
	// (recipient_confirm.*.tmpl): Panel, Email, Link and Expires.
	RecipientConfirmMail = mailPair("recipient_confirm")
)

// mailPair parses an e-mail's two templates once, when first asked for.
func mailPair(name string) func() (*MailTemplates, error) {
	return sync.OnceValues(func() (*MailTemplates, error) {
		html, err := htmltemplate.ParseFS(mailFiles, "mail/"+name+".html.tmpl")
		if err != nil {
			return nil, err
		}
		text, err := texttemplate.ParseFS(mailFiles, "mail/"+name+".txt.tmpl")
		if err != nil {
			return nil, err
		}
		return &MailTemplates{html: html, text: text}, nil
	})
}
