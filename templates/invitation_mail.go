package templates

import (
	htmltemplate "html/template"
	texttemplate "text/template"
)

// InvitationMail returns the invitation e-mail templates:
// invitation.html.tmpl (HTML, escaped) and invitation.txt.tmpl (plain
// text). Both get Inviter, Panel, Email, Link and Expires.
func InvitationMail() (*htmltemplate.Template, *texttemplate.Template, error) {
	html, err := htmltemplate.ParseFS(mailFiles, "mail/invitation.html.tmpl")
	if err != nil {
		return nil, nil, err
	}
	text, err := texttemplate.ParseFS(mailFiles, "mail/invitation.txt.tmpl")
	if err != nil {
		return nil, nil, err
	}
	return html, text, nil
}
