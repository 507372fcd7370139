// Package mail sends Herald's e-mail over SMTP (HERALD_SMTP_URL): the
// failure tracker's alerts (package health) and the web UI's invitations
// (app). It only carries messages; what they say is decided by their
// senders and the templates.
package mail

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Config says how Herald's e-mail (alerts, invitations) leaves.
type Config struct {
	// URL is HERALD_SMTP_URL: smtp://user:pass@host:port (STARTTLS when
	// the server offers it; ?starttls=required insists, ?starttls=none
	// never tries) or smtps://user:pass@host:port (implicit TLS).
	URL string
	// From is HERALD_ALERT_FROM.
	From string
	// TLSConfig overrides the TLS settings (tests trust a local server's
	// certificate with it).
	TLSConfig *tls.Config
	// SessionBudget is how long SendEachWith goes on starting copies in one
	// session; 0 means DefaultSessionBudget.
	SessionBudget time.Duration
}

// DefaultSessionBudget bounds how long one SendEachWith starts copies: an
// alert task holds a worker slot, which deliveries share, while it sends,
// and a slow mail server with 50 recipients would hold it for minutes.
// The recipients left are tried again in a later task.
const DefaultSessionBudget = 15 * time.Second

// smtpSettings is a parsed HERALD_SMTP_URL.
type smtpSettings struct {
	host, user, pass string
	port             int
	implicitTLS      bool
	policy           gomail.TLSPolicy
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
		s.port, s.policy = 25, gomail.TLSOpportunistic
		switch u.Query().Get("starttls") {
		case "", "opportunistic":
		case "required":
			s.policy = gomail.TLSMandatory
		case "none":
			s.policy = gomail.NoTLS
		default:
			return s, fmt.Errorf("starttls must be required, opportunistic or none")
		}
	case "smtps":
		s.port, s.implicitTLS, s.policy = 465, true, gomail.TLSMandatory
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
	cfg  Config
	smtp smtpSettings
}

// New checks the configuration; a Mailer without URL is nil.
func New(cfg Config) (*Mailer, error) {
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

// Refused reports whether err is the mail server refusing a recipient for
// good: a 5xx answer to RCPT TO (an address it does not know), which
// sending again does not change. Where the server gives an enhanced status
// code, only an address status (5.1.x) counts: a policy answer (5.7.x,
// such as a sender or relay check that some servers give at RCPT TO) is
// the operator's settings, which may be mended. A 4xx answer (greylisting,
// a full mailbox) or a connection that failed may pass on a later try.
func Refused(err error) bool {
	var send *gomail.SendError
	if !errors.As(err, &send) || send.Reason != gomail.ErrSMTPRcptTo {
		return false
	}
	if esc := send.EnhancedStatusCode(); esc != "" && !strings.HasPrefix(esc, "5.1.") {
		return false
	}
	code := send.ErrorCode()
	return code >= 500 && code < 600
}

// Send sends one message with a plain-text body and an HTML alternative.
func (m *Mailer) Send(ctx context.Context, to []string, subject, text, html string) error {
	msg, err := m.message(to, subject, Copy{Text: text, HTML: html})
	if err != nil {
		return err
	}
	client, err := m.client()
	if err != nil {
		return err
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return m.sendError(err)
	}
	return nil
}

// Missed is a recipient a message did not reach, and why.
type Missed struct {
	To  string
	Err error
}

// Copy is one recipient's message.
type Copy struct {
	Text, HTML string
	// Unsubscribe, when set, is the link that stops these messages to the
	// recipient: sent as List-Unsubscribe (RFC 2369) so mail programs offer
	// it, and, when it is https, as one-click (RFC 8058: the mail provider
	// POSTs to it), which large mailbox providers ask of senders.
	Unsubscribe string
}

// StopMark stands for each recipient's own stop link in a message
// rendered once for all its recipients (WithStopLink puts the link in):
// html/template leaves it unchanged, even in an href.
const StopMark = "herald-stop-link-placeholder"

// WithStopLink makes each recipient's copy of a message rendered once,
// with StopMark where the link goes: stop gives the recipient's link,
// which is also its List-Unsubscribe.
func WithStopLink(text, html string, stop func(to string) string) func(to string) Copy {
	return func(to string) Copy {
		link := stop(to)
		return Copy{Text: strings.ReplaceAll(text, StopMark, link), HTML: strings.ReplaceAll(html, StopMark, link), Unsubscribe: link}
	}
}

// SendEachWith sends a message to each recipient in a copy of their own
// (copyFor gives it: alerts carry a link that stops them for that address
// alone), in one session. A mail server that refuses one recipient of a message
// refuses the whole message, so one unknown address would keep it from
// everyone; apart, it keeps it from nobody else (and no recipient sees
// the others' addresses). sent are those it reached and missed the
// others; err, when it reached none, says why (the first recipient's
// error, or the session's). A copy can take the whole send timeout, and
// the session has no bound of its own, so it sends no copy less than
// copyTime before ctx's deadline, nor after its session budget (Config):
// those left are missed (ErrOutOfTime), for a later try, rather than the
// session outliving its task, whose retry sent every copy again, or
// holding a worker slot for minutes.
func (m *Mailer) SendEachWith(ctx context.Context, to []string, subject string, copyFor func(to string) Copy) (sent []string, missed []Missed, err error) {
	msgs := make([]*gomail.Msg, len(to))
	for i, rcpt := range to {
		if msgs[i], err = m.message([]string{rcpt}, subject, copyFor(rcpt)); err != nil {
			return nil, nil, err
		}
	}
	client, err := m.client()
	if err != nil {
		return nil, nil, err
	}
	if err := client.DialWithContext(ctx); err != nil {
		for _, rcpt := range to {
			missed = append(missed, Missed{To: rcpt, Err: m.sendError(err)})
		}
		return nil, missed, missed[0].Err
	}
	defer func() { _ = client.Close() }()
	deadline, bounded := ctx.Deadline()
	budget, start := cmp.Or(m.cfg.SessionBudget, DefaultSessionBudget), time.Now()
	for i, msg := range msgs {
		if ctx.Err() != nil || bounded && time.Until(deadline) < copyTime || i > 0 && time.Since(start) >= budget {
			for _, rcpt := range to[i:] {
				missed = append(missed, Missed{To: rcpt, Err: ErrOutOfTime})
			}
			break
		}
		// A copy the server took counts as sent even when what follows
		// it (a reset of the session) failed: else it went out twice.
		if err := client.Send(msg); err != nil && !msg.IsDelivered() {
			missed = append(missed, Missed{To: to[i], Err: m.sendError(err)})
			continue
		}
		sent = append(sent, to[i])
	}
	if len(sent) == 0 && len(missed) > 0 {
		return nil, missed, missed[0].Err
	}
	return sent, missed, nil
}

// copyTime is the longest one copy takes: the client's timeout (15 s),
// which go-mail renews once per message, covers the transaction, and the
// reset after it may take as long again (the no-op before each message is
// off: WithoutNoop); and a margin.
const copyTime = 35 * time.Second

// ErrOutOfTime is why a recipient SendEachWith had no time left for missed
// the message: a later try may reach them.
var ErrOutOfTime = errors.New("mail: not sent: no time left in this attempt for more copies")

// MissedError says which recipients were missed, and why, in one error.
func MissedError(missed []Missed) error {
	parts := make([]string, len(missed))
	for i, m := range missed {
		parts[i] = m.To + ": " + m.Err.Error()
	}
	return fmt.Errorf("not sent to %s", strings.Join(parts, "; "))
}

// AllRefused reports whether every recipient missed was refused for good.
func AllRefused(missed []Missed) bool {
	for _, m := range missed {
		if !Refused(m.Err) {
			return false
		}
	}
	return len(missed) > 0
}

func (m *Mailer) message(to []string, subject string, c Copy) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	if err := msg.From(m.cfg.From); err != nil {
		return nil, fmt.Errorf("mail: from %q: %w", m.cfg.From, err)
	}
	if err := msg.To(to...); err != nil {
		return nil, fmt.Errorf("mail: to: %w", err)
	}
	msg.Subject(subject)
	msg.SetBodyString(gomail.TypeTextPlain, c.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, c.HTML)
	if c.Unsubscribe != "" && msg.SetListUnsubscribeOneClick(c.Unsubscribe) != nil {
		msg.SetListUnsubscribe(c.Unsubscribe) // not https: one-click needs it
	}
	return msg, nil
}

func (m *Mailer) client() (*gomail.Client, error) {
	opts := []gomail.Option{gomail.WithPort(m.smtp.port), gomail.WithTimeout(15 * time.Second), gomail.WithTLSPolicy(m.smtp.policy),
		gomail.WithoutNoop()}
	if m.smtp.implicitTLS {
		opts = append(opts, gomail.WithSSL())
	}
	if m.cfg.TLSConfig != nil {
		opts = append(opts, gomail.WithTLSConfig(m.cfg.TLSConfig))
	} else {
		opts = append(opts, gomail.WithTLSConfig(&tls.Config{ServerName: m.smtp.host, MinVersion: tls.VersionTLS12}))
	}
	if m.smtp.user != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(m.smtp.user), gomail.WithPassword(m.smtp.pass))
	}
	client, err := gomail.NewClient(m.smtp.host, opts...)
	if err != nil {
		return nil, fmt.Errorf("mail: %w", err)
	}
	return client, nil
}

func (m *Mailer) sendError(err error) error {
	return fmt.Errorf("mail: send to %s:%d: %w", m.smtp.host, m.smtp.port, err)
}
