package health

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/heraldhq/herald/jobs/mail"
	"github.com/heraldhq/herald/jobs/ratelimit"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/templates"
)

// Consent asks the owner of an address added as an alert recipient
// whether they want the panel's alerts (double opt-in): it mails them a
// link, and the recipient gets alerts only once they agree through it
// (models.ConfirmRecipient). The API and the UI both use it.
type Consent struct {
	Store   *models.Store
	Mailer  *mail.Mailer // nil: SMTP is not configured, so no link can go
	Limiter *ratelimit.Limiter
	Log     *slog.Logger
}

// Links a panel may have mailed in an hour, and an address may be mailed
// in an hour by all panels together: plenty to set up a team, too few to
// spam anyone through Herald's mail server. Within a panel, an address
// gets a link at most every models.RecipientConfirmEvery.
const (
	consentPerPanel   = 20
	consentPerAddress = 5
	consentPeriod     = time.Hour
)

// AskOutcome says what Ask did.
type AskOutcome string

const (
	// AskSent: the link went to the address.
	AskSent AskOutcome = "sent"
	// AskNoMailer: SMTP is not configured; the recipient waits, and the
	// link can be sent again once it is.
	AskNoMailer AskOutcome = "not_configured"
	// AskFailed: the mail server did not take it (logged); it can be
	// sent again at once.
	AskFailed AskOutcome = "failed"
)

// askTimeout bounds the wait for the mail server: Ask runs within a
// person's request.
const askTimeout = 20 * time.Second

// Ask mails the owner of the panel's unconfirmed recipient the link to
// agree (or say no), built by link from the token. It refuses, as the
// store does (models.NewRecipientConfirmation), a recipient not the
// panel's, one confirmed already, an address whose owner said no, and one
// asked within models.RecipientConfirmEvery; and, with a
// models.TooSoonError, past the hourly limits of the panel and of the
// address. A refused ask leaves the link already mailed working.
func (c *Consent) Ask(ctx context.Context, panel *models.Panel, recipientID int64, link func(token string) string) (AskOutcome, error) {
	if c.Mailer == nil {
		return AskNoMailer, nil
	}
	// The hourly limits are taken inside the store's transaction, once
	// its own checks passed; whatever then keeps the link from going
	// gives them back.
	var taken []consentLimit
	l, err := c.Store.NewRecipientConfirmation(ctx, panel.ID, recipientID, func(r *models.AlertRecipient) error {
		for _, lim := range consentLimits(panel, r) {
			took, err := c.take(ctx, lim)
			if err != nil {
				return err
			}
			if took {
				taken = append(taken, lim)
			}
		}
		return nil
	})
	if err != nil {
		c.giveBack(ctx, taken)
		return "", err
	}
	if err := c.mail(ctx, panel, l.Recipient, link(l.Token)); err != nil {
		c.Log.WarnContext(ctx, "alert recipient's confirmation link not sent", "panel_id", panel.ID, "recipient_id", recipientID, "error", err)
		c.giveBack(ctx, taken)
		if err := c.Store.RecipientLinkNotSent(context.WithoutCancel(ctx), l); err != nil {
			return "", err
		}
		return AskFailed, nil
	}
	if err := c.Store.RecipientLinkSent(context.WithoutCancel(ctx), l); err != nil {
		return "", err
	}
	return AskSent, nil
}

// consentLimit is one of the hourly limits on links.
type consentLimit struct {
	key   string
	limit int
	why   string
}

func consentLimits(panel *models.Panel, r *models.AlertRecipient) []consentLimit {
	return []consentLimit{
		{"consent:panel:" + strconv.FormatInt(panel.ID, 10), consentPerPanel, "this panel asked many addresses in the last hour"},
		{"consent:to:" + models.EmailKey(r.Email), consentPerAddress, r.Email + " was asked many times in the last hour"},
	}
}

// limiterTimeout bounds a call to the limiter: it runs while the store
// holds the recipient's rows and a connection.
const limiterTimeout = 2 * time.Second

// take takes one from a limit shared by every replica (took); with the
// limiter out of reach it lets the link go (and logs it), as other limits
// do; past the limit it is a models.TooSoonError.
func (c *Consent) take(ctx context.Context, lim consentLimit) (took bool, err error) {
	if c.Limiter == nil {
		return false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, limiterTimeout)
	defer cancel()
	ok, wait, err := c.Limiter.Allow(ctx, lim.key, lim.limit, consentPeriod)
	if err != nil {
		c.Log.WarnContext(ctx, "rate limiter unavailable; confirmation link allowed", "key", lim.key, "error", err)
		return false, nil
	}
	if ok {
		return true, nil
	}
	return false, &models.TooSoonError{Retry: wait, Message: fmt.Sprintf("no link sent: %s; try again in %s", lim.why, models.Minutes(wait))}
}

// giveBack returns what take took for a link that did not go.
func (c *Consent) giveBack(ctx context.Context, taken []consentLimit) {
	for _, lim := range taken {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), limiterTimeout)
		if err := c.Limiter.Refund(rctx, lim.key, lim.limit, consentPeriod); err != nil {
			c.Log.WarnContext(ctx, "confirmation link's limit not given back", "key", lim.key, "error", err)
		}
		cancel()
	}
}

func (c *Consent) mail(ctx context.Context, panel *models.Panel, r *models.AlertRecipient, link string) error {
	t, err := templates.RecipientConfirmMail()
	if err != nil {
		return err
	}
	text, html, err := t.Render(map[string]string{"Panel": panel.Name, "Email": r.Email, "Link": link,
		"Expires": models.ZonedTime(*r.ConfirmExpiresAt, panel.Location())})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), askTimeout)
	defer cancel()
	return c.Mailer.Send(ctx, []string{r.Email}, "[Herald] Alert e-mail for panel "+panel.Name+"?", text, html)
}
