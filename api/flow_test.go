package api_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/config"
	"github.com/unilogin/unilogin/providers"
	"github.com/unilogin/unilogin/providers/github"
	"github.com/unilogin/unilogin/providers/providertest"
)

// The browser flow of docs/http-api.md, "External providers",
// driven like a browser through the real router against fake upstreams.

func TestFlowSignInWithEachProvider(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			fe := newFlowEnv(t, flowEnvOptions{backend: b, rs256: true})
			cases := []struct {
				provider, amr    string
				subject, email   string
				scope            string
				oidc             bool
				lastAuthorizeReq func() providertest.AuthorizeRequest
				lastTokenReq     func() providertest.TokenRequest
			}{
				{"google", "google", providertest.DefaultOIDCUser.Subject, providertest.DefaultOIDCUser.Email,
					"openid email profile", true, fe.google.LastAuthorizeRequest, fe.google.LastTokenRequest},
				{"github", "github", "583231", "octocat@example.com",
					"read:user user:email", false, fe.github.LastAuthorizeRequest, fe.github.LastTokenRequest},
				{"corp", "oidc:corp", flowCorpUser.Subject, flowCorpUser.Email,
					"openid email profile", true, fe.corp.LastAuthorizeRequest, fe.corp.LastTokenRequest},
			}
			for _, tc := range cases {
				t.Run(tc.provider, func(t *testing.T) {
					fe := fe.at(t)
					var userID string
					// Both clients; the second sign-in finds the identity.
					for _, app := range []flowApp{publicApp(), confidentialApp()} {
						tk := fe.signIn(tc.provider, app)

						// What the provider received: its own state, nonce
						// (OIDC) and PKCE, and our callback.
						ar := tc.lastAuthorizeReq()
						if ar.RedirectURI != fe.callbackURL(tc.provider) {
							t.Errorf("redirect_uri sent upstream = %q, want %q", ar.RedirectURI, fe.callbackURL(tc.provider))
						}
						if ar.State == "" || ar.State == app.state {
							t.Errorf("upstream state = %q; want our own, not the app's %q", ar.State, app.state)
						}
						if ar.CodeChallengeMethod != "S256" || len(ar.CodeChallenge) != 43 || ar.CodeChallenge == app.challenge() {
							t.Errorf("upstream PKCE = %q %q; want our own S256 challenge", ar.CodeChallengeMethod, ar.CodeChallenge)
						}
						if tc.oidc && ar.Nonce == "" {
							t.Error("no nonce sent to an OIDC provider")
						}
						if got := strings.Fields(ar.Scope); !sameSet(got, strings.Fields(tc.scope)) {
							t.Errorf("scope = %q, want %q", ar.Scope, tc.scope)
						}
						if tr := tc.lastTokenReq(); tr.RedirectURI != ar.RedirectURI || flowS256(tr.CodeVerifier) != ar.CodeChallenge {
							t.Errorf("upstream token request: redirect_uri %q verifier %q", tr.RedirectURI, tr.CodeVerifier)
						}

						c := fe.claims(tk)
						if !slices.Equal(c.AMR, []string{tc.amr}) {
							t.Errorf("amr = %v, want [%s]", c.AMR, tc.amr)
						}
						if c.ClientID != app.clientID || c.Issuer != fe.url {
							t.Errorf("client_id = %q, iss = %q", c.ClientID, c.Issuer)
						}
						if c.Email != tc.email || c.EmailVerified == nil || !*c.EmailVerified {
							t.Errorf("email claims = %q %v", c.Email, c.EmailVerified)
						}
						if userID == "" {
							userID = c.Subject
						} else if c.Subject != userID {
							t.Fatalf("second sign-in with the same identity gave user %s, want %s", c.Subject, userID)
						}

						me := fe.me(tk.AccessToken)
						if me.ID != userID || me.Email == nil || *me.Email != tc.email || !me.EmailVerified || me.HasPassword {
							t.Errorf("/users/me = %+v", me)
						}
						if len(me.Identities) != 1 {
							t.Fatalf("identities = %+v, want one", me.Identities)
						}
						if id := me.Identities[0]; id.Provider != tc.provider || id.Subject != tc.subject || id.Email != tc.email || id.LinkedAt == "" {
							t.Errorf("identity = %+v, want %s %s %s", id, tc.provider, tc.subject, tc.email)
						}
						if r := fe.refresh(tk.RefreshToken); r.status != http.StatusBadRequest {
							// The pair is bound to the client: refreshing without it fails.
							t.Errorf("refresh without the client: %d", r.status)
						}
					}
				})
			}
			if n := fe.users(); n != 3 {
				t.Errorf("%d users, want 3 (one per provider identity)", n)
			}
		})
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func TestFlowProvidersListsTheEnabledOnes(t *testing.T) {
	type entry struct{ ID, Name string }
	list := func(t *testing.T, e *env) []entry {
		t.Helper()
		r := e.get("/auth/providers")
		if r.status != http.StatusOK {
			t.Fatalf("/auth/providers: %d %s", r.status, r.body)
		}
		var body struct {
			Providers []entry `json:"providers"`
		}
		if err := json.Unmarshal(r.body, &body); err != nil || body.Providers == nil {
			t.Fatalf("/auth/providers = %s", r.body)
		}
		slices.SortFunc(body.Providers, func(a, b entry) int { return strings.Compare(a.ID, b.ID) })
		return body.Providers
	}

	fe := newFlowEnv(t, flowEnvOptions{})
	want := []entry{{"corp", "Corp SSO"}, {"github", "GitHub"}, {"google", "Google"}}
	if got := list(t, fe.env); !slices.Equal(got, want) {
		t.Errorf("providers = %v, want %v", got, want)
	}

	// An install with GitHub only lists GitHub; the others do not exist.
	fake := providertest.NewGitHub(t)
	gh, err := github.New(github.Config{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, BaseURL: fake.URL, APIURL: fake.APIURL})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOptions{providers: []providers.Provider{gh}})
	if got := list(t, e); !slices.Equal(got, []entry{{"github", "GitHub"}}) {
		t.Errorf("providers = %v, want only github", got)
	}
	q := publicApp().loginQuery().Encode()
	for _, p := range []string{"google", "corp"} {
		if r := e.get("/auth/" + p + "/login?" + q); r.status != http.StatusNotFound || r.errCode(t) != "not_found" {
			t.Errorf("login at disabled %s: %d %s", p, r.status, r.body)
		}
	}
	if r := e.get("/auth/github/login?" + q); r.status != http.StatusFound {
		t.Errorf("login at github: %d %s", r.status, r.body)
	}

	// None configured: an empty list, not null.
	if got := list(t, newEnv(t, envOptions{})); len(got) != 0 {
		t.Errorf("providers = %v, want none", got)
	}
}

func TestFlowCookieAttributes(t *testing.T) {
	fe := newFlowEnv(t, flowEnvOptions{})
	for _, p := range []string{"google", "github", "corp"} {
		_, ck := fe.begin(browserClient(t), fe.loginURL(p, publicApp()))
		if !ck.HttpOnly {
			t.Errorf("%s: flow cookie is not HttpOnly", p)
		}
		if ck.SameSite != http.SameSiteLaxMode {
			t.Errorf("%s: flow cookie SameSite = %v, want Lax", p, ck.SameSite)
		}
		if ck.Secure {
			t.Errorf("%s: flow cookie is Secure although the issuer is %s", p, fe.url)
		}
		if ck.Path == "" || !strings.HasPrefix("/auth/"+p+"/callback", ck.Path) {
			t.Errorf("%s: flow cookie Path = %q; it must be set and cover the callback", p, ck.Path)
		}
		if ck.MaxAge > 600 || ck.MaxAge < 0 || (ck.MaxAge == 0 && ck.Expires.After(time.Now().Add(11*time.Minute))) {
			t.Errorf("%s: flow cookie lives longer than 10 minutes: Max-Age %d, Expires %v", p, ck.MaxAge, ck.Expires)
		}
		if ck.Value == "" {
			t.Errorf("%s: empty flow cookie", p)
		}
	}
}

func TestFlowCookieIsSecureWhenTheIssuerIsHTTPS(t *testing.T) {
	const issuer = "https://login.example.com"
	fe := newFlowEnv(t, flowEnvOptions{mutate: func(c *config.Config) { c.Issuer = issuer }})
	auth, ck := fe.begin(browserClient(t), fe.loginURL("github", publicApp()))
	if !ck.Secure {
		t.Error("flow cookie is not Secure under an https issuer")
	}
	if got := auth.Query().Get("redirect_uri"); got != issuer+"/auth/github/callback" {
		t.Errorf("redirect_uri sent upstream = %q, want the issuer's callback", got)
	}
}

// TestFlowTwoTabsSignInAtOnce: one cookie per flow, so a second login in
// the same browser does not break the first.
func TestFlowTwoTabsSignInAtOnce(t *testing.T) {
	fe := newFlowEnv(t, flowEnvOptions{})
	c := browserClient(t)
	a1, a2, a3 := publicApp(), publicApp(), confidentialApp()
	auth1, ck1 := fe.begin(c, fe.loginURL("google", a1))
	auth2, ck2 := fe.begin(c, fe.loginURL("google", a2))
	auth3, ck3 := fe.begin(c, fe.loginURL("github", a3))
	if ck1.Name == ck2.Name || ck1.Name == ck3.Name || ck2.Name == ck3.Name {
		t.Fatalf("flows share a cookie name (%s, %s, %s): a new flow overwrites the previous one", ck1.Name, ck2.Name, ck3.Name)
	}
	cb, _ := url.Parse(fe.callbackURL("google"))
	if n := len(c.Jar.Cookies(cb)); n != 3 {
		t.Fatalf("the browser sends %d cookies to the callback, want 3", n)
	}
	cb1, cb2, cb3 := fe.authorize(auth1), fe.authorize(auth2), fe.authorize(auth3)
	// Finish in another order than started.
	u3 := fe.location(fe.fetch(c, cb3.String()))
	u2 := fe.location(fe.fetch(c, cb2.String()))
	u1 := fe.location(fe.fetch(c, cb1.String()))
	t1 := fe.mustTokens(fe.redeem(a1, fe.appCode(u1, a1)))
	t2 := fe.mustTokens(fe.redeem(a2, fe.appCode(u2, a2)))
	t3 := fe.mustTokens(fe.redeem(a3, fe.appCode(u3, a3)))
	c1, c2, c3 := fe.claims(t1), fe.claims(t2), fe.claims(t3)
	if c1.Subject != c2.Subject || c1.Subject == c3.Subject {
		t.Errorf("subjects %s %s %s: want the Google user twice and the GitHub user once", c1.Subject, c2.Subject, c3.Subject)
	}
	if !slices.Equal(c3.AMR, []string{"github"}) || !slices.Equal(c1.AMR, []string{"google"}) {
		t.Errorf("amr %v %v", c1.AMR, c3.AMR)
	}
}

func TestFlowLinkingDecisions(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Run("known identity signs in its user", func(t *testing.T) {
				fe := newFlowEnv(t, flowEnvOptions{backend: b})
				first := fe.claims(fe.signIn("google", publicApp())).Subject
				// Even when the provider's email changed meanwhile.
				u := providertest.DefaultOIDCUser
				u.Email = "alice.new@example.com"
				fe.google.SetUser(u)
				if again := fe.claims(fe.signIn("google", publicApp())).Subject; again != first {
					t.Fatalf("second sign-in: user %s, want %s", again, first)
				}
				if n := fe.users(); n != 1 {
					t.Fatalf("%d users, want 1", n)
				}
			})

			t.Run("verified emails link", func(t *testing.T) {
				fe := newFlowEnv(t, flowEnvOptions{backend: b})
				fe.github.SetUser(githubUser(1001, "dana", "dana@example.com", true))
				owner := fe.claims(fe.signIn("github", publicApp())).Subject
				// Emails compare case-insensitively.
				fe.google.SetUser(providertest.OIDCUser{Subject: "g-dana", Email: "Dana@Example.COM", EmailVerified: new(true)})
				tk := fe.signIn("google", publicApp())
				c := fe.claims(tk)
				if c.Subject != owner || !slices.Equal(c.AMR, []string{"google"}) {
					t.Fatalf("Google sign-in: user %s amr %v, want the GitHub user %s", c.Subject, c.AMR, owner)
				}
				me := fe.me(tk.AccessToken)
				if !sameSet(me.providerIDs(), []string{"github", "google"}) {
					t.Fatalf("identities = %+v, want github and google", me.Identities)
				}
				if me.Email == nil || *me.Email != "dana@example.com" || !me.EmailVerified {
					t.Errorf("email = %v %v", me.Email, me.EmailVerified)
				}
				if n := fe.users(); n != 1 {
					t.Fatalf("%d users, want 1", n)
				}
			})

			t.Run("pre-account takeover is refused", func(t *testing.T) {
				fe := newFlowEnv(t, flowEnvOptions{backend: b})
				attacker := fe.signup("victim@example.com", pw) // unverified
				fe.google.SetUser(providertest.OIDCUser{Subject: "g-victim", Email: "victim@example.com", EmailVerified: new(true)})
				if got := fe.signInError("google", publicApp()); got != "account_exists" {
					t.Fatalf("Google sign-in: error=%q, want account_exists", got)
				}
				fe.github.SetUser(githubUser(2002, "victim", "VICTIM@example.com", true))
				if got := fe.signInError("github", confidentialApp()); got != "account_exists" {
					t.Fatalf("GitHub sign-in: error=%q, want account_exists", got)
				}
				if n := fe.users(); n != 1 {
					t.Errorf("%d users, want only the attacker's", n)
				}
				if ids := fe.identitiesOf(attacker); len(ids) != 0 {
					t.Errorf("the attacker's account gained %v", ids)
				}
				for _, id := range [][2]string{{"google", "g-victim"}, {"github", "2002"}} {
					if _, err := fe.store.GetIdentity(ctx, id[0], id[1]); !errors.Is(err, accounts.ErrNotFound) {
						t.Errorf("identity %v stored: %v", id, err)
					}
				}
				if me := fe.me(fe.login("victim@example.com", pw).AccessToken); me.ID != attacker || len(me.Identities) != 0 || me.EmailVerified {
					t.Errorf("attacker's account = %+v", me)
				}
			})

			t.Run("unverified provider email", func(t *testing.T) {
				fe := newFlowEnv(t, flowEnvOptions{backend: b})
				fe.github.SetUser(githubUser(1001, "olga", "olga@example.com", true))
				owner := fe.claims(fe.signIn("github", publicApp())).Subject
				for i, verified := range []*bool{new(false), nil} {
					t.Run(fmt.Sprintf("email_verified=%v", ptrString(verified)), func(t *testing.T) {
						fe := fe.at(t)
						fe.google.SetUser(providertest.OIDCUser{Subject: fmt.Sprintf("g-olga-%d", i), Email: "olga@example.com", EmailVerified: verified})
						tk := fe.signIn("google", publicApp())
						c := fe.claims(tk)
						if c.Subject == owner {
							t.Fatal("an unverified provider email was linked to the verified owner")
						}
						if c.Email != "" || c.EmailVerified != nil {
							t.Errorf("token email claims = %q %v, want none", c.Email, c.EmailVerified)
						}
						me := fe.me(tk.AccessToken)
						if me.Email != nil || me.EmailVerified || !slices.Equal(me.providerIDs(), []string{"google"}) {
							t.Errorf("new user = %+v, want no email and one google identity", me)
						}
					})
				}
				if ids := fe.identitiesOf(owner); !slices.Equal(ids, []string{"github:1001"}) {
					t.Errorf("owner's identities = %v", ids)
				}
				if n := fe.users(); n != 3 {
					t.Errorf("%d users, want 3", n)
				}
			})

			t.Run("no usable provider email", func(t *testing.T) {
				fe := newFlowEnv(t, flowEnvOptions{backend: b})
				cases := []struct {
					name     string
					provider string
					gh       providertest.GitHubUser
					oidc     providertest.OIDCUser
				}{
					{"GitHub primary unverified", "github", githubUser(3001, "nomail1", "nomail1@example.com", false), providertest.OIDCUser{}},
					{"GitHub verified but not primary", "github", providertest.GitHubUser{ID: 3002, Login: "nomail2", Emails: []providertest.GitHubEmail{
						{Email: "primary@example.com", Primary: true}, {Email: "other@example.com", Verified: true}}}, providertest.OIDCUser{}},
					{"GitHub no emails", "github", githubUser(3003, "nomail3", "", false), providertest.OIDCUser{}},
					{"OIDC no email claim", "google", providertest.GitHubUser{}, providertest.OIDCUser{Subject: "g-nomail"}},
				}
				for _, tc := range cases {
					t.Run(tc.name, func(t *testing.T) {
						fe := fe.at(t)
						before := fe.users()
						fe.github.SetUser(tc.gh)
						fe.google.SetUser(tc.oidc)
						tk := fe.signIn(tc.provider, publicApp())
						me := fe.me(tk.AccessToken)
						if me.Email != nil || me.EmailVerified || len(me.Identities) != 1 || me.Identities[0].Provider != tc.provider {
							t.Errorf("user = %+v, want a new user without email", me)
						}
						if c := fe.claims(tk); c.Email != "" || c.EmailVerified != nil {
							t.Errorf("token email claims = %q %v", c.Email, c.EmailVerified)
						}
						if n := fe.users(); n != before+1 {
							t.Errorf("%d users, want %d", n, before+1)
						}
					})
				}
			})

			t.Run("policy off", func(t *testing.T) {
				fe := newFlowEnv(t, flowEnvOptions{backend: b, mutate: func(c *config.Config) { c.Linking.ByVerifiedEmail = new(false) }})
				fe.github.SetUser(githubUser(1001, "pat", "pat@example.com", true))
				owner := fe.claims(fe.signIn("github", publicApp())).Subject
				fe.google.SetUser(providertest.OIDCUser{Subject: "g-pat", Email: "pat@example.com", EmailVerified: new(true)})
				tk := fe.signIn("google", publicApp())
				me := fe.me(tk.AccessToken)
				if me.ID == owner || me.Email != nil {
					t.Fatalf("with linking off: user %+v (owner %s), want a new user without email", me, owner)
				}
				if ids := fe.identitiesOf(owner); len(ids) != 1 {
					t.Errorf("owner's identities = %v", ids)
				}
			})

			t.Run("second identity at one provider", func(t *testing.T) {
				fe := newFlowEnv(t, flowEnvOptions{backend: b})
				fe.github.SetUser(githubUser(1001, "dana", "dana@example.com", true))
				owner := fe.claims(fe.signIn("github", publicApp())).Subject
				fe.github.SetUser(githubUser(1002, "dana-work", "dana@example.com", true))
				if got := fe.signInError("github", publicApp()); got != "account_exists" {
					t.Fatalf("second GitHub account with the same email: error=%q, want account_exists", got)
				}
				if ids := fe.identitiesOf(owner); !slices.Equal(ids, []string{"github:1001"}) {
					t.Errorf("owner's identities = %v", ids)
				}
				if n := fe.users(); n != 1 {
					t.Errorf("%d users, want 1", n)
				}
			})

			t.Run("disabled user", func(t *testing.T) {
				fe := newFlowEnv(t, flowEnvOptions{backend: b})
				id := fe.claims(fe.signIn("github", publicApp())).Subject
				if err := fe.store.SetDisabled(ctx, id, true); err != nil {
					t.Fatal(err)
				}
				if got := fe.signInError("github", publicApp()); got != "access_denied" {
					t.Fatalf("disabled user's sign-in: error=%q, want access_denied", got)
				}
			})
		})
	}
}

func ptrString(b *bool) string {
	if b == nil {
		return "missing"
	}
	return fmt.Sprint(*b)
}

// alter changes one character in the middle of s.
func alter(s string, at int) string {
	if s == "" {
		return "A"
	}
	r := byte('A')
	if s[at] == 'A' {
		r = 'B'
	}
	return s[:at] + string(r) + s[at+1:]
}

func withState(u *url.URL, state string, keep bool) string {
	c := *u
	q := c.Query()
	if keep {
		q.Set("state", state)
	} else {
		q.Del("state")
	}
	c.RawQuery = q.Encode()
	return c.String()
}

func TestFlowCallbackRefusesWithoutTheRightStateAndCookie(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			fe := newFlowEnv(t, flowEnvOptions{backend: b})
			cases := []struct {
				name string
				// first: complete the callback once, legitimately, before.
				first bool
				bad   func(t *testing.T, fe *flowEnv, c *http.Client, cb *url.URL, ck *http.Cookie) response
			}{
				{"state altered", false, func(t *testing.T, fe *flowEnv, c *http.Client, cb *url.URL, ck *http.Cookie) response {
					s := cb.Query().Get("state")
					return fe.fetch(c, withState(cb, alter(s, len(s)/2+len(s)/4), true))
				}},
				{"state names another flow", false, func(t *testing.T, fe *flowEnv, c *http.Client, cb *url.URL, ck *http.Cookie) response {
					return fe.fetch(c, withState(cb, alter(cb.Query().Get("state"), 0), true))
				}},
				{"state missing", false, func(t *testing.T, fe *flowEnv, c *http.Client, cb *url.URL, ck *http.Cookie) response {
					return fe.fetch(c, withState(cb, "", false))
				}},
				{"no flow cookie", false, func(t *testing.T, fe *flowEnv, c *http.Client, cb *url.URL, ck *http.Cookie) response {
					return fe.fetch(browserClient(t), cb.String())
				}},
				{"flow cookie tampered", false, func(t *testing.T, fe *flowEnv, c *http.Client, cb *url.URL, ck *http.Cookie) response {
					bad := &http.Cookie{Name: ck.Name, Value: alter(ck.Value, len(ck.Value)/2)}
					return fe.fetch(browserClient(t), cb.String(), bad)
				}},
				{"callback of another provider", false, func(t *testing.T, fe *flowEnv, c *http.Client, cb *url.URL, ck *http.Cookie) response {
					return fe.fetch(c, strings.Replace(cb.String(), "/auth/google/", "/auth/corp/", 1))
				}},
				{"replayed", true, func(t *testing.T, fe *flowEnv, c *http.Client, cb *url.URL, ck *http.Cookie) response {
					return fe.fetch(c, cb.String())
				}},
				{"replayed with a copy of the cookie", true, func(t *testing.T, fe *flowEnv, c *http.Client, cb *url.URL, ck *http.Cookie) response {
					return fe.fetch(browserClient(t), cb.String(), ck)
				}},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					fe := fe.at(t)
					c := browserClient(t)
					a := publicApp()
					auth, ck := fe.begin(c, fe.loginURL("google", a))
					cb := fe.authorize(auth)
					if tc.first {
						fe.appCode(fe.location(fe.fetch(c, cb.String())), a)
					}
					users, calls := fe.users(), fe.google.TokenRequests()+fe.corp.TokenRequests()
					r := tc.bad(t, fe, c, cb, ck)
					if r.status != http.StatusBadRequest || r.errCode(t) != "invalid_request" {
						t.Fatalf("%d %s, want 400 invalid_request", r.status, r.body)
					}
					if loc := r.header.Get("Location"); loc != "" {
						t.Errorf("redirected to %s; bad state or cookie must not redirect", loc)
					}
					if n := fe.users(); n != users {
						t.Errorf("users %d -> %d", users, n)
					}
					if n := fe.google.TokenRequests() + fe.corp.TokenRequests(); n != calls {
						t.Error("the provider's code was redeemed")
					}
				})
			}
		})
	}
}

func TestFlowUpstreamFailuresRedirectWithAnError(t *testing.T) {
	fe := newFlowEnv(t, flowEnvOptions{})
	type oidcB = providertest.OIDCBehavior
	type ghB = providertest.GitHubBehavior
	cases := []struct {
		name, provider string
		oidc           oidcB
		gh             ghB
		want           string
	}{
		{"nonce mismatch", "google", oidcB{WrongNonce: true}, ghB{}, "access_denied"},
		{"wrong audience", "google", oidcB{WrongAudience: true}, ghB{}, "access_denied"},
		{"wrong issuer", "google", oidcB{WrongIssuer: true}, ghB{}, "access_denied"},
		{"expired ID token", "google", oidcB{Expired: true}, ghB{}, "access_denied"},
		{"bad signature", "google", oidcB{BadSignature: true}, ghB{}, "access_denied"},
		{"no ID token", "google", oidcB{NoIDToken: true}, ghB{}, "access_denied"},
		{"user denies at Google", "google", oidcB{DenyAccess: true}, ghB{}, "access_denied"},
		{"Google token endpoint 500", "google", oidcB{TokenStatus: 500}, ghB{}, "temporarily_unavailable"},
		{"Google token endpoint invalid_grant", "google", oidcB{TokenError: "invalid_grant"}, ghB{}, "access_denied"},
		{"corp bad signature", "corp", oidcB{BadSignature: true}, ghB{}, "access_denied"},
		{"corp nonce mismatch", "corp", oidcB{WrongNonce: true}, ghB{}, "access_denied"},
		{"user denies at GitHub", "github", oidcB{}, ghB{DenyAccess: true}, "access_denied"},
		{"GitHub token endpoint 500", "github", oidcB{}, ghB{TokenStatus: 500}, "temporarily_unavailable"},
		{"GitHub bad_verification_code", "github", oidcB{}, ghB{TokenError: "bad_verification_code"}, "access_denied"},
		{"GitHub API 500", "github", oidcB{}, ghB{APIStatus: 500}, "temporarily_unavailable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fe := fe.at(t)
			fake := fe.google
			if tc.provider == "corp" {
				fake = fe.corp
			}
			fake.SetBehavior(tc.oidc)
			fe.github.SetBehavior(tc.gh)
			defer fake.SetBehavior(oidcB{})
			defer fe.github.SetBehavior(ghB{})
			for _, a := range []flowApp{publicApp(), confidentialApp()} {
				if got := fe.signInError(tc.provider, a); got != tc.want {
					t.Errorf("%s: error=%q, want %q", a.clientID, got, tc.want)
				}
			}
			if n := fe.users(); n != 0 {
				t.Errorf("%d users after a failed sign-in", n)
			}
		})
	}
	// The same providers work again once the upstream behaves.
	for _, p := range []string{"google", "github", "corp"} {
		fe.signIn(p, publicApp())
	}
}

func TestFlowLoginRefusesUnregisteredRedirectsWithoutRedirecting(t *testing.T) {
	fe := newFlowEnv(t, flowEnvOptions{})
	cases := []struct{ name, clientID, redirectURI string }{
		{"other port", publicClientID, "https://app.example.com:8443/callback"},
		{"explicit default port", publicClientID, "https://app.example.com:443/callback"},
		{"trailing path", publicClientID, "https://app.example.com/callback/x"},
		{"userinfo", publicClientID, "https://evil@app.example.com/callback"},
		{"scheme change", publicClientID, "http://app.example.com/callback"},
		{"encoded characters", publicClientID, "https://app.example.com/%63allback"},
		{"host case change", publicClientID, "https://APP.example.com/callback"},
		{"path case change", publicClientID, "https://app.example.com/Callback"},
		{"trailing slash", publicClientID, "https://app.example.com/callback/"},
		{"added query", publicClientID, "https://app.example.com/callback?next=https://evil.example"},
		{"fragment", publicClientID, "https://app.example.com/callback#x"},
		{"trailing dot in host", publicClientID, "https://app.example.com./callback"},
		{"suffix host", publicClientID, "https://app.example.com.evil.example/callback"},
		{"scheme-relative", publicClientID, "//app.example.com/callback"},
		{"empty", publicClientID, ""},
		{"another client's URI", testClientID, "http://127.0.0.1:9999/cb"},
		{"unknown client", "nope", appRedirect},
		{"no client", "", appRedirect},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fe := fe.at(t)
			a := publicApp()
			a.clientID, a.redirectURI = tc.clientID, tc.redirectURI
			for _, p := range []string{"google", "github"} {
				r := fe.fetch(browserClient(t), fe.loginURL(p, a))
				if r.status != http.StatusBadRequest || r.errCode(t) != "invalid_request" {
					t.Fatalf("%s: %d %s, want 400 invalid_request", p, r.status, r.body)
				}
				if loc := r.header.Get("Location"); loc != "" {
					t.Errorf("%s: redirected to %s", p, loc)
				}
				if cks := setCookies(t, r); len(cks) != 0 {
					t.Errorf("%s: a refused login set cookies %v", p, cks)
				}
			}
		})
	}
	t.Run("repeated redirect_uri", func(t *testing.T) {
		fe := fe.at(t)
		a := publicApp()
		raw := fe.loginURL("google", a) + "&redirect_uri=" + url.QueryEscape("https://evil.example/callback")
		r := fe.fetch(browserClient(t), raw)
		if r.status != http.StatusBadRequest || r.header.Get("Location") != "" || r.errCode(t) != "invalid_request" {
			t.Fatalf("%d %s Location=%q", r.status, r.body, r.header.Get("Location"))
		}
	})
	if ar := fe.google.LastAuthorizeRequest(); ar.State != "" {
		t.Error("a refused login reached the provider")
	}
	// The registered URIs, exactly, are accepted.
	for _, redirect := range []string{appRedirect, "http://127.0.0.1:9999/cb"} {
		a := publicApp()
		a.redirectURI = redirect
		fe.signIn("google", a)
	}
}

func TestFlowLoginRedirectsOtherProblemsToTheApp(t *testing.T) {
	fe := newFlowEnv(t, flowEnvOptions{})
	v := providers.NewPKCEVerifier()
	cases := []struct {
		name   string
		client string
		query  url.Values // besides client_id, redirect_uri and state
	}{
		{"public client without code_challenge", publicClientID, url.Values{}},
		{"method plain", publicClientID, url.Values{"code_challenge": {flowS256(v)}, "code_challenge_method": {"plain"}}},
		{"method plain, confidential client", testClientID, url.Values{"code_challenge": {v}, "code_challenge_method": {"plain"}}},
		{"challenge without method", publicClientID, url.Values{"code_challenge": {flowS256(v)}}},
		{"method without challenge", testClientID, url.Values{"code_challenge_method": {"S256"}}},
		{"malformed challenge", publicClientID, url.Values{"code_challenge": {"short"}, "code_challenge_method": {"S256"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fe := fe.at(t)
			a := flowApp{clientID: tc.client, redirectURI: appRedirect, state: "s-" + tc.name}
			q := tc.query
			q.Set("client_id", a.clientID)
			q.Set("redirect_uri", a.redirectURI)
			q.Set("state", a.state)
			r := fe.fetch(browserClient(t), fe.url+"/auth/google/login?"+q.Encode())
			if got := fe.appError(fe.location(r), a); got != "invalid_request" {
				t.Fatalf("error=%q, want invalid_request", got)
			}
		})
	}
	if ar := fe.google.LastAuthorizeRequest(); ar.State != "" {
		t.Error("a refused login reached the provider")
	}
}

func TestFlowUnknownProviderIsNotFound(t *testing.T) {
	fe := newFlowEnv(t, flowEnvOptions{})
	fe.signup("nina@example.com", pw)
	tk := fe.login("nina@example.com", pw)
	a := publicApp()
	for _, r := range []response{
		fe.get("/auth/nope/login?" + a.loginQuery().Encode()),
		fe.get("/auth/nope/callback?code=x&state=" + strings.Repeat("A", 22) + ".x"),
		fe.postJSON("/users/me/identities/nope", map[string]string{"client_id": a.clientID, "redirect_uri": a.redirectURI,
			"code_challenge": a.challenge(), "code_challenge_method": "S256"}, bearer(tk.AccessToken)...),
		fe.do("DELETE", "/users/me/identities/nope", "", nil, bearer(tk.AccessToken)...),
	} {
		if r.status != http.StatusNotFound || r.errCode(t) != "not_found" || r.header.Get("Location") != "" {
			t.Errorf("%d %s, want 404 not_found", r.status, r.body)
		}
	}
}

func TestFlowCodeRedemptionRefusals(t *testing.T) {
	fe := newFlowEnv(t, flowEnvOptions{})
	loopback := publicApp()
	loopback.redirectURI = "http://127.0.0.1:9999/cb"
	cases := []struct {
		name   string
		app    flowApp
		redeem func(fe *flowEnv, a flowApp, code string) response
		status int
		want   string
	}{
		{"code reused", publicApp(), func(fe *flowEnv, a flowApp, code string) response {
			fe.mustTokens(fe.redeem(a, code))
			return fe.redeem(a, code)
		}, 400, "invalid_grant"},
		{"code reused by the confidential client", confidentialApp(), func(fe *flowEnv, a flowApp, code string) response {
			fe.mustTokens(fe.redeem(a, code))
			return fe.redeem(a, code)
		}, 400, "invalid_grant"},
		{"PKCE verifier mismatch", publicApp(), func(fe *flowEnv, a flowApp, code string) response {
			a.verifier = providers.NewPKCEVerifier()
			return fe.redeem(a, code)
		}, 400, "invalid_grant"},
		{"right verifier after a wrong one", publicApp(), func(fe *flowEnv, a flowApp, code string) response {
			b := a
			b.verifier = providers.NewPKCEVerifier()
			fe.redeem(b, code)
			return fe.redeem(a, code)
		}, 400, "invalid_grant"},
		{"verifier missing", publicApp(), func(fe *flowEnv, a flowApp, code string) response {
			a.verifier = ""
			return fe.redeem(a, code)
		}, 400, "invalid_grant"},
		{"verifier without a challenge", confidentialApp(), func(fe *flowEnv, a flowApp, code string) response {
			a.verifier = providers.NewPKCEVerifier()
			return fe.redeem(a, code)
		}, 400, "invalid_grant"},
		{"redeemed by another client", publicApp(), func(fe *flowEnv, a flowApp, code string) response {
			b := confidentialApp()
			b.verifier = a.verifier
			return fe.redeem(b, code)
		}, 400, "invalid_grant"},
		{"public client's code, confidential client without PKCE", publicApp(), func(fe *flowEnv, a flowApp, code string) response {
			return fe.redeem(confidentialApp(), code)
		}, 400, "invalid_grant"},
		{"redirect_uri mismatch", loopback, func(fe *flowEnv, a flowApp, code string) response {
			a.redirectURI = appRedirect
			return fe.redeem(a, code)
		}, 400, "invalid_grant"},
		{"unknown code", publicApp(), func(fe *flowEnv, a flowApp, code string) response {
			return fe.redeem(a, alter(code, len(code)/2))
		}, 400, "invalid_grant"},
		{"confidential client without its secret", confidentialApp(), func(fe *flowEnv, a flowApp, code string) response {
			a.secret = ""
			return fe.redeem(a, code)
		}, 401, "invalid_client"},
		{"expired", publicApp(), func(fe *flowEnv, a flowApp, code string) response {
			fe.clock.Advance(61 * time.Second)
			return fe.redeem(a, code)
		}, 400, "invalid_grant"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fe := fe.at(t)
			u := fe.runFlow(browserClient(t), fe.loginURL("google", tc.app))
			code := fe.appCode(u, tc.app)
			r := tc.redeem(fe, tc.app, code)
			if r.status != tc.status || r.errCode(t) != tc.want {
				t.Fatalf("%d %s, want %d %s", r.status, r.body, tc.status, tc.want)
			}
			if r.header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control = %q", r.header.Get("Cache-Control"))
			}
		})
	}
}

func TestFlowCodeLivesSixtySeconds(t *testing.T) {
	fe := newFlowEnv(t, flowEnvOptions{})
	a := publicApp()
	code := fe.appCode(fe.runFlow(browserClient(t), fe.loginURL("github", a)), a)
	fe.clock.Advance(59 * time.Second)
	fe.mustTokens(fe.redeem(a, code))

	b := confidentialApp()
	code = fe.appCode(fe.runFlow(browserClient(t), fe.loginURL("github", b)), b)
	fe.clock.Advance(61 * time.Second)
	if r := fe.redeem(b, code); r.status != http.StatusBadRequest || r.errCode(t) != "invalid_grant" {
		t.Fatalf("code after 61 s: %d %s", r.status, r.body)
	}
}

// link runs a whole link flow for the bearer of token and returns the
// redemption's answer.
func (fe *flowEnv) link(token, provider string) response {
	fe.t.Helper()
	a := publicApp()
	u := fe.runFlow(browserClient(fe.t), fe.startLink(token, provider, a))
	return fe.redeem(a, fe.appCode(u, a))
}

func TestLinkWhileSignedIn(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			fe := newFlowEnv(t, flowEnvOptions{backend: b})
			id := fe.signup("lena@example.com", pw)
			tk := fe.login("lena@example.com", pw)
			a := publicApp()
			linkURL := fe.startLink(tk.AccessToken, "github", a)
			u := fe.runFlow(browserClient(t), linkURL)
			code := fe.appCode(u, a)

			// Nothing is linked before the app redeems the code.
			if me := fe.me(tk.AccessToken); len(me.Identities) != 0 {
				t.Fatalf("linked before redemption: %+v", me.Identities)
			}
			if n := fe.users(); n != 1 {
				t.Fatalf("%d users, want 1", n)
			}

			pair := fe.mustTokens(fe.redeem(a, code))
			c := fe.claims(pair)
			if c.Subject != id || c.ClientID != publicClientID {
				t.Fatalf("link pair: sub %s client %s, want %s %s", c.Subject, c.ClientID, id, publicClientID)
			}
			me := fe.me(pair.AccessToken)
			if len(me.Identities) != 1 || me.Identities[0].Provider != "github" || me.Identities[0].Subject != "583231" ||
				me.Identities[0].Email != "octocat@example.com" {
				t.Fatalf("identities = %+v", me.Identities)
			}
			if !me.HasPassword || me.Email == nil || *me.Email != "lena@example.com" {
				t.Errorf("user changed: %+v", me)
			}
			if n := fe.users(); n != 1 {
				t.Errorf("%d users, want 1", n)
			}
			// The linked identity now signs the same user in.
			if sub := fe.claims(fe.signIn("github", confidentialApp())).Subject; sub != id {
				t.Errorf("GitHub sign-in after linking: user %s, want %s", sub, id)
			}
			// Linking it again is harmless.
			if r := fe.link(tk.AccessToken, "github"); r.status != http.StatusOK {
				t.Errorf("linking the same identity again: %d %s", r.status, r.body)
			}
			if ids := fe.identitiesOf(id); !slices.Equal(ids, []string{"github:583231"}) {
				t.Errorf("identities = %v", ids)
			}
		})
	}
}

func TestLinkRefusals(t *testing.T) {
	fe := newFlowEnv(t, flowEnvOptions{})
	n := 0
	// user makes a fresh password user and returns its id and token.
	user := func(fe *flowEnv) (string, string) {
		n++
		email := fmt.Sprintf("user%d@example.com", n)
		id := fe.signup(email, pw)
		return id, fe.login(email, pw).AccessToken
	}

	t.Run("identity of another user", func(t *testing.T) {
		fe := fe.at(t)
		fe.github.SetUser(githubUser(4001, "owner", "owner@example.com", true))
		owner := fe.claims(fe.signIn("github", publicApp())).Subject
		id, tk := user(fe)
		a := publicApp()
		u := fe.runFlow(browserClient(t), fe.startLink(tk, "github", a))
		if got := fe.appError(u, a); got != "identity_already_linked" {
			t.Fatalf("error=%q, want identity_already_linked", got)
		}
		if ids := fe.identitiesOf(id); len(ids) != 0 {
			t.Errorf("linked %v", ids)
		}
		if ids := fe.identitiesOf(owner); !slices.Equal(ids, []string{"github:4001"}) {
			t.Errorf("owner's identities = %v", ids)
		}
	})

	for _, tc := range []struct{ name, verifier string }{
		{"redeemed without the verifier", ""},
		{"redeemed with a wrong verifier", providers.NewPKCEVerifier()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fe := fe.at(t)
			fe.github.SetUser(githubUser(4100+int64(n), "someone", "", false))
			id, tk := user(fe)
			a := publicApp()
			// Opened in another browser than the app's: the URL alone suffices to run it.
			u := fe.runFlow(browserClient(t), fe.startLink(tk, "github", a))
			code := fe.appCode(u, a)
			b := a
			b.verifier = tc.verifier
			if r := fe.redeem(b, code); r.status != http.StatusBadRequest || r.errCode(t) != "invalid_grant" {
				t.Fatalf("%d %s, want 400 invalid_grant", r.status, r.body)
			}
			if r := fe.redeem(a, code); r.status != http.StatusBadRequest {
				t.Errorf("the code still worked after a failed redemption: %d", r.status)
			}
			if ids := fe.identitiesOf(id); len(ids) != 0 {
				t.Errorf("linked %v without the app's verifier", ids)
			}
		})
	}

	t.Run("second identity at the same provider", func(t *testing.T) {
		fe := fe.at(t)
		id, tk := user(fe)
		fe.github.SetUser(githubUser(4201, "first", "", false))
		fe.mustTokens(fe.link(tk, "github"))
		fe.github.SetUser(githubUser(4202, "second", "", false))
		a := publicApp()
		u := fe.runFlow(browserClient(t), fe.startLink(tk, "github", a))
		if got := fe.appError(u, a); got != "account_exists" {
			t.Errorf("error=%q, want account_exists", got)
		}
		if ids := fe.identitiesOf(id); !slices.Equal(ids, []string{"github:4201"}) {
			t.Errorf("identities = %v", ids)
		}
	})

	// Two link flows started before either is redeemed: the second
	// redemption finds the user already linked at that provider.
	t.Run("two pending links at one provider", func(t *testing.T) {
		fe := fe.at(t)
		id, tk := user(fe)
		a1, a2 := publicApp(), publicApp()
		fe.github.SetUser(githubUser(4301, "one", "", false))
		code1 := fe.appCode(fe.runFlow(browserClient(t), fe.startLink(tk, "github", a1)), a1)
		fe.github.SetUser(githubUser(4302, "two", "", false))
		code2 := fe.appCode(fe.runFlow(browserClient(t), fe.startLink(tk, "github", a2)), a2)
		fe.mustTokens(fe.redeem(a1, code1))
		r := fe.redeem(a2, code2)
		if r.status < 400 || r.status >= 500 {
			t.Errorf("second redemption: %d %s, want a 4xx client error (invalid_grant), not a server error", r.status, r.body)
		} else if code := r.errCode(t); code != "invalid_grant" && code != "account_exists" {
			t.Errorf("second redemption: error %q", code)
		}
		if ids := fe.identitiesOf(id); !slices.Equal(ids, []string{"github:4301"}) {
			t.Errorf("identities = %v", ids)
		}
	})

	// The identity signs in (and so gets its own user) between the link
	// flow's callback and the redemption of its code.
	t.Run("identity taken before redemption", func(t *testing.T) {
		fe := fe.at(t)
		id, tk := user(fe)
		fe.github.SetUser(githubUser(4501, "taken", "", false))
		a := publicApp()
		code := fe.appCode(fe.runFlow(browserClient(t), fe.startLink(tk, "github", a)), a)
		other := fe.claims(fe.signIn("github", publicApp())).Subject
		r := fe.redeem(a, code)
		if r.status < 400 || r.status >= 500 {
			t.Fatalf("redemption: %d %s, want a 4xx client error", r.status, r.body)
		}
		if code := r.errCode(t); code != "invalid_grant" && code != "identity_already_linked" {
			t.Errorf("redemption: error %q", code)
		}
		if ids := fe.identitiesOf(id); len(ids) != 0 {
			t.Errorf("linked %v", ids)
		}
		if ids := fe.identitiesOf(other); !slices.Equal(ids, []string{"github:4501"}) {
			t.Errorf("the signed-in user's identities = %v", ids)
		}
	})

	t.Run("link URL tampered", func(t *testing.T) {
		fe := fe.at(t)
		fe.github.SetUser(githubUser(4401, "tamper", "", false))
		id, tk := user(fe)
		a := publicApp()
		raw := fe.startLink(tk, "github", a)
		lu, _ := url.Parse(raw)
		for name, mutate := range map[string]func(q url.Values, u *url.URL){
			// An attacker's own challenge, so that they hold the verifier.
			"challenge replaced": func(q url.Values, u *url.URL) { q.Set("code_challenge", flowS256(providers.NewPKCEVerifier())) },
			"ticket used at another provider": func(q url.Values, u *url.URL) {
				u.Path = strings.Replace(u.Path, "/github/", "/google/", 1)
			},
			"ticket used by another client": func(q url.Values, u *url.URL) { q.Set("client_id", testClientID) },
			"ticket forged":                 func(q url.Values, u *url.URL) { q.Set("link", alter(q.Get("link"), len(q.Get("link"))/2)) },
		} {
			u := *lu
			q := u.Query()
			mutate(q, &u)
			u.RawQuery = q.Encode()
			r := fe.fetch(browserClient(t), u.String())
			if got := fe.appError(fe.location(r), a); got != "invalid_request" {
				t.Errorf("%s: error=%q, want invalid_request", name, got)
			}
		}
		if ids := fe.identitiesOf(id); len(ids) != 0 {
			t.Errorf("linked %v", ids)
		}
	})

	t.Run("start refused", func(t *testing.T) {
		fe := fe.at(t)
		_, tk := user(fe)
		a := publicApp()
		body := func(change func(m map[string]string)) map[string]string {
			m := map[string]string{"client_id": a.clientID, "redirect_uri": a.redirectURI, "state": a.state,
				"code_challenge": a.challenge(), "code_challenge_method": "S256"}
			change(m)
			return m
		}
		cases := []struct {
			name     string
			provider string
			body     map[string]string
			auth     []string
			status   int
			code     string
		}{
			{"no code_challenge", "github", body(func(m map[string]string) { delete(m, "code_challenge"); delete(m, "code_challenge_method") }), bearer(tk), 400, "invalid_request"},
			{"no code_challenge, confidential client", "github", body(func(m map[string]string) {
				m["client_id"] = testClientID
				delete(m, "code_challenge")
				delete(m, "code_challenge_method")
			}), bearer(tk), 400, "invalid_request"},
			{"method plain", "github", body(func(m map[string]string) { m["code_challenge_method"] = "plain" }), bearer(tk), 400, "invalid_request"},
			{"unregistered redirect_uri", "github", body(func(m map[string]string) { m["redirect_uri"] = "https://evil.example/cb" }), bearer(tk), 400, "invalid_request"},
			{"unknown client", "github", body(func(m map[string]string) { m["client_id"] = "nope" }), bearer(tk), 400, "invalid_request"},
			{"unknown provider", "nope", body(func(map[string]string) {}), bearer(tk), 404, "not_found"},
			{"no bearer", "github", body(func(map[string]string) {}), nil, 401, "invalid_token"},
		}
		for _, tc := range cases {
			r := fe.postJSON("/users/me/identities/"+tc.provider, tc.body, tc.auth...)
			if r.status != tc.status || r.errCode(t) != tc.code {
				t.Errorf("%s: %d %s, want %d %s", tc.name, r.status, r.body, tc.status, tc.code)
			}
		}
	})
}

func TestFlowUnlinkIdentity(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			fe := newFlowEnv(t, flowEnvOptions{backend: b})
			del := func(fe *flowEnv, token, provider string) response {
				return fe.do("DELETE", "/users/me/identities/"+provider, "", nil, bearer(token)...)
			}

			t.Run("user with a password", func(t *testing.T) {
				fe := fe.at(t)
				id := fe.signup("uma@example.com", pw)
				tk := fe.login("uma@example.com", pw).AccessToken
				fe.github.SetUser(githubUser(5001, "uma", "", false))
				fe.mustTokens(fe.link(tk, "github"))
				if r := del(fe, tk, "github"); r.status != http.StatusNoContent {
					t.Fatalf("unlink: %d %s", r.status, r.body)
				}
				if ids := fe.identitiesOf(id); len(ids) != 0 {
					t.Fatalf("identities after unlink = %v", ids)
				}
				if r := del(fe, tk, "github"); r.status != http.StatusNotFound || r.errCode(t) != "not_found" {
					t.Errorf("unlink again: %d %s", r.status, r.body)
				}
				// GitHub no longer signs this user in.
				if sub := fe.claims(fe.signIn("github", publicApp())).Subject; sub == id {
					t.Error("the unlinked identity still signs the user in")
				}
			})

			t.Run("only identity, no password", func(t *testing.T) {
				fe := fe.at(t)
				fe.github.SetUser(githubUser(5101, "solo", "", false))
				tk := fe.signIn("github", publicApp())
				id := fe.claims(tk).Subject
				r := del(fe, tk.AccessToken, "github")
				if r.status != http.StatusConflict || r.errCode(t) != "last_login_method" {
					t.Fatalf("unlink the last login method: %d %s", r.status, r.body)
				}
				if ids := fe.identitiesOf(id); !slices.Equal(ids, []string{"github:5101"}) {
					t.Errorf("identities = %v", ids)
				}
				if r := del(fe, tk.AccessToken, "google"); r.status != http.StatusNotFound || r.errCode(t) != "not_found" {
					t.Errorf("unlink a provider not linked: %d %s", r.status, r.body)
				}
			})

			t.Run("two identities, no password", func(t *testing.T) {
				fe := fe.at(t)
				fe.github.SetUser(githubUser(5201, "duo", "duo@example.com", true))
				tk := fe.signIn("github", publicApp())
				id := fe.claims(tk).Subject
				fe.google.SetUser(providertest.OIDCUser{Subject: "g-duo", Email: "duo@example.com", EmailVerified: new(true)})
				if sub := fe.claims(fe.signIn("google", publicApp())).Subject; sub != id {
					t.Fatalf("Google did not link to the GitHub user")
				}
				if r := del(fe, tk.AccessToken, "google"); r.status != http.StatusNoContent {
					t.Fatalf("unlink google: %d %s", r.status, r.body)
				}
				r := del(fe, tk.AccessToken, "github")
				if r.status != http.StatusConflict || r.errCode(t) != "last_login_method" {
					t.Fatalf("unlink the last identity: %d %s", r.status, r.body)
				}
				if me := fe.me(tk.AccessToken); !slices.Equal(me.providerIDs(), []string{"github"}) {
					t.Errorf("identities = %+v", me.Identities)
				}
			})

			t.Run("no bearer", func(t *testing.T) {
				fe := fe.at(t)
				if r := fe.do("DELETE", "/users/me/identities/github", "", nil); r.status != http.StatusUnauthorized {
					t.Errorf("%d %s", r.status, r.body)
				}
			})
		})
	}
}

// TestFlowProviderCallbackErrors tampers with what the provider sends back
// (RFC 6749 §4.1.2.1 error responses), keeping the right state and cookie.
func TestFlowProviderCallbackErrors(t *testing.T) {
	fe := newFlowEnv(t, flowEnvOptions{})
	cases := []struct {
		name  string
		query url.Values // replaces code (state is kept)
		want  string     // "" : any error
	}{
		{"access_denied", url.Values{"error": {"access_denied"}, "error_description": {"no"}}, "access_denied"},
		{"temporarily_unavailable", url.Values{"error": {"temporarily_unavailable"}}, "temporarily_unavailable"},
		{"unknown error", url.Values{"error": {"invalid_scope"}}, ""},
		{"neither code nor error", url.Values{}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fe := fe.at(t)
			c := browserClient(t)
			a := publicApp()
			auth, _ := fe.begin(c, fe.loginURL("google", a))
			cb := fe.authorize(auth)
			q := tc.query
			q.Set("state", cb.Query().Get("state"))
			u := *cb
			u.RawQuery = q.Encode()
			calls := fe.google.TokenRequests()
			got := fe.appError(fe.location(fe.fetch(c, u.String())), a)
			if got == "" || (tc.want != "" && got != tc.want) {
				t.Errorf("error=%q, want %q", got, cmp.Or(tc.want, "an error"))
			}
			if fe.google.TokenRequests() != calls {
				t.Error("exchanged a code although the provider sent none")
			}
			if n := fe.users(); n != 0 {
				t.Errorf("%d users", n)
			}
		})
	}
}
