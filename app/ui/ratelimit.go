package ui

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
)

// Failed sign-ins per account: a burst of loginAccountLimit, then one more
// every loginAccountPeriod/loginAccountLimit (90 s). That is plenty for a
// person mistyping and caps a guesser, from however many addresses, near
// a thousand guesses a day. The lockout is time-bounded: someone who
// fails on purpose can hold an account's budget empty only by going on
// failing, and the owner's next try comes within 90 s after they stop.
const (
	loginAccountLimit  = 10
	loginAccountPeriod = 15 * time.Minute
)

// allow takes one request from a budget every replica shares and, when it
// is spent, sets Retry-After. When Redis cannot answer the request goes
// through, as on the APIs: the limits protect Herald, and refusing every
// request would be the larger harm.
func (s *Handlers) allow(c *gin.Context, key string, limit int, per time.Duration) bool {
	if s.limiter == nil {
		return true
	}
	ok, wait, err := s.limiter.Allow(c.Request.Context(), key, limit, per)
	if err != nil {
		s.log.WarnContext(c.Request.Context(), "rate limiter unavailable; request allowed", "key", key, "error", err)
	}
	if !ok {
		c.Header("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
	}
	return ok
}

// loginAllowed takes a sign-in attempt from the client address's budget
// and the account's. The account's is taken before the password is
// checked, so parallel guesses cannot all slip through; loginSucceeded
// gives it back, and only failures count.
func (s *Handlers) loginAllowed(c *gin.Context, email string) bool {
	return s.allow(c, "login:"+clientAddr(c), s.cfg.LoginRateLimit, time.Minute) &&
		s.allow(c, accountKey(email), loginAccountLimit, loginAccountPeriod)
}

// loginSucceeded gives back the attempt loginAllowed took from the account.
func (s *Handlers) loginSucceeded(c *gin.Context, email string) {
	if s.limiter == nil {
		return
	}
	if err := s.limiter.Refund(c.Request.Context(), accountKey(email), loginAccountLimit, loginAccountPeriod); err != nil {
		s.log.WarnContext(c.Request.Context(), "sign-in attempt not given back", "error", err)
	}
}

// accountKey names an account's sign-in budget by a hash of the address
// as typed, normalised as the users table stores it: Redis holds no
// e-mail addresses, and "Ana@Example.com " shares ana@example.com's budget.
// Unknown addresses get budgets too, so a refusal tells nothing.
func accountKey(email string) string {
	sum := sha256.Sum256([]byte(models.NormalizeEmail(email)))
	return "login-account:" + hex.EncodeToString(sum[:16])
}

// clientAddr is the client's key in the rate limits: its address as
// ClientIP gives it (the socket's peer unless that is a trusted proxy),
// IPv4-mapped addresses as IPv4, and an IPv6 address as its /64, which one
// subscriber usually holds whole.
func clientAddr(c *gin.Context) string {
	ip := c.ClientIP()
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	if a = a.Unmap(); a.Is6() {
		return netip.PrefixFrom(a, 64).Masked().String()
	}
	return a.String()
}

// RateLimit bounds UI requests per minute: per session for a signed-in
// browser, so colleagues behind one address do not share a budget, and
// per client address otherwise, so inventing session cookies buys no
// fresh budget.
func (s *Handlers) RateLimit(c *gin.Context) {
	key := "ui:addr:" + clientAddr(c)
	if sess, err := s.sessionOf(c); err == nil && sess != nil {
		key = "ui:session:" + strconv.FormatInt(sess.ID, 10)
	}
	if s.allow(c, key, s.cfg.UIRateLimit, time.Minute) {
		c.Next()
		return
	}
	if WantsJSON(c) {
		c.AbortWithStatusJSON(http.StatusTooManyRequests, httpx.ErrorBody{Error: "too many requests: wait a minute and try again"})
		return
	}
	s.render(c, http.StatusTooManyRequests, "error", "Too many requests", "", httpx.ErrorBody{
		Error: "Too many requests from this browser. Wait a minute and try again."})
	c.Abort()
}
