package app_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/models"
)

var (
	invitationLinkPattern = regexp.MustCompile(`/invitations/(hinv_[A-Za-z0-9]{40})`)
	inviteResultPattern   = regexp.MustCompile(`(?s)<div class="secret-once".*?</div>`)
	timePattern           = regexp.MustCompile(`<time [^>]*>[^<]*</time>`)
)

// outsider creates a user who is a member of another panel only.
func outsider(t *testing.T, env *apptest.Env, email, panel string) *models.User {
	t.Helper()
	ctx := context.Background()
	u, err := env.Store.CreateUser(ctx, email, uiPassword)
	require.NoError(t, err)
	p, err := env.Store.EnsurePanel(ctx, panel)
	require.NoError(t, err)
	require.NoError(t, env.Store.AddUserToPanel(ctx, u.ID, p.ID))
	return u
}

// invite invites an address from the settings page and returns the
// link's path, as the inviter sees it once when Herald sends no mail.
func invite(t *testing.T, ui *apptest.UI, email string) string {
	t.Helper()
	res := ui.Submit("/settings/users", url.Values{"email": {email}})
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	m := invitationLinkPattern.FindStringSubmatch(res.Body)
	require.NotNil(t, m, res.Body)
	return m[0]
}

// mailedInvite is invite for a link that reached the invited address by
// e-mail (as with SMTP configured), the only kind that takes a password.
func mailedInvite(t *testing.T, env *apptest.Env, ui *apptest.UI, email string) string {
	t.Helper()
	link := invite(t, ui, email)
	require.NoError(t, env.Store.MarkInvitationMailed(context.Background(), strings.TrimPrefix(link, "/invitations/")))
	return link
}

func panelEmails(t *testing.T, env *apptest.Env, panel string) []string {
	t.Helper()
	p, err := env.Store.EnsurePanel(context.Background(), panel)
	require.NoError(t, err)
	us, err := env.Store.PanelUsers(context.Background(), p.ID)
	require.NoError(t, err)
	var out []string
	for _, u := range us {
		out = append(out, u.Email)
	}
	return out
}

// The add-user form used to answer "X can now sign in" for an address with
// an account and "Created X" (or "password is required") for one without,
// and put an existing user in the panel there and then.
//
//nolint:paralleltest // the subtests post to one panel in turn, and the count after them includes what they did
func TestUIPanelUserInviteRevealsNothing(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	env.User(uiEmail, uiPassword)
	outsider(t, env, "carol@example.com", "rival")
	ui := env.SignIn(uiEmail, uiPassword)

	answer := func(email, password string) (int, string, []string) {
		res := ui.Submit("/settings/users", url.Values{"email": {email}, "password": {password}})
		box := inviteResultPattern.FindString(res.Body)
		box = invitationLinkPattern.ReplaceAllString(box, "/invitations/TOKEN")
		return res.Status, strings.ReplaceAll(box, email, "EMAIL"), res.Header.Values("Set-Cookie")
	}
	for _, password := range []string{"", "a-password-typed-by-the-inviter"} {
		existingStatus, existing, existingCookies := answer("carol@example.com", password)
		unknownStatus, unknown, unknownCookies := answer("newbie@example.com", password)
		require.Equal(t, http.StatusOK, existingStatus)
		require.Equal(t, unknownStatus, existingStatus, "the same status whether the address has an account or not")
		require.NotEmpty(t, existing)
		require.Contains(t, existing, "Invitation created for EMAIL")
		require.Equal(t, unknown, existing, "the same words whether the address has an account or not")
		require.Equal(t, unknownCookies, existingCookies, "no flash tells them apart either")
	}
	require.Equal(t, []string{uiEmail}, panelEmails(t, env, "acme_prod"), "nobody is added without accepting")
	_, err := env.Store.UserByEmail(context.Background(), "newbie@example.com")
	require.ErrorIs(t, err, models.ErrNotFound, "nor is an account made with the inviter's password")
	_, err = env.Store.CheckPassword(context.Background(), "carol@example.com", uiPassword)
	require.NoError(t, err)

	page := ui.Get("/settings").Body
	require.Contains(t, page, "carol@example.com", "listed as invited")
	require.Contains(t, page, "newbie@example.com")
	require.NotContains(t, page, "hinv_", "the link is shown once only")

	// Bad input is refused next to the field and changes nothing.
	for _, tc := range []struct {
		name, email string
		status      int
		want        string
	}{
		{"not an address", "not an address", http.StatusBadRequest, "Is not an e-mail address"},
		{"empty", "", http.StatusBadRequest, "Is not an e-mail address"},
		{"already a member", " ANA@example.com", http.StatusConflict, "Is already a member of this panel"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := ui.Submit("/settings/users", url.Values{"email": {tc.email}})
			require.Equal(t, tc.status, res.Status)
			require.Contains(t, res.Body, `data-error-for="email" >`+tc.want)
			require.NotContains(t, res.Body, "hinv_")
		})
	}
	pending, err := env.Store.PendingInvitations(context.Background(), env.Panel.ID)
	require.NoError(t, err)
	require.Len(t, pending, 2, "carol and newbie, each once: inviting again replaced the first")
}

//nolint:paralleltest // the subtests share the panel, Ana's session and the mailbox, one after the other
func TestUIInvitationAccept(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	env.User(uiEmail, uiPassword)
	ana := env.SignIn(uiEmail, uiPassword)
	ctx := context.Background()

	t.Run("existing account signed in", func(t *testing.T) {
		outsider(t, env, "carol@example.com", "rival")
		link := invite(t, ana, "carol@example.com")
		carol := env.SignIn("carol@example.com", uiPassword)
		page := carol.Get(link)
		require.Equal(t, http.StatusOK, page.Status)
		require.Contains(t, page.Body, "Join panel acme_prod")
		require.NotContains(t, page.Body, `name="password"`)
		require.NotContains(t, panelEmails(t, env, "acme_prod"), "carol@example.com", "opening the link joins nothing")

		res := carol.Post(link, url.Values{}, nil)
		require.Equal(t, http.StatusSeeOther, res.Status)
		require.Equal(t, "/webhooks", res.Location)
		require.Contains(t, panelEmails(t, env, "acme_prod"), "carol@example.com")
		home := carol.Get("/webhooks").Body
		require.Contains(t, home, "Welcome to panel acme_prod")
		require.Contains(t, home, `<option value="`+itoa(env.Panel.ID)+`" selected>acme_prod</option>`, "the session moved to the panel joined")

		require.Equal(t, http.StatusNotFound, carol.Post(link, url.Values{}, nil).Status, "single use")
		require.Equal(t, http.StatusNotFound, carol.Get(link).Status)
	})

	t.Run("existing account signed out", func(t *testing.T) {
		outsider(t, env, "dave@example.com", "rival")
		link := mailedInvite(t, env, ana, "dave@example.com")
		visitor := env.NewUI()
		page := visitor.Get(link)
		require.Equal(t, http.StatusOK, page.Status)
		require.Contains(t, page.Body, `name="password"`)
		loginURL := "/login?next=" + url.QueryEscape(link)
		require.Contains(t, page.Body, `href="/login?next=`)

		// Sign in first, come back, join.
		require.Equal(t, http.StatusOK, visitor.Get(loginURL).Status)
		res := visitor.Post("/login", url.Values{"email": {"dave@example.com"}, "password": {uiPassword}, "next": {link}}, nil)
		require.Equal(t, http.StatusSeeOther, res.Status)
		require.Equal(t, link, res.Location)
		require.Contains(t, visitor.Get(link).Body, "Join panel acme_prod")
		require.Equal(t, http.StatusSeeOther, visitor.Post(link, url.Values{}, nil).Status)
		require.Contains(t, panelEmails(t, env, "acme_prod"), "dave@example.com")
	})

	t.Run("existing account signed out types its password", func(t *testing.T) {
		outsider(t, env, "erin@example.com", "rival")
		link := mailedInvite(t, env, ana, "erin@example.com")
		visitor := env.NewUI()
		res := visitor.Follow(visitor.Post(link, url.Values{"password": {"not-erins-password"}}, nil))
		require.Equal(t, http.StatusUnauthorized, res.Status)
		require.Contains(t, res.Body, `data-error-for="password" >Is not the password of the Herald account of erin@example.com`)
		res = visitor.Follow(visitor.Post(link, url.Values{"password": {"short"}}, nil))
		require.Equal(t, http.StatusBadRequest, res.Status)
		require.Contains(t, res.Body, "Must be at least 8 characters")
		require.NotContains(t, panelEmails(t, env, "acme_prod"), "erin@example.com")
		_, err := env.Store.CheckPassword(ctx, "erin@example.com", uiPassword)
		require.NoError(t, err, "her password is unchanged")

		res = visitor.Post(link, url.Values{"password": {uiPassword}}, nil)
		require.Equal(t, http.StatusSeeOther, res.Status)
		require.Contains(t, res.Header.Get("Set-Cookie"), "herald_session=hs_")
		require.Contains(t, panelEmails(t, env, "acme_prod"), "erin@example.com")
		require.Contains(t, visitor.Get("/webhooks").Body, "erin@example.com", "signed in")
	})

	t.Run("new account", func(t *testing.T) {
		link := mailedInvite(t, env, ana, "frank@example.com")
		visitor := env.NewUI()
		res := visitor.Follow(visitor.Post(link, url.Values{"password": {"short"}}, nil))
		require.Equal(t, http.StatusBadRequest, res.Status)
		require.Contains(t, res.Body, `data-error-for="password" >Must be at least 8 characters`)
		_, err := env.Store.UserByEmail(ctx, "frank@example.com")
		require.ErrorIs(t, err, models.ErrNotFound)

		res = visitor.Post(link, url.Values{"password": {"franks-own-password"}}, nil)
		require.Equal(t, http.StatusSeeOther, res.Status)
		require.Equal(t, "/webhooks", res.Location)
		require.Contains(t, panelEmails(t, env, "acme_prod"), "frank@example.com")
		require.Contains(t, visitor.Get("/webhooks").Body, "frank@example.com")
		_, err = env.Store.CheckPassword(ctx, "frank@example.com", "franks-own-password")
		require.NoError(t, err)
		require.Equal(t, http.StatusNotFound, env.NewUI().Post(link, url.Values{"password": {"someone-elses-pw"}}, nil).Status, "single use")
	})

	t.Run("the signed-out page does not tell whether the address has an account", func(t *testing.T) {
		outsider(t, env, "gail@example.com", "rival")
		page := func(email string) string {
			link := invite(t, ana, email)
			body := env.NewUI().Get(link).Body
			body = strings.ReplaceAll(body, link[len("/invitations/"):], "TOKEN")
			body = timePattern.ReplaceAllString(body, "TIME")
			return strings.ReplaceAll(body, email, "EMAIL")
		}
		require.Equal(t, page("nobody-yet@example.com"), page("gail@example.com"))
	})

	t.Run("wrong user", func(t *testing.T) {
		link := invite(t, ana, "hank@example.com")
		for _, res := range []apptest.Result{ana.Get(link), ana.Follow(ana.Post(link, url.Values{"password": {uiPassword}}, nil))} {
			require.Equal(t, http.StatusForbidden, res.Status)
			require.Contains(t, res.Body, "This invitation is for <strong>hank@example.com</strong>, and you are signed in as <strong>ana@example.com</strong>")
		}
		_, err := env.Store.UserByEmail(ctx, "hank@example.com")
		require.ErrorIs(t, err, models.ErrNotFound)
		require.Equal(t, http.StatusOK, env.NewUI().Get(link).Status, "still there for hank")
	})
}

//nolint:paralleltest // the subtests compare their pages with the first one's, kept in a variable
func TestUIInvitationDeadLinks(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	env.User(uiEmail, uiPassword)
	ana := env.SignIn(uiEmail, uiPassword)
	ctx := context.Background()

	expired := invite(t, ana, "expired@example.com")
	require.NoError(t, env.Store.DBForTest().Exec(`UPDATE invitations SET created_at = now() - interval '8 days',
		expires_at = now() - interval '1 day' WHERE email = 'expired@example.com'`).Error)
	revoked := invite(t, ana, "revoked@example.com")
	pending, err := env.Store.PendingInvitations(ctx, env.Panel.ID)
	require.NoError(t, err)
	var revokedID int64
	for _, inv := range pending {
		if inv.Email == "revoked@example.com" {
			revokedID = inv.ID
		}
	}
	require.Equal(t, http.StatusSeeOther, ana.Post("/settings/invitations/"+itoa(revokedID)+"/revoke", url.Values{}, nil).Status)
	used := mailedInvite(t, env, ana, "used@example.com")
	require.Equal(t, http.StatusSeeOther, env.NewUI().Post(used, url.Values{"password": {"used-once-password"}}, nil).Status)
	replaced := invite(t, ana, "again@example.com")
	invite(t, ana, "again@example.com")

	var first string
	for _, tc := range []struct{ name, link string }{
		{"expired", expired}, {"revoked", revoked}, {"used", used}, {"replaced", replaced},
		{"unknown", "/invitations/hinv_" + strings.Repeat("x", 40)}, {"garbage", "/invitations/%00"},
		{"long", "/invitations/" + strings.Repeat("a", 5000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, res := range []apptest.Result{
				env.NewUI().Get(tc.link),
				env.NewUI().Post(tc.link, url.Values{"password": {"a-long-enough-password"}}, nil),
				ana.Get(tc.link),
			} {
				require.Equal(t, http.StatusNotFound, res.Status)
				require.Contains(t, res.Body, "This invitation link does not work")
				if first == "" {
					first = res.Body
				}
				if !strings.Contains(res.Body, uiEmail) { // signed out: the very same page
					require.Equal(t, first, res.Body)
				}
			}
		})
	}
	_, err = env.Store.UserByEmail(ctx, "expired@example.com")
	require.ErrorIs(t, err, models.ErrNotFound, "a dead link makes no account")
	require.ElementsMatch(t, []string{uiEmail, "used@example.com"}, panelEmails(t, env, "acme_prod"))
}

func TestUIInvitationRevokeAndIsolation(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	env.User(uiEmail, uiPassword)
	outsider(t, env, "rival@example.com", "rival")
	ana := env.SignIn(uiEmail, uiPassword)
	rival := env.SignIn("rival@example.com", uiPassword)
	ctx := context.Background()

	link := invite(t, ana, "ivy@example.com")
	pending, err := env.Store.PendingInvitations(ctx, env.Panel.ID)
	require.NoError(t, err)
	require.Len(t, pending, 1)
	revoke := "/settings/invitations/" + itoa(pending[0].ID) + "/revoke"

	// Another panel's member neither sees nor revokes it.
	require.NotContains(t, rival.Get("/settings").Body, "ivy@example.com")
	require.Equal(t, http.StatusNotFound, rival.Post(revoke, url.Values{}, nil).Status)
	require.Equal(t, http.StatusOK, env.NewUI().Get(link).Status, "still works")
	for _, bad := range []string{"/settings/invitations/abc/revoke", "/settings/invitations/0/revoke", "/settings/invitations/999999/revoke"} {
		require.Equal(t, http.StatusNotFound, ana.Post(bad, url.Values{}, nil).Status, bad)
	}

	page := ana.Get("/settings").Body
	require.Contains(t, page, "ivy@example.com")
	require.Contains(t, page, revoke)
	res := ana.Post(revoke, url.Values{}, nil)
	require.Equal(t, http.StatusSeeOther, res.Status)
	require.Equal(t, "/settings#users", res.Location)
	require.Contains(t, ana.Get("/settings").Body, "Invitation for ivy@example.com revoked")
	require.Equal(t, http.StatusNotFound, env.NewUI().Get(link).Status)
	require.Equal(t, http.StatusNotFound, ana.Post(revoke, url.Values{}, nil).Status, "once")
	require.Contains(t, ana.Get("/settings").Body, "No pending invitations.")
}

func TestUIPanelLeave(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	env.User(uiEmail, uiPassword, "acme_test") // acme_prod and acme_test
	env.User("bob@example.com", uiPassword)    // acme_prod
	ana := env.SignIn(uiEmail, uiPassword)
	require.Contains(t, ana.Get("/settings").Body, `action="/settings/leave"`)

	// Ana leaves acme_prod and lands in acme_test.
	res := ana.Post("/settings/leave", url.Values{}, nil)
	require.Equal(t, http.StatusSeeOther, res.Status)
	require.Equal(t, "/webhooks", res.Location)
	home := ana.Get("/webhooks")
	require.Equal(t, http.StatusOK, home.Status)
	require.Contains(t, home.Body, "You left panel acme_prod. You are in panel acme_test now.")
	require.Contains(t, home.Body, `title="Panel">acme_test<`)
	require.Equal(t, []string{"bob@example.com"}, panelEmails(t, env, "acme_prod"))
	again := env.SignIn(uiEmail, uiPassword)
	require.Contains(t, again.Get("/settings").Body, "· acme_test", "sign-in lands in a panel she is in")

	// The last member stays, and is told why.
	res = ana.Submit("/settings/leave", url.Values{})
	require.Equal(t, http.StatusConflict, res.Status)
	require.Contains(t, res.Body, "You are the only member of this panel")
	require.Equal(t, []string{uiEmail}, panelEmails(t, env, "acme_test"))

	// Leaving one's last panel signs one out.
	p, err := env.Store.EnsurePanel(context.Background(), "acme_test")
	require.NoError(t, err)
	bob, err := env.Store.UserByEmail(context.Background(), "bob@example.com")
	require.NoError(t, err)
	require.NoError(t, env.Store.AddUserToPanel(context.Background(), bob.ID, p.ID))
	res = ana.Post("/settings/leave", url.Values{}, nil)
	require.Equal(t, http.StatusSeeOther, res.Status)
	require.Equal(t, "/login", res.Location)
	login := ana.Get("/login")
	require.Contains(t, login.Body, "You left panel acme_test and belong to no panel now")
	require.Equal(t, http.StatusSeeOther, ana.Get("/webhooks").Status, "signed out")
	require.Equal(t, http.StatusSeeOther, again.Get("/webhooks").Status, "everywhere")
	require.Equal(t, []string{"bob@example.com"}, panelEmails(t, env, "acme_test"))
}

func TestUIInvitationMailed(t *testing.T) {
	t.Parallel()
	smtp := apptest.StartSMTP(t)
	env := apptest.Start(t, apptest.Options{NoWorker: true, Mail: &smtp.Config})
	env.User(uiEmail, uiPassword)
	code, raw := env.Call("PATCH", "/api/v1/settings", map[string]any{"time_zone": "Europe/Berlin"}, nil)
	require.Equal(t, http.StatusOK, code, raw)
	ana := env.SignIn(uiEmail, uiPassword)

	res := ana.Submit("/settings/users", url.Values{"email": {"Jo@Example.com"}})
	require.Equal(t, http.StatusOK, res.Status)
	require.Contains(t, res.Body, "Invitation e-mailed to jo@example.com.")
	var inv models.Invitation
	require.NoError(t, env.Store.DBForTest().Take(&inv, "email = ?", "jo@example.com").Error)
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	expires := inv.ExpiresAt.In(berlin).Format("2 Jan 2006 15:04 MST") + " (Europe/Berlin)"
	require.NotContains(t, expires, "UTC")
	require.Empty(t, invitationLinkPattern.FindString(res.Body), "with mail, the inviter never holds the link")
	mails := smtp.WaitFor(t, 10*time.Second, 1)
	require.Equal(t, []string{"jo@example.com"}, mails[0].To)
	require.Contains(t, mails[0].Subject, "ana@example.com invited you to panel acme_prod")
	link := invitationLinkPattern.FindString(mails[0].Text)
	require.NotEmpty(t, link)
	require.Contains(t, mails[0].HTML, link)
	require.Contains(t, mails[0].Text, "only for jo@example.com")
	require.Contains(t, mails[0].Text, "until "+expires+",", "the expiry in the panel's zone, named")
	require.Contains(t, mails[0].HTML, "until "+expires+",")
	require.NotContains(t, mails[0].Text, " UTC")
}

// The password form of an invitation is no way around sign-in's limits: it
// spends the invited account's budget of failures.
func TestUIInvitationPasswordIsRateLimited(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true, LoginRateLimit: 1000})
	env.User(uiEmail, uiPassword)
	outsider(t, env, "kim@example.com", "rival")
	link := mailedInvite(t, env, env.SignIn(uiEmail, uiPassword), "kim@example.com")
	guesser := env.NewUI()
	var post, res apptest.Result
	for i := range 20 {
		post = guesser.Post(link, url.Values{"password": {"guess-number-" + itoa(int64(i))}}, nil)
		if res = guesser.Follow(post); res.Status != http.StatusUnauthorized {
			break
		}
	}
	require.Equal(t, http.StatusTooManyRequests, res.Status)
	require.NotEmpty(t, post.Header.Get("Retry-After"))
	require.Contains(t, res.Body, "Too many attempts")
	other := env.NewUI()
	res = other.Follow(other.Post("/login", url.Values{"email": {"kim@example.com"}, "password": {"one-more-guess"}}, nil))
	require.Equal(t, http.StatusTooManyRequests, res.Status, "the same budget as sign-in")
	require.NotContains(t, panelEmails(t, env, "acme_prod"), "kim@example.com")
}

// Without mail the inviter sees the link, so it takes no password: the
// inviter can neither make an account in someone else's name with it nor
// learn whether the address has one. The owner signs in and joins.
func TestUIShownInvitationLinkTakesNoPassword(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	env.User(uiEmail, uiPassword)
	outsider(t, env, "olga@example.com", "rival")
	ana := env.SignIn(uiEmail, uiPassword)
	answers := map[string]string{}
	for _, email := range []string{"olga@example.com", "nobody-yet@example.com"} {
		link := invite(t, ana, email)
		page := env.NewUI().Get(link)
		require.Equal(t, http.StatusOK, page.Status)
		require.NotContains(t, page.Body, `name="password"`)
		require.Contains(t, page.Body, "Sign in as "+email)
		for _, password := range []string{uiPassword, "a-guess-of-the-inviter"} {
			visitor := env.NewUI()
			post := visitor.Post(link, url.Values{"password": {password}}, nil)
			require.NotContains(t, strings.Join(post.Header.Values("Set-Cookie"), "\n"), "herald_session", "nobody is signed in")
			res := visitor.Follow(post)
			require.Equal(t, http.StatusForbidden, res.Status)
			body := strings.NewReplacer(email, "EMAIL", link, "LINK", url.QueryEscape(link), "LINK").Replace(res.Body)
			answers[email+" "+password] = timePattern.ReplaceAllString(body, "TIME")
		}
	}
	require.Len(t, answers, 4)
	var first string
	for _, a := range answers {
		if first == "" {
			first = a
		}
		require.Equal(t, first, a, "the same answer whether the address has an account or not")
	}
	_, err := env.Store.UserByEmail(context.Background(), "nobody-yet@example.com")
	require.ErrorIs(t, err, models.ErrNotFound, "no account made through a shown link")
	require.NotContains(t, panelEmails(t, env, "acme_prod"), "olga@example.com")

	// Olga signs in and joins.
	olga := env.SignIn("olga@example.com", uiPassword)
	link := invite(t, ana, "olga@example.com")
	require.Equal(t, http.StatusSeeOther, olga.Post(link, url.Values{}, nil).Status)
	require.Contains(t, panelEmails(t, env, "acme_prod"), "olga@example.com")
}

// A refused acceptance of a mailed link redirects back to the link, which
// shows the message once; a reload neither posts again nor joins.
func TestUIInvitationAcceptPostRedirectGet(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	env.User(uiEmail, uiPassword)
	outsider(t, env, "ivy@example.com", "rival")
	link := mailedInvite(t, env, env.SignIn(uiEmail, uiPassword), "ivy@example.com")
	visitor := env.NewUI()
	const typed = "not-ivys-password"
	post := visitor.Post(link, url.Values{"password": {typed}}, nil)
	require.Equal(t, http.StatusSeeOther, post.Status)
	require.Equal(t, link, post.Location)
	require.Contains(t, strings.Join(post.Header.Values("Set-Cookie"), "\n"), "HttpOnly")

	page := visitor.Follow(post)
	require.Equal(t, http.StatusUnauthorized, page.Status)
	require.Contains(t, page.Body, "Is not the password of the Herald account of ivy@example.com")
	require.NotContains(t, page.Body, typed, "never the password")

	reload := visitor.Get(link)
	require.Equal(t, http.StatusOK, reload.Status)
	require.NotContains(t, reload.Body, "Is not the password", "shown once")
	require.NotContains(t, panelEmails(t, env, "acme_prod"), "ivy@example.com", "a reload joins nothing")
	require.Equal(t, http.StatusSeeOther, visitor.Get("/webhooks").Status, "nobody signed in")
}
