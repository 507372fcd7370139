package jobs

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/url"
	"strconv"
	"time"

	mail "github.com/wneessen/go-mail"
)

// MailConfig says how alert e-mail leaves.
type MailConfig struct {
	// URL is HERALD_SMTP_URL: smtp://user:pass@host:port (STARTTLS when
	// the server offers it; ?starttls=required insists, ?starttls=none
	// never tries) or smtps://user:pass@host:port (implicit TLS).
	URL string
	// From is HERALD_ALERT_FROM.
	From string
	// TLSConfig overrides the TLS settings (tests trust a local server's
	// certificate with it).
	TLSConfig *tls.Config
}

// smtpSettings is a parsed HERALD_SMTP_URL.
type smtpSettings struct {
	host, user, pass string
	port             int
	implicitTLS      bool
	policy           mail.TLSPolicy
}

// ParseSMTPURL checks HERALD_SMTP_URL.
func ParseSMTPURL(raw string) (smtpSettings, error) {
	var s smtpSettings
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return s, fmt.Errorf("want smtp://user:pass@host:port or smtps://…")
	}
	s.host = u.Hostname()
	switch u.Scheme {
	case "smtp":
		s.port, s.policy = 25, mail.TLSOpportunistic
		switch u.Query().Get("starttls") {
		case "", "opportunistic":
		case "required":
			s.policy = mail.TLSMandatory
		case "none":
			s.policy = mail.NoTLS
		default:
			return s, fmt.Errorf("starttls must be required, opportunistic or none")
		}
	case "smtps":
		s.port, s.implicitTLS, s.policy = 465, true, mail.TLSMandatory
	default:
		return s, fmt.Errorf("the scheme must be smtp or smtps")
	}
	if p := u.Port(); p != "" {
		if s.port, err = strconv.Atoi(p); err != nil || s.port <= 0 || s.port > 65535 {
			return s, fmt.Errorf("%q is not a port", p)
		}
	}
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
	}
	return s, nil
}

// Mailer sends e-mail over SMTP.
type Mailer struct {
	cfg  MailConfig
	smtp smtpSettings
}

// NewMailer checks the configuration; a Mailer without URL is nil.
func NewMailer(cfg MailConfig) (*Mailer, error) {
	if cfg.URL == "" {
		return nil, nil
	}
	s, err := ParseSMTPURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.From == "" {
		cfg.From = "herald@localhost"
	}
	return &Mailer{cfg: cfg, smtp: s}, nil
}

// Send sends one message with a plain-text body and an HTML alternative.
func (m *Mailer) Send(ctx context.Context, to []string, subject, text, html string) error {
	msg := mail.NewMsg()
	if err := msg.From(m.cfg.From); err != nil {
		return fmt.Errorf("mail: from %q: %w", m.cfg.From, err)
	}
	if err := msg.To(to...); err != nil {
		return fmt.Errorf("mail: to: %w", err)
	}
	msg.Subject(subject)
	msg.SetBodyString(mail.TypeTextPlain, text)
	msg.AddAlternativeString(mail.TypeTextHTML, html)
	opts := []mail.Option{mail.WithPort(m.smtp.port), mail.WithTimeout(15 * time.Second), mail.WithTLSPolicy(m.smtp.policy)}
	if m.smtp.implicitTLS {
		opts = append(opts, mail.WithSSL())
	}
	if m.cfg.TLSConfig != nil {
		opts = append(opts, mail.WithTLSConfig(m.cfg.TLSConfig))
	} else {
		opts = append(opts, mail.WithTLSConfig(&tls.Config{ServerName: m.smtp.host, MinVersion: tls.VersionTLS12}))
	}
	if m.smtp.user != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(m.smtp.user), mail.WithPassword(m.smtp.pass))
	}
	client, err := mail.NewClient(m.smtp.host, opts...)
	if err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("mail: send to %s:%d: %w", m.smtp.host, m.smtp.port, err)
	}
	return nil
}
