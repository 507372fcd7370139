package templates

import (
	htmltemplate "html/template"
	texttemplate "text/template"
)

// InvitationMail returns the invitation e-mail templates:
// invitation.html.tmpl (HTML, escaped) and invitation.txt.tmpl (plain
// text). Both get Inviter, Panel, Email, Link and Expires.
func InvitationMail() (*htmltemplate.Template, *texttemplate.Template, error) {
	return mailPair("invitation")
}

// RecipientConfirmMail returns the e-mail that asks an alert recipient's
// owner to agree: recipient_confirm.html.tmpl (HTML, escaped) and
// recipient_confirm.txt.tmpl (plain text). Both get Panel, Email, Link and
// Expires.
func RecipientConfirmMail() (*htmltemplate.Template, *texttemplate.Template, error) {
	return mailPair("recipient_confirm")
}
