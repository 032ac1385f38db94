package hosted_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/api/apitest"
	"github.com/unilogin/unilogin/config"
)

func TestHostedAuthorizeValidation(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	a := apitest.PublicApp()
	for name, tc := range map[string]struct {
		Mutate func(url.Values)
		Status int
		appErr string
	}{
		"unknown client":          {func(q url.Values) { q.Set("client_id", "nope") }, 400, ""},
		"unregistered redirect":   {func(q url.Values) { q.Set("redirect_uri", "https://evil.example/cb") }, 400, ""},
		"repeated client_id":      {func(q url.Values) { q.Add("client_id", apitest.PublicClientID) }, 400, ""},
		"response_type token":     {func(q url.Values) { q.Set("response_type", "token") }, 302, "unsupported_response_type"},
		"missing response_type":   {func(q url.Values) { q.Del("response_type") }, 302, "invalid_request"},
		"public without PKCE":     {func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }, 302, "invalid_request"},
		"plain challenge method":  {func(q url.Values) { q.Set("code_challenge_method", "plain") }, 302, "invalid_request"},
		"valid request: the form": {func(url.Values) {}, 200, ""},
	} {
		t.Run(name, func(t *testing.T) {
			q := apitest.AuthorizeQuery(a)
			tc.Mutate(q)
			r := e.Get("/authorize?" + q.Encode())
			switch tc.Status {
			case 400:
				apitest.IsPage(t, r, 400, "not valid")
				if loc := r.Header.Get("Location"); loc != "" {
					t.Fatalf("error redirected to %s", loc)
				}
			case 302:
				u, err := url.Parse(r.Header.Get("Location"))
				if r.Status != 302 || err != nil || !strings.HasPrefix(u.String(), apitest.AppRedirect+"?") {
					t.Fatalf("want a redirect to the app, got %d %q", r.Status, r.Header.Get("Location"))
				}
				if u.Query().Get("error") != tc.appErr || u.Query().Get("state") != a.State {
					t.Fatalf("redirect %s, want error=%s with the state", u, tc.appErr)
				}
			case 200:
				apitest.IsPage(t, r, 200, `<html lang="en">`, `name="viewport"`, `<label for="email">`, `<label for="password">`,
					`value="`+a.State+`"`, `href="/register?`)
				// Scripts only from this origin (the passkey buttons' file), never inline.
				if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "style-src 'self'") ||
					!strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "unsafe") || strings.Contains(csp, "data:") {
					t.Fatalf("CSP %q", csp)
				}
			}
		})
	}
}

func TestHostedMetadataHasAuthorizationEndpoint(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	for _, p := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		if got := e.Get(p).JSON(t)["authorization_endpoint"]; got != e.URL+"/authorize" {
			t.Errorf("%s: authorization_endpoint = %v", p, got)
		}
	}
}

func TestHostedSigninForm(t *testing.T) {
	fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{})
	e := fe.Env
	uid := e.Signup("ann@example.com", "correct horse battery")
	a := apitest.PublicApp()
	b := apitest.NewBrowser(t, e)

	r := b.Get("/authorize?" + apitest.AuthorizeQuery(a).Encode())
	apitest.IsPage(t, r, 200, "Sign in with GitHub", `/auth/github/login?`)
	preCSRF := b.CSRF

	// Wrong password: the one generic message, tied to the fields.
	form := apitest.HiddenFields(a)
	form.Set("email", "ann@example.com")
	form.Set("password", "wrong password!")
	r = b.Post("/signin", form)
	apitest.IsPage(t, r, 400, apitest.GenericSignin, `role="alert"`, `aria-describedby="form-error"`, `value="ann@example.com"`)
	// Unknown user: the same page.
	form.Set("email", "nobody@example.com")
	r2 := b.Post("/signin", form)
	apitest.IsPage(t, r2, 400, apitest.GenericSignin)

	// Missing and wrong CSRF tokens: 403.
	form.Set("email", "ann@example.com")
	form.Set("password", "correct horse battery")
	form.Set("csrf", "-")
	apitest.IsPage(t, b.Post("/signin", form), 403)
	form.Set("csrf", preCSRF+"x")
	apitest.IsPage(t, b.Post("/signin", form), 403)
	// Another browser's token with no cookie: 403.
	other := apitest.NewBrowser(t, e)
	form.Set("csrf", preCSRF)
	apitest.IsPage(t, other.Post("/signin", form), 403)

	form.Set("csrf", "")
	r = b.Post("/signin", form)
	u := fe.Location(r)
	code := fe.AppCode(u, a)
	cookies := apitest.SetCookies(t, r)
	var page *http.Cookie
	for _, ck := range cookies {
		if ck.Name == "unilogin_page" {
			page = ck
		}
	}
	if page == nil || !page.HttpOnly || page.SameSite != http.SameSiteLaxMode || page.Path != "/" {
		t.Fatalf("page cookie %+v", page)
	}
	if strings.Contains(page.Value, uid) {
		t.Fatal("page cookie shows the user id in clear")
	}
	// The code redeems at /token like the provider flow's, with PKCE only.
	noVerifier := a
	noVerifier.Verifier = "wrong-verifier-wrong-verifier-wrong-verifier-x"
	if got := fe.Redeem(noVerifier, code); got.Status != 400 {
		t.Fatalf("code redeemed with a wrong verifier: %d", got.Status)
	}
	r = b.Post("/signin", form) // a second sign-in for a fresh code
	code = fe.AppCode(fe.Location(r), a)
	tk := e.MustTokens(fe.Redeem(a, code))
	cl := fe.Claims(tk)
	if cl.Subject != uid || strings.Join(cl.AMR, ",") != "pwd" || cl.ClientID != apitest.PublicClientID {
		t.Fatalf("claims %+v", cl)
	}

	// Signed in: /authorize answers with a code at once, no form.
	a2 := apitest.PublicApp()
	r = b.Get("/authorize?" + apitest.AuthorizeQuery(a2).Encode())
	tk2 := e.MustTokens(fe.Redeem(a2, fe.AppCode(fe.Location(r), a2)))
	if fe.Claims(tk2).Subject != uid {
		t.Fatal("silent sign-in gave another user")
	}

	// Signing out ends the page session: the form is shown again.
	b.Get("/account")
	apitest.IsPage(t, b.Post("/signout", nil), 200, "signed out")
	apitest.IsPage(t, b.Get("/authorize?"+apitest.AuthorizeQuery(apitest.PublicApp()).Encode()), 200, `id="password"`)

	// The hosted sign-ins, failures and sign-out are in the audit log.
	events, err := e.Store.ListAudit(context.Background(), "", 100)
	if err != nil {
		t.Fatal(err)
	}
	hosted := map[string]int{}
	for _, ev := range events {
		if ev.Details["via"] == "hosted" || ev.Details["via"] == "sign-out" {
			hosted[ev.Action]++
		}
	}
	if hosted[accounts.ActionSignInFailed] != 2 || hosted[accounts.ActionSignIn] != 2 || hosted[accounts.ActionSessionRevoke] != 1 {
		t.Fatalf("hosted audit events = %v", hosted)
	}
}

func TestHostedSignupForm(t *testing.T) {
	fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{})
	e := fe.Env
	a := apitest.PublicApp()
	b := apitest.NewBrowser(t, e)
	r := b.Get("/register?" + apitest.HiddenFields(a).Encode())
	apitest.IsPage(t, r, 200, `<label for="name">`, `aria-describedby="password-hint"`, `value="`+a.State+`"`)

	form := apitest.HiddenFields(a)
	form.Set("email", "bob@example.com")
	form.Set("password", "password") // a common one
	r = b.Post("/register", form)
	apitest.IsPage(t, r, 400, `id="password-error"`, `aria-invalid="true"`, `role="alert"`)

	form.Set("csrf", "-")
	form.Set("password", "a long and fine passphrase")
	apitest.IsPage(t, b.Post("/register", form), 403)

	form.Set("csrf", "")
	r = b.Post("/register", form)
	code := fe.AppCode(fe.Location(r), a)
	tk := e.MustTokens(fe.Redeem(a, code))
	if m := fe.Me(tk.AccessToken); m.Email == nil || *m.Email != "bob@example.com" || !m.HasPassword {
		t.Fatalf("me %+v", m)
	}
	// The browser is signed in: the account page shows the user.
	apitest.IsPage(t, b.Get("/account"), 200, "bob@example.com")

	// Taken email: shown on the field.
	b2 := apitest.NewBrowser(t, e)
	b2.Get("/register")
	f2 := url.Values{"email": {"BOB@example.com"}, "password": {"another fine passphrase"}}
	apitest.IsPage(t, b2.Post("/register", f2), 409, `id="email-error"`, "already exists")
}

func TestHostedAccountNeedsPageSession(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	r := e.Get("/account")
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/signin" {
		t.Fatalf("GET /account signed out: %d %q", r.Status, r.Header.Get("Location"))
	}
	apitest.IsPage(t, e.PostForm("/account/password", url.Values{"csrf": {"x"}, "new_password": {"whatever123"}}), 401)
	// A forged cookie counts for nothing.
	r = e.Get("/account", "Cookie", "unilogin_page"+"=forged")
	if r.Status != http.StatusSeeOther {
		t.Fatalf("forged cookie: %d", r.Status)
	}

	// A disabled user's page session is over.
	uid := e.Signup("cat@example.com", "correct horse battery")
	b := apitest.NewBrowser(t, e)
	b.Get("/signin")
	r = b.Post("/signin", url.Values{"email": {"cat@example.com"}, "password": {"correct horse battery"}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/account" {
		t.Fatalf("sign-in without an app: %d %q", r.Status, r.Header.Get("Location"))
	}
	apitest.IsPage(t, b.Get("/account"), 200, "cat@example.com", "this browser")
	if err := e.Store.SetDisabled(context.Background(), uid, true); err != nil {
		t.Skip("store cannot disable directly:", err)
	}
	if r := b.Get("/account"); r.Status != http.StatusSeeOther {
		t.Fatalf("disabled user still sees the account page: %d", r.Status)
	}
}

func TestHostedAccountSessionsAndPassword(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	e.Signup("dan@example.com", "correct horse battery")
	other := e.Login("dan@example.com", "correct horse battery") // another device
	b := apitest.NewBrowser(t, e)
	b.Get("/signin")
	b.Post("/signin", url.Values{"email": {"dan@example.com"}, "password": {"correct horse battery"}})
	r := b.Get("/account")
	apitest.IsPage(t, r, 200, ">Revoke</button>")
	claims, err := e.Sessions.ParseAccess(context.Background(), other.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(r.Body), `id="session-`+claims.SessionID+`"`) {
		t.Fatal("the other session is not listed")
	}
	// CSRF is bound to the page session: a pre-session token fails.
	if r := b.Post("/account/sessions/revoke", url.Values{"id": {claims.SessionID}, "csrf": {"-"}}); r.Status != 403 {
		t.Fatalf("revoke without CSRF: %d", r.Status)
	}
	r = b.Post("/account/sessions/revoke", url.Values{"id": {claims.SessionID}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	if got := e.Refresh(other.RefreshToken); got.Status != 400 {
		t.Fatalf("the revoked session still refreshes: %d", got.Status)
	}
	apitest.IsPage(t, b.Get("/account?done=revoked"), 200, "signed out")

	// Change password: wrong current one is shown on its field.
	b.Get("/account")
	apitest.IsPage(t, b.Post("/account/password", url.Values{"current_password": {"nope nope nope"}, "new_password": {"a brand new passphrase"}}),
		400, `id="current-error"`)
	b.Get("/account")
	r = b.Post("/account/password", url.Values{"current_password": {"correct horse battery"}, "new_password": {"a brand new passphrase"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("change password: %d %s", r.Status, r.Body)
	}
	e.Login("dan@example.com", "a brand new passphrase")
}

func TestHostedLinkAndUnlink(t *testing.T) {
	fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{})
	e := fe.Env
	fe.GitHub.SetUser(apitest.NewGitHubUser(4242, "gina", "gina@example.com", true))
	b := apitest.NewBrowser(t, e)

	// Sign in to the account page with GitHub: a new user with only that identity.
	apitest.IsPage(t, b.Get("/signin"), 200, `href="/account/signin/github"`)
	r := apitest.WalkProvider(t, b, b.Get("/account/signin/github"))
	apitest.IsPage(t, r, 200, "gina@example.com", `id="identity-github"`, "Your only sign-in method")
	u, err := e.Store.GetUserByEmail(context.Background(), "gina@example.com")
	if err != nil {
		t.Fatal(err)
	}

	// The last way to sign in cannot be unlinked; the page says why.
	apitest.IsPage(t, b.Post("/account/unlink/github", nil), 409, "only way left to sign in")
	if got := fe.IdentitiesOf(u.ID); len(got) != 1 {
		t.Fatalf("identities %v", got)
	}
	// Missing CSRF: 403, nothing changes.
	apitest.IsPage(t, b.Post("/account/unlink/github", url.Values{"csrf": {"-"}}), 403)

	// Set a password (none yet: no current password asked), then unlink.
	apitest.IsPage(t, b.Get("/account"), 200, "Set a password")
	if r := b.Post("/account/password", url.Values{"new_password": {"gina's new passphrase"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("set password: %d %s", r.Status, r.Body)
	}
	b.Get("/account")
	if r := b.Post("/account/unlink/github", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("unlink: %d %s", r.Status, r.Body)
	}
	if got := fe.IdentitiesOf(u.ID); len(got) != 0 {
		t.Fatalf("identities after unlink %v", got)
	}

	// Link it again from the account page: the provider flow lands back here.
	// Now that the account has a password, linking asks for it in place.
	apitest.IsPage(t, b.Get("/account"), 200, `id="link-github"`)
	apitest.IsPage(t, b.Post("/account/link/github", nil), 403, `id="confirm-link"`, `name="current_password"`)
	apitest.IsPage(t, b.Post("/account/link/github", url.Values{"current_password": {"not it at all"}}), 400, "The current password is incorrect.")
	r = apitest.WalkProvider(t, b, b.Post("/account/link/github", url.Values{"current_password": {"gina's new passphrase"}}))
	apitest.IsPage(t, r, 200, "The identity was linked", `id="identity-github"`)
	if got := fe.IdentitiesOf(u.ID); len(got) != 1 || got[0] != "github:4242" {
		t.Fatalf("identities after link %v", got)
	}
	// The link flow left no extra session behind: only this browser's.
	list, _ := e.Sessions.List(context.Background(), u.ID)
	if len(list) != 1 {
		t.Fatalf("%d sessions after linking, want 1", len(list))
	}
	// A callback without this browser's flow cookie is refused.
	apitest.IsPage(t, apitest.NewBrowser(t, e).Get("/account/callback?code=x&state=y"), 400)
}

func TestHostedRateLimits(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{Mutate: apitest.WithLimits(config.RateLimits{PasswordPerIP: config.Rate{Limit: 2, Window: time.Minute}, SignupPerIP: config.Rate{Limit: 1, Window: time.Minute}})})
	b := apitest.NewBrowser(t, e)
	b.Get("/signin")
	wrong := func() url.Values { return url.Values{"email": {"eve@example.com"}, "password": {"not the password"}} }
	for range 2 {
		apitest.IsPage(t, b.Post("/signin", wrong()), 400, apitest.GenericSignin)
	}
	r := b.Post("/signin", wrong())
	apitest.IsPage(t, r, 429, "Too many attempts", "You can try again in")
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 page without Retry-After")
	}

	b.Get("/register")
	apitest.IsPage(t, b.Post("/register", url.Values{"email": {"eve@example.com"}, "password": {"password"}}), 400)
	r = b.Post("/register", url.Values{"email": {"eve@example.com"}, "password": {"a fine passphrase"}})
	apitest.IsPage(t, r, 429, "Too many attempts")
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 page without Retry-After")
	}
}
