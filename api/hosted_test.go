package api_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/config"
	"github.com/unilogin/unilogin/providers/providertest"
)

// browser is a cookie-keeping client on the hosted pages that never
// follows redirects.
type browser struct {
	t   *testing.T
	e   *env
	c   *http.Client
	csr string   // the last page's CSRF token
	hdr []string // extra header name/value pairs sent with every request
}

// genericSignin is the hosted sign-in page's one message for every failure.
const genericSignin = "The email address or password is incorrect."

func newBrowser(t *testing.T, e *env) *browser {
	return &browser{t: t, e: e, c: browserClient(t)}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) do(req *http.Request) response {
	b.t.Helper()
	for i := 0; i+1 < len(b.hdr); i += 2 {
		req.Header.Set(b.hdr[i], b.hdr[i+1])
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if m := csrfRE.FindSubmatch(body); m != nil {
		b.csr = string(m[1])
	}
	return response{status: res.StatusCode, header: res.Header, body: body}
}

func (b *browser) get(path string) response {
	b.t.Helper()
	if !strings.HasPrefix(path, "http") {
		path = b.e.url + path
	}
	req, _ := http.NewRequest(http.MethodGet, path, nil)
	return b.do(req)
}

// post sends a form; csrf "" adds the last page's token, "-" sends none.
func (b *browser) post(path string, form url.Values) response {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	switch form.Get("csrf") {
	case "":
		form.Set("csrf", b.csr)
	case "-":
		form.Del("csrf")
	}
	req, _ := http.NewRequest(http.MethodPost, b.e.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func isPage(t *testing.T, r response, status int, contains ...string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("Content-Type %q, want an HTML page: %s", ct, r.body)
	}
	for _, s := range contains {
		if !strings.Contains(string(r.body), s) {
			t.Fatalf("page lacks %q:\n%s", s, r.body)
		}
	}
}

func authorizeQuery(a flowApp) url.Values {
	q := a.loginQuery()
	q.Set("response_type", "code")
	return q
}

// hiddenFields are the app's request as the sign-in form carries it.
func hiddenFields(a flowApp) url.Values {
	q := a.loginQuery()
	return q
}

func TestHostedAuthorizeValidation(t *testing.T) {
	e := newEnv(t, envOptions{})
	a := publicApp()
	for name, tc := range map[string]struct {
		mutate func(url.Values)
		status int
		appErr string
	}{
		"unknown client":          {func(q url.Values) { q.Set("client_id", "nope") }, 400, ""},
		"unregistered redirect":   {func(q url.Values) { q.Set("redirect_uri", "https://evil.example/cb") }, 400, ""},
		"repeated client_id":      {func(q url.Values) { q.Add("client_id", publicClientID) }, 400, ""},
		"response_type token":     {func(q url.Values) { q.Set("response_type", "token") }, 302, "unsupported_response_type"},
		"missing response_type":   {func(q url.Values) { q.Del("response_type") }, 302, "invalid_request"},
		"public without PKCE":     {func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }, 302, "invalid_request"},
		"plain challenge method":  {func(q url.Values) { q.Set("code_challenge_method", "plain") }, 302, "invalid_request"},
		"valid request: the form": {func(url.Values) {}, 200, ""},
	} {
		t.Run(name, func(t *testing.T) {
			q := authorizeQuery(a)
			tc.mutate(q)
			r := e.get("/authorize?" + q.Encode())
			switch tc.status {
			case 400:
				isPage(t, r, 400, "not valid")
				if loc := r.header.Get("Location"); loc != "" {
					t.Fatalf("error redirected to %s", loc)
				}
			case 302:
				u, err := url.Parse(r.header.Get("Location"))
				if r.status != 302 || err != nil || !strings.HasPrefix(u.String(), appRedirect+"?") {
					t.Fatalf("want a redirect to the app, got %d %q", r.status, r.header.Get("Location"))
				}
				if u.Query().Get("error") != tc.appErr || u.Query().Get("state") != a.state {
					t.Fatalf("redirect %s, want error=%s with the state", u, tc.appErr)
				}
			case 200:
				isPage(t, r, 200, `<html lang="en">`, `name="viewport"`, `<label for="email">`, `<label for="password">`,
					`value="`+a.state+`"`, `href="/register?`)
				// Scripts only from this origin (the passkey buttons' file), never inline.
				if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "style-src 'self'") ||
					!strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "unsafe") || strings.Contains(csp, "data:") {
					t.Fatalf("CSP %q", csp)
				}
			}
		})
	}
}

func TestHostedMetadataHasAuthorizationEndpoint(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, p := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		if got := e.get(p).json(t)["authorization_endpoint"]; got != e.url+"/authorize" {
			t.Errorf("%s: authorization_endpoint = %v", p, got)
		}
	}
}

func TestHostedSigninForm(t *testing.T) {
	fe := newFlowEnv(t, flowEnvOptions{})
	e := fe.env
	uid := e.signup("ann@example.com", "correct horse battery")
	a := publicApp()
	b := newBrowser(t, e)

	r := b.get("/authorize?" + authorizeQuery(a).Encode())
	isPage(t, r, 200, "Sign in with GitHub", `/auth/github/login?`)
	preCSRF := b.csr

	// Wrong password: the one generic message, tied to the fields.
	form := hiddenFields(a)
	form.Set("email", "ann@example.com")
	form.Set("password", "wrong password!")
	r = b.post("/signin", form)
	isPage(t, r, 400, genericSignin, `role="alert"`, `aria-describedby="form-error"`, `value="ann@example.com"`)
	// Unknown user: the same page.
	form.Set("email", "nobody@example.com")
	r2 := b.post("/signin", form)
	isPage(t, r2, 400, genericSignin)

	// Missing and wrong CSRF tokens: 403.
	form.Set("email", "ann@example.com")
	form.Set("password", "correct horse battery")
	form.Set("csrf", "-")
	isPage(t, b.post("/signin", form), 403)
	form.Set("csrf", preCSRF+"x")
	isPage(t, b.post("/signin", form), 403)
	// Another browser's token with no cookie: 403.
	other := newBrowser(t, e)
	form.Set("csrf", preCSRF)
	isPage(t, other.post("/signin", form), 403)

	form.Set("csrf", "")
	r = b.post("/signin", form)
	u := fe.location(r)
	code := fe.appCode(u, a)
	cookies := setCookies(t, r)
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
	noVerifier.verifier = "wrong-verifier-wrong-verifier-wrong-verifier-x"
	if got := fe.redeem(noVerifier, code); got.status != 400 {
		t.Fatalf("code redeemed with a wrong verifier: %d", got.status)
	}
	r = b.post("/signin", form) // a second sign-in for a fresh code
	code = fe.appCode(fe.location(r), a)
	tk := e.mustTokens(fe.redeem(a, code))
	cl := fe.claims(tk)
	if cl.Subject != uid || strings.Join(cl.AMR, ",") != "pwd" || cl.ClientID != publicClientID {
		t.Fatalf("claims %+v", cl)
	}

	// Signed in: /authorize answers with a code at once, no form.
	a2 := publicApp()
	r = b.get("/authorize?" + authorizeQuery(a2).Encode())
	tk2 := e.mustTokens(fe.redeem(a2, fe.appCode(fe.location(r), a2)))
	if fe.claims(tk2).Subject != uid {
		t.Fatal("silent sign-in gave another user")
	}

	// Signing out ends the page session: the form is shown again.
	b.get("/account")
	isPage(t, b.post("/signout", nil), 200, "signed out")
	isPage(t, b.get("/authorize?"+authorizeQuery(publicApp()).Encode()), 200, `id="password"`)

	// The hosted sign-ins, failures and sign-out are in the audit log.
	events, err := e.store.ListAudit(context.Background(), "", 100)
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
	fe := newFlowEnv(t, flowEnvOptions{})
	e := fe.env
	a := publicApp()
	b := newBrowser(t, e)
	r := b.get("/register?" + hiddenFields(a).Encode())
	isPage(t, r, 200, `<label for="name">`, `aria-describedby="password-hint"`, `value="`+a.state+`"`)

	form := hiddenFields(a)
	form.Set("email", "bob@example.com")
	form.Set("password", "password") // a common one
	r = b.post("/register", form)
	isPage(t, r, 400, `id="password-error"`, `aria-invalid="true"`, `role="alert"`)

	form.Set("csrf", "-")
	form.Set("password", "a long and fine passphrase")
	isPage(t, b.post("/register", form), 403)

	form.Set("csrf", "")
	r = b.post("/register", form)
	code := fe.appCode(fe.location(r), a)
	tk := e.mustTokens(fe.redeem(a, code))
	if m := fe.me(tk.AccessToken); m.Email == nil || *m.Email != "bob@example.com" || !m.HasPassword {
		t.Fatalf("me %+v", m)
	}
	// The browser is signed in: the account page shows the user.
	isPage(t, b.get("/account"), 200, "bob@example.com")

	// Taken email: shown on the field.
	b2 := newBrowser(t, e)
	b2.get("/register")
	f2 := url.Values{"email": {"BOB@example.com"}, "password": {"another fine passphrase"}}
	isPage(t, b2.post("/register", f2), 409, `id="email-error"`, "already exists")
}

func TestHostedAccountNeedsPageSession(t *testing.T) {
	e := newEnv(t, envOptions{})
	r := e.get("/account")
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/signin" {
		t.Fatalf("GET /account signed out: %d %q", r.status, r.header.Get("Location"))
	}
	isPage(t, e.postForm("/account/password", url.Values{"csrf": {"x"}, "new_password": {"whatever123"}}), 401)
	// A forged cookie counts for nothing.
	r = e.get("/account", "Cookie", "unilogin_page"+"=forged")
	if r.status != http.StatusSeeOther {
		t.Fatalf("forged cookie: %d", r.status)
	}

	// A disabled user's page session is over.
	uid := e.signup("cat@example.com", "correct horse battery")
	b := newBrowser(t, e)
	b.get("/signin")
	r = b.post("/signin", url.Values{"email": {"cat@example.com"}, "password": {"correct horse battery"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/account" {
		t.Fatalf("sign-in without an app: %d %q", r.status, r.header.Get("Location"))
	}
	isPage(t, b.get("/account"), 200, "cat@example.com", "this browser")
	if err := e.store.SetDisabled(context.Background(), uid, true); err != nil {
		t.Skip("store cannot disable directly:", err)
	}
	if r := b.get("/account"); r.status != http.StatusSeeOther {
		t.Fatalf("disabled user still sees the account page: %d", r.status)
	}
}

func TestHostedAccountSessionsAndPassword(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.signup("dan@example.com", "correct horse battery")
	other := e.login("dan@example.com", "correct horse battery") // another device
	b := newBrowser(t, e)
	b.get("/signin")
	b.post("/signin", url.Values{"email": {"dan@example.com"}, "password": {"correct horse battery"}})
	r := b.get("/account")
	isPage(t, r, 200, ">Revoke</button>")
	claims, err := e.sessions.ParseAccess(context.Background(), other.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(r.body), `id="session-`+claims.SessionID+`"`) {
		t.Fatal("the other session is not listed")
	}
	// CSRF is bound to the page session: a pre-session token fails.
	if r := b.post("/account/sessions/revoke", url.Values{"id": {claims.SessionID}, "csrf": {"-"}}); r.status != 403 {
		t.Fatalf("revoke without CSRF: %d", r.status)
	}
	r = b.post("/account/sessions/revoke", url.Values{"id": {claims.SessionID}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	if got := e.refresh(other.RefreshToken); got.status != 400 {
		t.Fatalf("the revoked session still refreshes: %d", got.status)
	}
	isPage(t, b.get("/account?done=revoked"), 200, "signed out")

	// Change password: wrong current one is shown on its field.
	b.get("/account")
	isPage(t, b.post("/account/password", url.Values{"current_password": {"nope nope nope"}, "new_password": {"a brand new passphrase"}}),
		400, `id="current-error"`)
	b.get("/account")
	r = b.post("/account/password", url.Values{"current_password": {"correct horse battery"}, "new_password": {"a brand new passphrase"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("change password: %d %s", r.status, r.body)
	}
	e.login("dan@example.com", "a brand new passphrase")
}

func TestHostedLinkAndUnlink(t *testing.T) {
	fe := newFlowEnv(t, flowEnvOptions{})
	e := fe.env
	fe.github.SetUser(githubUser(4242, "gina", "gina@example.com", true))
	b := newBrowser(t, e)

	// Sign in to the account page with GitHub: a new user with only that identity.
	isPage(t, b.get("/signin"), 200, `href="/account/signin/github"`)
	r := walkProvider(t, b, b.get("/account/signin/github"))
	isPage(t, r, 200, "gina@example.com", `id="identity-github"`, "Your only sign-in method")
	u, err := e.store.GetUserByEmail(context.Background(), "gina@example.com")
	if err != nil {
		t.Fatal(err)
	}

	// The last way to sign in cannot be unlinked; the page says why.
	isPage(t, b.post("/account/unlink/github", nil), 409, "only way left to sign in")
	if got := fe.identitiesOf(u.ID); len(got) != 1 {
		t.Fatalf("identities %v", got)
	}
	// Missing CSRF: 403, nothing changes.
	isPage(t, b.post("/account/unlink/github", url.Values{"csrf": {"-"}}), 403)

	// Set a password (none yet: no current password asked), then unlink.
	isPage(t, b.get("/account"), 200, "Set a password")
	if r := b.post("/account/password", url.Values{"new_password": {"gina's new passphrase"}}); r.status != http.StatusSeeOther {
		t.Fatalf("set password: %d %s", r.status, r.body)
	}
	b.get("/account")
	if r := b.post("/account/unlink/github", nil); r.status != http.StatusSeeOther {
		t.Fatalf("unlink: %d %s", r.status, r.body)
	}
	if got := fe.identitiesOf(u.ID); len(got) != 0 {
		t.Fatalf("identities after unlink %v", got)
	}

	// Link it again from the account page: the provider flow lands back here.
	// Now that the account has a password, linking asks for it in place.
	isPage(t, b.get("/account"), 200, `id="link-github"`)
	isPage(t, b.post("/account/link/github", nil), 403, `id="confirm-link"`, `name="current_password"`)
	isPage(t, b.post("/account/link/github", url.Values{"current_password": {"not it at all"}}), 400, "The current password is incorrect.")
	r = walkProvider(t, b, b.post("/account/link/github", url.Values{"current_password": {"gina's new passphrase"}}))
	isPage(t, r, 200, "The identity was linked", `id="identity-github"`)
	if got := fe.identitiesOf(u.ID); len(got) != 1 || got[0] != "github:4242" {
		t.Fatalf("identities after link %v", got)
	}
	// The link flow left no extra session behind: only this browser's.
	list, _ := e.sessions.List(context.Background(), u.ID)
	if len(list) != 1 {
		t.Fatalf("%d sessions after linking, want 1", len(list))
	}
	// A callback without this browser's flow cookie is refused.
	isPage(t, newBrowser(t, e).get("/account/callback?code=x&state=y"), 400)
}

// walkProvider follows the redirects of a provider flow started by a page
// (through the fake provider) until it leaves the fake; it returns the last response.
func walkProvider(t *testing.T, b *browser, r response) response {
	t.Helper()
	for i := 0; i < 8 && (r.status == http.StatusFound || r.status == http.StatusSeeOther); i++ {
		loc, err := url.Parse(r.header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		if !loc.IsAbs() {
			loc = mustParse(t, b.e.url).ResolveReference(loc)
		}
		if !strings.HasPrefix(loc.String(), b.e.url) {
			loc = providertest.Authorize(t, loc.String())
		}
		r = b.get(loc.String())
	}
	return r
}

func mustParse(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestHostedRateLimits(t *testing.T) {
	e := newEnv(t, envOptions{mutate: withLimits(config.RateLimits{PasswordPerIP: config.Rate{Limit: 2, Window: time.Minute}, SignupPerIP: config.Rate{Limit: 1, Window: time.Minute}})})
	b := newBrowser(t, e)
	b.get("/signin")
	wrong := func() url.Values { return url.Values{"email": {"eve@example.com"}, "password": {"not the password"}} }
	for range 2 {
		isPage(t, b.post("/signin", wrong()), 400, genericSignin)
	}
	r := b.post("/signin", wrong())
	isPage(t, r, 429, "Too many attempts", "You can try again in")
	if r.header.Get("Retry-After") == "" {
		t.Fatal("429 page without Retry-After")
	}

	b.get("/register")
	isPage(t, b.post("/register", url.Values{"email": {"eve@example.com"}, "password": {"password"}}), 400)
	r = b.post("/register", url.Values{"email": {"eve@example.com"}, "password": {"a fine passphrase"}})
	isPage(t, r, 429, "Too many attempts")
	if r.header.Get("Retry-After") == "" {
		t.Fatal("429 page without Retry-After")
	}
}
