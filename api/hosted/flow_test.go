package hosted_test

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
	"github.com/unilogin/unilogin/api/apitest"
	"github.com/unilogin/unilogin/config"
	"github.com/unilogin/unilogin/providers"
	"github.com/unilogin/unilogin/providers/github"
	"github.com/unilogin/unilogin/providers/providertest"
)

// The browser flow of docs/http-api.md, "External providers",
// driven like a browser through the real router against fake upstreams.

func TestFlowSignInWithEachProvider(t *testing.T) {
	for _, b := range apitest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{Backend: b, RS256: true})
			cases := []struct {
				provider, amr    string
				subject, email   string
				scope            string
				oidc             bool
				lastAuthorizeReq func() providertest.AuthorizeRequest
				lastTokenReq     func() providertest.TokenRequest
			}{
				{"google", "google", providertest.DefaultOIDCUser.Subject, providertest.DefaultOIDCUser.Email,
					"openid email profile", true, fe.Google.LastAuthorizeRequest, fe.Google.LastTokenRequest},
				{"github", "github", "583231", "octocat@example.com",
					"read:user user:email", false, fe.GitHub.LastAuthorizeRequest, fe.GitHub.LastTokenRequest},
				{"corp", "oidc:corp", apitest.FlowCorpUser.Subject, apitest.FlowCorpUser.Email,
					"openid email profile", true, fe.Corp.LastAuthorizeRequest, fe.Corp.LastTokenRequest},
			}
			for _, tc := range cases {
				t.Run(tc.provider, func(t *testing.T) {
					fe := fe.At(t)
					var userID string
					// Both clients; the second sign-in finds the identity.
					for _, app := range []apitest.FlowApp{apitest.PublicApp(), apitest.ConfidentialApp()} {
						tk := fe.SignIn(tc.provider, app)

						// What the provider received: its own state, nonce
						// (OIDC) and PKCE, and our callback.
						ar := tc.lastAuthorizeReq()
						if ar.RedirectURI != fe.CallbackURL(tc.provider) {
							t.Errorf("redirect_uri sent upstream = %q, want %q", ar.RedirectURI, fe.CallbackURL(tc.provider))
						}
						if ar.State == "" || ar.State == app.State {
							t.Errorf("upstream state = %q; want our own, not the app's %q", ar.State, app.State)
						}
						if ar.CodeChallengeMethod != "S256" || len(ar.CodeChallenge) != 43 || ar.CodeChallenge == app.Challenge() {
							t.Errorf("upstream PKCE = %q %q; want our own S256 challenge", ar.CodeChallengeMethod, ar.CodeChallenge)
						}
						if tc.oidc && ar.Nonce == "" {
							t.Error("no nonce sent to an OIDC provider")
						}
						if got := strings.Fields(ar.Scope); !sameSet(got, strings.Fields(tc.scope)) {
							t.Errorf("scope = %q, want %q", ar.Scope, tc.scope)
						}
						if tr := tc.lastTokenReq(); tr.RedirectURI != ar.RedirectURI || apitest.FlowS256(tr.CodeVerifier) != ar.CodeChallenge {
							t.Errorf("upstream token request: redirect_uri %q verifier %q", tr.RedirectURI, tr.CodeVerifier)
						}

						c := fe.Claims(tk)
						if !slices.Equal(c.AMR, []string{tc.amr}) {
							t.Errorf("amr = %v, want [%s]", c.AMR, tc.amr)
						}
						if c.ClientID != app.ClientID || c.Issuer != fe.URL {
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

						me := fe.Me(tk.AccessToken)
						if me.ID != userID || me.Email == nil || *me.Email != tc.email || !me.EmailVerified || me.HasPassword {
							t.Errorf("/users/me = %+v", me)
						}
						if len(me.Identities) != 1 {
							t.Fatalf("identities = %+v, want one", me.Identities)
						}
						if id := me.Identities[0]; id.Provider != tc.provider || id.Subject != tc.subject || id.Email != tc.email || id.LinkedAt == "" {
							t.Errorf("identity = %+v, want %s %s %s", id, tc.provider, tc.subject, tc.email)
						}
						if r := fe.Refresh(tk.RefreshToken); r.Status != http.StatusBadRequest {
							// The pair is bound to the client: refreshing without it fails.
							t.Errorf("refresh without the client: %d", r.Status)
						}
					}
				})
			}
			if n := fe.Users(); n != 3 {
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
	list := func(t *testing.T, e *apitest.Env) []entry {
		t.Helper()
		r := e.Get("/auth/providers")
		if r.Status != http.StatusOK {
			t.Fatalf("/auth/providers: %d %s", r.Status, r.Body)
		}
		var body struct {
			Providers []entry `json:"providers"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil || body.Providers == nil {
			t.Fatalf("/auth/providers = %s", r.Body)
		}
		slices.SortFunc(body.Providers, func(a, b entry) int { return strings.Compare(a.ID, b.ID) })
		return body.Providers
	}

	fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{})
	want := []entry{{"corp", "Corp SSO"}, {"github", "GitHub"}, {"google", "Google"}}
	if got := list(t, fe.Env); !slices.Equal(got, want) {
		t.Errorf("providers = %v, want %v", got, want)
	}

	// An install with GitHub only lists GitHub; the others do not exist.
	fake := providertest.NewGitHub(t)
	gh, err := github.New(github.Config{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, BaseURL: fake.URL, APIURL: fake.APIURL})
	if err != nil {
		t.Fatal(err)
	}
	e := apitest.NewEnv(t, apitest.EnvOptions{Providers: []providers.Provider{gh}})
	if got := list(t, e); !slices.Equal(got, []entry{{"github", "GitHub"}}) {
		t.Errorf("providers = %v, want only github", got)
	}
	q := apitest.PublicApp().LoginQuery().Encode()
	for _, p := range []string{"google", "corp"} {
		if r := e.Get("/auth/" + p + "/login?" + q); r.Status != http.StatusNotFound || r.ErrCode(t) != "not_found" {
			t.Errorf("login at disabled %s: %d %s", p, r.Status, r.Body)
		}
	}
	if r := e.Get("/auth/github/login?" + q); r.Status != http.StatusFound {
		t.Errorf("login at github: %d %s", r.Status, r.Body)
	}

	// None configured: an empty list, not null.
	if got := list(t, apitest.NewEnv(t, apitest.EnvOptions{})); len(got) != 0 {
		t.Errorf("providers = %v, want none", got)
	}
}

func TestFlowCookieAttributes(t *testing.T) {
	fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{})
	for _, p := range []string{"google", "github", "corp"} {
		_, ck := fe.Begin(apitest.BrowserClient(t), fe.LoginURL(p, apitest.PublicApp()))
		if !ck.HttpOnly {
			t.Errorf("%s: flow cookie is not HttpOnly", p)
		}
		if ck.SameSite != http.SameSiteLaxMode {
			t.Errorf("%s: flow cookie SameSite = %v, want Lax", p, ck.SameSite)
		}
		if ck.Secure {
			t.Errorf("%s: flow cookie is Secure although the issuer is %s", p, fe.URL)
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
	fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{Mutate: func(c *config.Config) { c.Issuer = issuer }})
	auth, ck := fe.Begin(apitest.BrowserClient(t), fe.LoginURL("github", apitest.PublicApp()))
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
	fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{})
	c := apitest.BrowserClient(t)
	a1, a2, a3 := apitest.PublicApp(), apitest.PublicApp(), apitest.ConfidentialApp()
	auth1, ck1 := fe.Begin(c, fe.LoginURL("google", a1))
	auth2, ck2 := fe.Begin(c, fe.LoginURL("google", a2))
	auth3, ck3 := fe.Begin(c, fe.LoginURL("github", a3))
	if ck1.Name == ck2.Name || ck1.Name == ck3.Name || ck2.Name == ck3.Name {
		t.Fatalf("flows share a cookie name (%s, %s, %s): a new flow overwrites the previous one", ck1.Name, ck2.Name, ck3.Name)
	}
	cb, _ := url.Parse(fe.CallbackURL("google"))
	if n := len(c.Jar.Cookies(cb)); n != 3 {
		t.Fatalf("the browser sends %d cookies to the callback, want 3", n)
	}
	cb1, cb2, cb3 := fe.Authorize(auth1), fe.Authorize(auth2), fe.Authorize(auth3)
	// Finish in another order than started.
	u3 := fe.Location(fe.Fetch(c, cb3.String()))
	u2 := fe.Location(fe.Fetch(c, cb2.String()))
	u1 := fe.Location(fe.Fetch(c, cb1.String()))
	t1 := fe.MustTokens(fe.Redeem(a1, fe.AppCode(u1, a1)))
	t2 := fe.MustTokens(fe.Redeem(a2, fe.AppCode(u2, a2)))
	t3 := fe.MustTokens(fe.Redeem(a3, fe.AppCode(u3, a3)))
	c1, c2, c3 := fe.Claims(t1), fe.Claims(t2), fe.Claims(t3)
	if c1.Subject != c2.Subject || c1.Subject == c3.Subject {
		t.Errorf("subjects %s %s %s: want the Google user twice and the GitHub user once", c1.Subject, c2.Subject, c3.Subject)
	}
	if !slices.Equal(c3.AMR, []string{"github"}) || !slices.Equal(c1.AMR, []string{"google"}) {
		t.Errorf("amr %v %v", c1.AMR, c3.AMR)
	}
}

func TestFlowLinkingDecisions(t *testing.T) {
	ctx := context.Background()
	for _, b := range apitest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Run("known identity signs in its user", func(t *testing.T) {
				fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{Backend: b})
				first := fe.Claims(fe.SignIn("google", apitest.PublicApp())).Subject
				// Even when the provider's email changed meanwhile.
				u := providertest.DefaultOIDCUser
				u.Email = "alice.new@example.com"
				fe.Google.SetUser(u)
				if again := fe.Claims(fe.SignIn("google", apitest.PublicApp())).Subject; again != first {
					t.Fatalf("second sign-in: user %s, want %s", again, first)
				}
				if n := fe.Users(); n != 1 {
					t.Fatalf("%d users, want 1", n)
				}
			})

			t.Run("verified emails link", func(t *testing.T) {
				fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{Backend: b})
				owner := githubOwner(fe, 1001, "dana", "dana@example.com")
				// Emails compare case-insensitively.
				fe.Google.SetUser(providertest.OIDCUser{Subject: "g-dana", Email: "Dana@Example.COM", EmailVerified: new(true)})
				tk := fe.SignIn("google", apitest.PublicApp())
				c := fe.Claims(tk)
				if c.Subject != owner || !slices.Equal(c.AMR, []string{"google"}) {
					t.Fatalf("Google sign-in: user %s amr %v, want the GitHub user %s", c.Subject, c.AMR, owner)
				}
				me := fe.Me(tk.AccessToken)
				if !sameSet(me.ProviderIDs(), []string{"github", "google"}) {
					t.Fatalf("identities = %+v, want github and google", me.Identities)
				}
				if me.Email == nil || *me.Email != "dana@example.com" || !me.EmailVerified {
					t.Errorf("email = %v %v", me.Email, me.EmailVerified)
				}
				if n := fe.Users(); n != 1 {
					t.Fatalf("%d users, want 1", n)
				}
			})

			t.Run("pre-account takeover is refused", func(t *testing.T) {
				fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{Backend: b})
				attacker := fe.Signup("victim@example.com", apitest.Password) // unverified
				fe.Google.SetUser(providertest.OIDCUser{Subject: "g-victim", Email: "victim@example.com", EmailVerified: new(true)})
				if got := fe.SignInError("google", apitest.PublicApp()); got != "account_exists" {
					t.Fatalf("Google sign-in: error=%q, want account_exists", got)
				}
				fe.GitHub.SetUser(apitest.NewGitHubUser(2002, "victim", "VICTIM@example.com", true))
				if got := fe.SignInError("github", apitest.ConfidentialApp()); got != "account_exists" {
					t.Fatalf("GitHub sign-in: error=%q, want account_exists", got)
				}
				if n := fe.Users(); n != 1 {
					t.Errorf("%d users, want only the attacker's", n)
				}
				fe.WantIdentities("the attacker's account", attacker)
				for _, id := range [][2]string{{"google", "g-victim"}, {"github", "2002"}} {
					if _, err := fe.Store.GetIdentity(ctx, id[0], id[1]); !errors.Is(err, accounts.ErrNotFound) {
						t.Errorf("identity %v stored: %v", id, err)
					}
				}
				if me := fe.Me(fe.Login("victim@example.com", apitest.Password).AccessToken); me.ID != attacker || len(me.Identities) != 0 || me.EmailVerified {
					t.Errorf("attacker's account = %+v", me)
				}
			})

			t.Run("unverified provider email", func(t *testing.T) {
				fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{Backend: b})
				owner := githubOwner(fe, 1001, "olga", "olga@example.com")
				for i, verified := range []*bool{new(false), nil} {
					t.Run(fmt.Sprintf("email_verified=%v", ptrString(verified)), func(t *testing.T) {
						fe := fe.At(t)
						fe.Google.SetUser(providertest.OIDCUser{Subject: fmt.Sprintf("g-olga-%d", i), Email: "olga@example.com", EmailVerified: verified})
						tk := fe.SignIn("google", apitest.PublicApp())
						c := fe.Claims(tk)
						if c.Subject == owner {
							t.Fatal("an unverified provider email was linked to the verified owner")
						}
						if c.Email != "" || c.EmailVerified != nil {
							t.Errorf("token email claims = %q %v, want none", c.Email, c.EmailVerified)
						}
						me := fe.Me(tk.AccessToken)
						if me.Email != nil || me.EmailVerified || !slices.Equal(me.ProviderIDs(), []string{"google"}) {
							t.Errorf("new user = %+v, want no email and one google identity", me)
						}
					})
				}
				wantOwnerUntouched(t, fe, owner, "github:1001", 3)
			})

			t.Run("no usable provider email", func(t *testing.T) {
				fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{Backend: b})
				cases := []struct {
					Name     string
					provider string
					gh       providertest.GitHubUser
					oidc     providertest.OIDCUser
				}{
					{"GitHub primary unverified", "github", apitest.NewGitHubUser(3001, "nomail1", "nomail1@example.com", false), providertest.OIDCUser{}},
					{"GitHub verified but not primary", "github", providertest.GitHubUser{ID: 3002, Login: "nomail2", Emails: []providertest.GitHubEmail{
						{Email: "primary@example.com", Primary: true}, {Email: "other@example.com", Verified: true}}}, providertest.OIDCUser{}},
					{"GitHub no emails", "github", apitest.NewGitHubUser(3003, "nomail3", "", false), providertest.OIDCUser{}},
					{"OIDC no email claim", "google", providertest.GitHubUser{}, providertest.OIDCUser{Subject: "g-nomail"}},
				}
				for _, tc := range cases {
					t.Run(tc.Name, func(t *testing.T) {
						fe := fe.At(t)
						before := fe.Users()
						fe.GitHub.SetUser(tc.gh)
						fe.Google.SetUser(tc.oidc)
						tk := fe.SignIn(tc.provider, apitest.PublicApp())
						me := fe.Me(tk.AccessToken)
						if me.Email != nil || me.EmailVerified || len(me.Identities) != 1 || me.Identities[0].Provider != tc.provider {
							t.Errorf("user = %+v, want a new user without email", me)
						}
						if c := fe.Claims(tk); c.Email != "" || c.EmailVerified != nil {
							t.Errorf("token email claims = %q %v", c.Email, c.EmailVerified)
						}
						if n := fe.Users(); n != before+1 {
							t.Errorf("%d users, want %d", n, before+1)
						}
					})
				}
			})

			t.Run("policy off", func(t *testing.T) {
				fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{Backend: b, Mutate: func(c *config.Config) { c.Linking.ByVerifiedEmail = new(false) }})
				owner := githubOwner(fe, 1001, "pat", "pat@example.com")
				fe.Google.SetUser(providertest.OIDCUser{Subject: "g-pat", Email: "pat@example.com", EmailVerified: new(true)})
				tk := fe.SignIn("google", apitest.PublicApp())
				me := fe.Me(tk.AccessToken)
				if me.ID == owner || me.Email != nil {
					t.Fatalf("with linking off: user %+v (owner %s), want a new user without email", me, owner)
				}
				wantOwnerUntouched(t, fe, owner, "github:1001", 2)
			})

			t.Run("second identity at one provider", func(t *testing.T) {
				fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{Backend: b})
				owner := githubOwner(fe, 1001, "dana", "dana@example.com")
				fe.GitHub.SetUser(apitest.NewGitHubUser(1002, "dana-work", "dana@example.com", true))
				if got := fe.SignInError("github", apitest.PublicApp()); got != "account_exists" {
					t.Fatalf("second GitHub account with the same email: error=%q, want account_exists", got)
				}
				wantOwnerUntouched(t, fe, owner, "github:1001", 1)
			})

			t.Run("disabled user", func(t *testing.T) {
				fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{Backend: b})
				id := fe.Claims(fe.SignIn("github", apitest.PublicApp())).Subject
				if err := fe.Store.SetDisabled(ctx, id, true); err != nil {
					t.Fatal(err)
				}
				if got := fe.SignInError("github", apitest.PublicApp()); got != "access_denied" {
					t.Fatalf("disabled user's sign-in: error=%q, want access_denied", got)
				}
			})
		})
	}
}

// googleCallback starts a Google sign-in for a new public app in a new
// browser and has the user consent at the fake: the browser c (holding
// the flow cookie ck) is about to follow cb, the provider's callback.
func googleCallback(fe *apitest.FlowEnv) (c *http.Client, a apitest.FlowApp, cb *url.URL, ck *http.Cookie) {
	fe.T.Helper()
	c, a = apitest.BrowserClient(fe.T), apitest.PublicApp()
	auth, ck := fe.Begin(c, fe.LoginURL("google", a))
	return c, a, fe.Authorize(auth), ck
}

// githubOwner signs a GitHub user with a verified address in and returns
// the id of the user it becomes.
func githubOwner(fe *apitest.FlowEnv, id int64, login, email string) string {
	fe.T.Helper()
	fe.GitHub.SetUser(apitest.NewGitHubUser(id, login, email, true))
	return fe.Claims(fe.SignIn("github", apitest.PublicApp())).Subject
}

// wantOwnerUntouched fails unless owner has only the identity it had and
// the service has users users.
func wantOwnerUntouched(t *testing.T, fe *apitest.FlowEnv, owner, identity string, users int) {
	t.Helper()
	fe.WantIdentities("the owner", owner, identity)
	if n := fe.Users(); n != users {
		t.Errorf("%d users, want %d", n, users)
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
	for _, b := range apitest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{Backend: b})
			cases := []struct {
				Name string
				// first: complete the callback once, legitimately, before.
				first bool
				bad   func(t *testing.T, fe *apitest.FlowEnv, c *http.Client, cb *url.URL, ck *http.Cookie) apitest.Response
			}{
				{"state altered", false, func(t *testing.T, fe *apitest.FlowEnv, c *http.Client, cb *url.URL, ck *http.Cookie) apitest.Response {
					s := cb.Query().Get("state")
					return fe.Fetch(c, withState(cb, alter(s, len(s)/2+len(s)/4), true))
				}},
				{"state names another flow", false, func(t *testing.T, fe *apitest.FlowEnv, c *http.Client, cb *url.URL, ck *http.Cookie) apitest.Response {
					return fe.Fetch(c, withState(cb, alter(cb.Query().Get("state"), 0), true))
				}},
				{"state missing", false, func(t *testing.T, fe *apitest.FlowEnv, c *http.Client, cb *url.URL, ck *http.Cookie) apitest.Response {
					return fe.Fetch(c, withState(cb, "", false))
				}},
				{"no flow cookie", false, func(t *testing.T, fe *apitest.FlowEnv, c *http.Client, cb *url.URL, ck *http.Cookie) apitest.Response {
					return fe.Fetch(apitest.BrowserClient(t), cb.String())
				}},
				{"flow cookie tampered", false, func(t *testing.T, fe *apitest.FlowEnv, c *http.Client, cb *url.URL, ck *http.Cookie) apitest.Response {
					bad := &http.Cookie{Name: ck.Name, Value: alter(ck.Value, len(ck.Value)/2)}
					return fe.Fetch(apitest.BrowserClient(t), cb.String(), bad)
				}},
				{"callback of another provider", false, func(t *testing.T, fe *apitest.FlowEnv, c *http.Client, cb *url.URL, ck *http.Cookie) apitest.Response {
					return fe.Fetch(c, strings.Replace(cb.String(), "/auth/google/", "/auth/corp/", 1))
				}},
				{"replayed", true, func(t *testing.T, fe *apitest.FlowEnv, c *http.Client, cb *url.URL, ck *http.Cookie) apitest.Response {
					return fe.Fetch(c, cb.String())
				}},
				{"replayed with a copy of the cookie", true, func(t *testing.T, fe *apitest.FlowEnv, c *http.Client, cb *url.URL, ck *http.Cookie) apitest.Response {
					return fe.Fetch(apitest.BrowserClient(t), cb.String(), ck)
				}},
			}
			for _, tc := range cases {
				t.Run(tc.Name, func(t *testing.T) {
					fe := fe.At(t)
					c, a, cb, ck := googleCallback(fe)
					if tc.first {
						fe.AppCode(fe.Location(fe.Fetch(c, cb.String())), a)
					}
					users, calls := fe.Users(), fe.Google.TokenRequests()+fe.Corp.TokenRequests()
					r := tc.bad(t, fe, c, cb, ck)
					if r.Status != http.StatusBadRequest || r.ErrCode(t) != "invalid_request" {
						t.Fatalf("%d %s, want 400 invalid_request", r.Status, r.Body)
					}
					if loc := r.Header.Get("Location"); loc != "" {
						t.Errorf("redirected to %s; bad state or cookie must not redirect", loc)
					}
					if n := fe.Users(); n != users {
						t.Errorf("users %d -> %d", users, n)
					}
					if n := fe.Google.TokenRequests() + fe.Corp.TokenRequests(); n != calls {
						t.Error("the provider's code was redeemed")
					}
				})
			}
		})
	}
}

func TestFlowUpstreamFailuresRedirectWithAnError(t *testing.T) {
	fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{})
	type oidcB = providertest.OIDCBehavior
	type ghB = providertest.GitHubBehavior
	cases := []struct {
		Name, provider string
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
		t.Run(tc.Name, func(t *testing.T) {
			fe := fe.At(t)
			fake := fe.Google
			if tc.provider == "corp" {
				fake = fe.Corp
			}
			fake.SetBehavior(tc.oidc)
			fe.GitHub.SetBehavior(tc.gh)
			defer fake.SetBehavior(oidcB{})
			defer fe.GitHub.SetBehavior(ghB{})
			for _, a := range []apitest.FlowApp{apitest.PublicApp(), apitest.ConfidentialApp()} {
				if got := fe.SignInError(tc.provider, a); got != tc.want {
					t.Errorf("%s: error=%q, want %q", a.ClientID, got, tc.want)
				}
			}
			if n := fe.Users(); n != 0 {
				t.Errorf("%d users after a failed sign-in", n)
			}
		})
	}
	// The same providers work again once the upstream behaves.
	for _, p := range []string{"google", "github", "corp"} {
		fe.SignIn(p, apitest.PublicApp())
	}
}

func TestFlowLoginRefusesUnregisteredRedirectsWithoutRedirecting(t *testing.T) {
	fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{})
	cases := []struct{ Name, ClientID, RedirectURI string }{
		{"other port", apitest.PublicClientID, "https://app.example.com:8443/callback"},
		{"explicit default port", apitest.PublicClientID, "https://app.example.com:443/callback"},
		{"trailing path", apitest.PublicClientID, "https://app.example.com/callback/x"},
		{"userinfo", apitest.PublicClientID, "https://evil@app.example.com/callback"},
		{"scheme change", apitest.PublicClientID, "http://app.example.com/callback"},
		{"encoded characters", apitest.PublicClientID, "https://app.example.com/%63allback"},
		{"host case change", apitest.PublicClientID, "https://APP.example.com/callback"},
		{"path case change", apitest.PublicClientID, "https://app.example.com/Callback"},
		{"trailing slash", apitest.PublicClientID, "https://app.example.com/callback/"},
		{"added query", apitest.PublicClientID, "https://app.example.com/callback?next=https://evil.example"},
		{"fragment", apitest.PublicClientID, "https://app.example.com/callback#x"},
		{"trailing dot in host", apitest.PublicClientID, "https://app.example.com./callback"},
		{"suffix host", apitest.PublicClientID, "https://app.example.com.evil.example/callback"},
		{"scheme-relative", apitest.PublicClientID, "//app.example.com/callback"},
		{"empty", apitest.PublicClientID, ""},
		{"another client's URI", apitest.TestClientID, "http://127.0.0.1:9999/cb"},
		{"unknown client", "nope", apitest.AppRedirect},
		{"no client", "", apitest.AppRedirect},
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			fe := fe.At(t)
			a := apitest.PublicApp()
			a.ClientID, a.RedirectURI = tc.ClientID, tc.RedirectURI
			for _, p := range []string{"google", "github"} {
				r := fe.Fetch(apitest.BrowserClient(t), fe.LoginURL(p, a))
				if r.Status != http.StatusBadRequest || r.ErrCode(t) != "invalid_request" {
					t.Fatalf("%s: %d %s, want 400 invalid_request", p, r.Status, r.Body)
				}
				if loc := r.Header.Get("Location"); loc != "" {
					t.Errorf("%s: redirected to %s", p, loc)
				}
				if cks := apitest.SetCookies(t, r); len(cks) != 0 {
					t.Errorf("%s: a refused login set cookies %v", p, cks)
				}
			}
		})
	}
	t.Run("repeated redirect_uri", func(t *testing.T) {
		fe := fe.At(t)
		a := apitest.PublicApp()
		raw := fe.LoginURL("google", a) + "&redirect_uri=" + url.QueryEscape("https://evil.example/callback")
		r := fe.Fetch(apitest.BrowserClient(t), raw)
		if r.Status != http.StatusBadRequest || r.Header.Get("Location") != "" || r.ErrCode(t) != "invalid_request" {
			t.Fatalf("%d %s Location=%q", r.Status, r.Body, r.Header.Get("Location"))
		}
	})
	if ar := fe.Google.LastAuthorizeRequest(); ar.State != "" {
		t.Error("a refused login reached the provider")
	}
	// The registered URIs, exactly, are accepted.
	for _, redirect := range []string{apitest.AppRedirect, "http://127.0.0.1:9999/cb"} {
		a := apitest.PublicApp()
		a.RedirectURI = redirect
		fe.SignIn("google", a)
	}
}

func TestFlowLoginRedirectsOtherProblemsToTheApp(t *testing.T) {
	fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{})
	v := providers.NewPKCEVerifier()
	cases := []struct {
		Name   string
		client string
		query  url.Values // besides client_id, redirect_uri and state
	}{
		{"public client without code_challenge", apitest.PublicClientID, url.Values{}},
		{"method plain", apitest.PublicClientID, url.Values{"code_challenge": {apitest.FlowS256(v)}, "code_challenge_method": {"plain"}}},
		{"method plain, confidential client", apitest.TestClientID, url.Values{"code_challenge": {v}, "code_challenge_method": {"plain"}}},
		{"challenge without method", apitest.PublicClientID, url.Values{"code_challenge": {apitest.FlowS256(v)}}},
		{"method without challenge", apitest.TestClientID, url.Values{"code_challenge_method": {"S256"}}},
		{"malformed challenge", apitest.PublicClientID, url.Values{"code_challenge": {"short"}, "code_challenge_method": {"S256"}}},
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			fe := fe.At(t)
			a := apitest.FlowApp{ClientID: tc.client, RedirectURI: apitest.AppRedirect, State: "s-" + tc.Name}
			q := tc.query
			q.Set("client_id", a.ClientID)
			q.Set("redirect_uri", a.RedirectURI)
			q.Set("state", a.State)
			r := fe.Fetch(apitest.BrowserClient(t), fe.URL+"/auth/google/login?"+q.Encode())
			if got := fe.AppError(fe.Location(r), a); got != "invalid_request" {
				t.Fatalf("error=%q, want invalid_request", got)
			}
		})
	}
	if ar := fe.Google.LastAuthorizeRequest(); ar.State != "" {
		t.Error("a refused login reached the provider")
	}
}

func TestFlowUnknownProviderIsNotFound(t *testing.T) {
	fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{})
	fe.Signup("nina@example.com", apitest.Password)
	tk := fe.Login("nina@example.com", apitest.Password)
	a := apitest.PublicApp()
	for _, r := range []apitest.Response{
		fe.Get("/auth/nope/login?" + a.LoginQuery().Encode()),
		fe.Get("/auth/nope/callback?code=x&state=" + strings.Repeat("A", 22) + ".x"),
		fe.PostJSON("/users/me/identities/nope", map[string]string{"client_id": a.ClientID, "redirect_uri": a.RedirectURI,
			"code_challenge": a.Challenge(), "code_challenge_method": "S256"}, apitest.Bearer(tk.AccessToken)...),
		fe.Do("DELETE", "/users/me/identities/nope", "", nil, apitest.Bearer(tk.AccessToken)...),
	} {
		if r.Status != http.StatusNotFound || r.ErrCode(t) != "not_found" || r.Header.Get("Location") != "" {
			t.Errorf("%d %s, want 404 not_found", r.Status, r.Body)
		}
	}
}

func TestFlowCodeRedemptionRefusals(t *testing.T) {
	fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{})
	loopback := apitest.PublicApp()
	loopback.RedirectURI = "http://127.0.0.1:9999/cb"
	// reuse redeems the code, then again.
	reuse := func(fe *apitest.FlowEnv, a apitest.FlowApp, code string) apitest.Response {
		fe.MustTokens(fe.Redeem(a, code))
		return fe.Redeem(a, code)
	}
	cases := []struct {
		Name   string
		app    apitest.FlowApp
		Redeem func(fe *apitest.FlowEnv, a apitest.FlowApp, code string) apitest.Response
		Status int
		want   string
	}{
		{"code reused", apitest.PublicApp(), reuse, 400, "invalid_grant"},
		{"code reused by the confidential client", apitest.ConfidentialApp(), reuse, 400, "invalid_grant"},
		{"PKCE verifier mismatch", apitest.PublicApp(), func(fe *apitest.FlowEnv, a apitest.FlowApp, code string) apitest.Response {
			a.Verifier = providers.NewPKCEVerifier()
			return fe.Redeem(a, code)
		}, 400, "invalid_grant"},
		{"right verifier after a wrong one", apitest.PublicApp(), func(fe *apitest.FlowEnv, a apitest.FlowApp, code string) apitest.Response {
			b := a
			b.Verifier = providers.NewPKCEVerifier()
			fe.Redeem(b, code)
			return fe.Redeem(a, code)
		}, 400, "invalid_grant"},
		{"verifier missing", apitest.PublicApp(), func(fe *apitest.FlowEnv, a apitest.FlowApp, code string) apitest.Response {
			a.Verifier = ""
			return fe.Redeem(a, code)
		}, 400, "invalid_grant"},
		{"verifier without a challenge", apitest.ConfidentialApp(), func(fe *apitest.FlowEnv, a apitest.FlowApp, code string) apitest.Response {
			a.Verifier = providers.NewPKCEVerifier()
			return fe.Redeem(a, code)
		}, 400, "invalid_grant"},
		{"redeemed by another client", apitest.PublicApp(), func(fe *apitest.FlowEnv, a apitest.FlowApp, code string) apitest.Response {
			b := apitest.ConfidentialApp()
			b.Verifier = a.Verifier
			return fe.Redeem(b, code)
		}, 400, "invalid_grant"},
		{"public client's code, confidential client without PKCE", apitest.PublicApp(), func(fe *apitest.FlowEnv, a apitest.FlowApp, code string) apitest.Response {
			return fe.Redeem(apitest.ConfidentialApp(), code)
		}, 400, "invalid_grant"},
		{"redirect_uri mismatch", loopback, func(fe *apitest.FlowEnv, a apitest.FlowApp, code string) apitest.Response {
			a.RedirectURI = apitest.AppRedirect
			return fe.Redeem(a, code)
		}, 400, "invalid_grant"},
		{"unknown code", apitest.PublicApp(), func(fe *apitest.FlowEnv, a apitest.FlowApp, code string) apitest.Response {
			return fe.Redeem(a, alter(code, len(code)/2))
		}, 400, "invalid_grant"},
		{"confidential client without its secret", apitest.ConfidentialApp(), func(fe *apitest.FlowEnv, a apitest.FlowApp, code string) apitest.Response {
			a.Secret = ""
			return fe.Redeem(a, code)
		}, 401, "invalid_client"},
		{"expired", apitest.PublicApp(), func(fe *apitest.FlowEnv, a apitest.FlowApp, code string) apitest.Response {
			fe.Clock.Advance(61 * time.Second)
			return fe.Redeem(a, code)
		}, 400, "invalid_grant"},
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			fe := fe.At(t)
			u := fe.RunFlow(apitest.BrowserClient(t), fe.LoginURL("google", tc.app))
			code := fe.AppCode(u, tc.app)
			r := tc.Redeem(fe, tc.app, code)
			if r.Status != tc.Status || r.ErrCode(t) != tc.want {
				t.Fatalf("%d %s, want %d %s", r.Status, r.Body, tc.Status, tc.want)
			}
			if r.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control = %q", r.Header.Get("Cache-Control"))
			}
		})
	}
}

func TestFlowCodeLivesSixtySeconds(t *testing.T) {
	fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{})
	a := apitest.PublicApp()
	code := fe.AppCode(fe.RunFlow(apitest.BrowserClient(t), fe.LoginURL("github", a)), a)
	fe.Clock.Advance(59 * time.Second)
	fe.MustTokens(fe.Redeem(a, code))

	b := apitest.ConfidentialApp()
	code = fe.AppCode(fe.RunFlow(apitest.BrowserClient(t), fe.LoginURL("github", b)), b)
	fe.Clock.Advance(61 * time.Second)
	if r := fe.Redeem(b, code); r.Status != http.StatusBadRequest || r.ErrCode(t) != "invalid_grant" {
		t.Fatalf("code after 61 s: %d %s", r.Status, r.Body)
	}
}

// link runs a whole link flow for the bearer of token and returns the
// redemption's answer.
func link(fe *apitest.FlowEnv, token, provider string) apitest.Response {
	fe.T.Helper()
	a := apitest.PublicApp()
	u := fe.RunLink(token, provider, a)
	return fe.Redeem(a, fe.AppCode(u, a))
}

func TestLinkWhileSignedIn(t *testing.T) {
	for _, b := range apitest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{Backend: b})
			id := fe.Signup("lena@example.com", apitest.Password)
			tk := fe.Login("lena@example.com", apitest.Password)
			a := apitest.PublicApp()
			linkURL := fe.StartLink(tk.AccessToken, "github", a)
			u := fe.RunFlow(apitest.BrowserClient(t), linkURL)
			code := fe.AppCode(u, a)

			// Nothing is linked before the app redeems the code.
			if me := fe.Me(tk.AccessToken); len(me.Identities) != 0 {
				t.Fatalf("linked before redemption: %+v", me.Identities)
			}
			if n := fe.Users(); n != 1 {
				t.Fatalf("%d users, want 1", n)
			}

			pair := fe.MustTokens(fe.Redeem(a, code))
			c := fe.Claims(pair)
			if c.Subject != id || c.ClientID != apitest.PublicClientID {
				t.Fatalf("link pair: sub %s client %s, want %s %s", c.Subject, c.ClientID, id, apitest.PublicClientID)
			}
			me := fe.Me(pair.AccessToken)
			if len(me.Identities) != 1 || me.Identities[0].Provider != "github" || me.Identities[0].Subject != "583231" ||
				me.Identities[0].Email != "octocat@example.com" {
				t.Fatalf("identities = %+v", me.Identities)
			}
			if !me.HasPassword || me.Email == nil || *me.Email != "lena@example.com" {
				t.Errorf("user changed: %+v", me)
			}
			if n := fe.Users(); n != 1 {
				t.Errorf("%d users, want 1", n)
			}
			// The linked identity now signs the same user in.
			if sub := fe.Claims(fe.SignIn("github", apitest.ConfidentialApp())).Subject; sub != id {
				t.Errorf("GitHub sign-in after linking: user %s, want %s", sub, id)
			}
			// Linking it again is harmless.
			if r := link(fe, tk.AccessToken, "github"); r.Status != http.StatusOK {
				t.Errorf("linking the same identity again: %d %s", r.Status, r.Body)
			}
			fe.WantIdentities("the user", id, "github:583231")
		})
	}
}

func TestLinkRefusals(t *testing.T) {
	fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{})
	n := 0
	// user makes a fresh password user and returns its id and token.
	user := func(fe *apitest.FlowEnv) (string, string) {
		n++
		email := fmt.Sprintf("user%d@example.com", n)
		id := fe.Signup(email, apitest.Password)
		return id, fe.Login(email, apitest.Password).AccessToken
	}

	t.Run("identity of another user", func(t *testing.T) {
		fe := fe.At(t)
		owner := githubOwner(fe, 4001, "owner", "owner@example.com")
		id, tk := user(fe)
		a := apitest.PublicApp()
		u := fe.RunLink(tk, "github", a)
		if got := fe.AppError(u, a); got != "identity_already_linked" {
			t.Fatalf("error=%q, want identity_already_linked", got)
		}
		fe.WantIdentities("the linking user", id)
		fe.WantIdentities("the owner", owner, "github:4001")
	})

	for _, tc := range []struct{ Name, Verifier string }{
		{"redeemed without the verifier", ""},
		{"redeemed with a wrong verifier", providers.NewPKCEVerifier()},
	} {
		t.Run(tc.Name, func(t *testing.T) {
			fe := fe.At(t)
			fe.GitHub.SetUser(apitest.NewGitHubUser(4100+int64(n), "someone", "", false))
			id, tk := user(fe)
			a := apitest.PublicApp()
			// Opened in another browser than the app's: the URL alone suffices to run it.
			u := fe.RunLink(tk, "github", a)
			code := fe.AppCode(u, a)
			b := a
			b.Verifier = tc.Verifier
			if r := fe.Redeem(b, code); r.Status != http.StatusBadRequest || r.ErrCode(t) != "invalid_grant" {
				t.Fatalf("%d %s, want 400 invalid_grant", r.Status, r.Body)
			}
			if r := fe.Redeem(a, code); r.Status != http.StatusBadRequest {
				t.Errorf("the code still worked after a failed redemption: %d", r.Status)
			}
			fe.WantIdentities("without the app's verifier", id)
		})
	}

	t.Run("second identity at the same provider", func(t *testing.T) {
		fe := fe.At(t)
		id, tk := user(fe)
		fe.GitHub.SetUser(apitest.NewGitHubUser(4201, "first", "", false))
		fe.MustTokens(link(fe, tk, "github"))
		fe.GitHub.SetUser(apitest.NewGitHubUser(4202, "second", "", false))
		a := apitest.PublicApp()
		u := fe.RunLink(tk, "github", a)
		if got := fe.AppError(u, a); got != "account_exists" {
			t.Errorf("error=%q, want account_exists", got)
		}
		fe.WantIdentities("the user", id, "github:4201")
	})

	// Two link flows started before either is redeemed: the second
	// redemption finds the user already linked at that provider.
	t.Run("two pending links at one provider", func(t *testing.T) {
		fe := fe.At(t)
		id, tk := user(fe)
		a1, a2 := apitest.PublicApp(), apitest.PublicApp()
		fe.GitHub.SetUser(apitest.NewGitHubUser(4301, "one", "", false))
		code1 := fe.AppCode(fe.RunLink(tk, "github", a1), a1)
		fe.GitHub.SetUser(apitest.NewGitHubUser(4302, "two", "", false))
		code2 := fe.AppCode(fe.RunLink(tk, "github", a2), a2)
		fe.MustTokens(fe.Redeem(a1, code1))
		r := fe.Redeem(a2, code2)
		if r.Status < 400 || r.Status >= 500 {
			t.Errorf("second redemption: %d %s, want a 4xx client error (invalid_grant), not a server error", r.Status, r.Body)
		} else if code := r.ErrCode(t); code != "invalid_grant" && code != "account_exists" {
			t.Errorf("second redemption: error %q", code)
		}
		fe.WantIdentities("the user", id, "github:4301")
	})

	// The identity signs in (and so gets its own user) between the link
	// flow's callback and the redemption of its code.
	t.Run("identity taken before redemption", func(t *testing.T) {
		fe := fe.At(t)
		id, tk := user(fe)
		fe.GitHub.SetUser(apitest.NewGitHubUser(4501, "taken", "", false))
		a := apitest.PublicApp()
		code := fe.AppCode(fe.RunLink(tk, "github", a), a)
		other := fe.Claims(fe.SignIn("github", apitest.PublicApp())).Subject
		r := fe.Redeem(a, code)
		if r.Status < 400 || r.Status >= 500 {
			t.Fatalf("redemption: %d %s, want a 4xx client error", r.Status, r.Body)
		}
		if code := r.ErrCode(t); code != "invalid_grant" && code != "identity_already_linked" {
			t.Errorf("redemption: error %q", code)
		}
		fe.WantIdentities("the linking user", id)
		fe.WantIdentities("the signed-in user", other, "github:4501")
	})

	t.Run("link URL tampered", func(t *testing.T) {
		fe := fe.At(t)
		fe.GitHub.SetUser(apitest.NewGitHubUser(4401, "tamper", "", false))
		id, tk := user(fe)
		a := apitest.PublicApp()
		raw := fe.StartLink(tk, "github", a)
		lu, _ := url.Parse(raw)
		for name, mutate := range map[string]func(q url.Values, u *url.URL){
			// An attacker's own challenge, so that they hold the verifier.
			"challenge replaced": func(q url.Values, u *url.URL) { q.Set("code_challenge", apitest.FlowS256(providers.NewPKCEVerifier())) },
			"ticket used at another provider": func(q url.Values, u *url.URL) {
				u.Path = strings.Replace(u.Path, "/github/", "/google/", 1)
			},
			"ticket used by another client": func(q url.Values, u *url.URL) { q.Set("client_id", apitest.TestClientID) },
			"ticket forged":                 func(q url.Values, u *url.URL) { q.Set("link", alter(q.Get("link"), len(q.Get("link"))/2)) },
		} {
			u := *lu
			q := u.Query()
			mutate(q, &u)
			u.RawQuery = q.Encode()
			r := fe.Fetch(apitest.BrowserClient(t), u.String())
			if got := fe.AppError(fe.Location(r), a); got != "invalid_request" {
				t.Errorf("%s: error=%q, want invalid_request", name, got)
			}
		}
		fe.WantIdentities("the linking user", id)
	})

	t.Run("start refused", func(t *testing.T) {
		fe := fe.At(t)
		_, tk := user(fe)
		a := apitest.PublicApp()
		body := func(change func(m map[string]string)) map[string]string {
			m := map[string]string{"client_id": a.ClientID, "redirect_uri": a.RedirectURI, "state": a.State,
				"code_challenge": a.Challenge(), "code_challenge_method": "S256"}
			change(m)
			return m
		}
		cases := []struct {
			Name     string
			provider string
			Body     map[string]string
			auth     []string
			Status   int
			code     string
		}{
			{"no code_challenge", "github", body(func(m map[string]string) { delete(m, "code_challenge"); delete(m, "code_challenge_method") }), apitest.Bearer(tk), 400, "invalid_request"},
			{"no code_challenge, confidential client", "github", body(func(m map[string]string) {
				m["client_id"] = apitest.TestClientID
				delete(m, "code_challenge")
				delete(m, "code_challenge_method")
			}), apitest.Bearer(tk), 400, "invalid_request"},
			{"method plain", "github", body(func(m map[string]string) { m["code_challenge_method"] = "plain" }), apitest.Bearer(tk), 400, "invalid_request"},
			{"unregistered redirect_uri", "github", body(func(m map[string]string) { m["redirect_uri"] = "https://evil.example/cb" }), apitest.Bearer(tk), 400, "invalid_request"},
			{"unknown client", "github", body(func(m map[string]string) { m["client_id"] = "nope" }), apitest.Bearer(tk), 400, "invalid_request"},
			{"unknown provider", "nope", body(func(map[string]string) {}), apitest.Bearer(tk), 404, "not_found"},
			{"no bearer", "github", body(func(map[string]string) {}), nil, 401, "invalid_token"},
		}
		for _, tc := range cases {
			r := fe.PostJSON("/users/me/identities/"+tc.provider, tc.Body, tc.auth...)
			if r.Status != tc.Status || r.ErrCode(t) != tc.code {
				t.Errorf("%s: %d %s, want %d %s", tc.Name, r.Status, r.Body, tc.Status, tc.code)
			}
		}
	})
}

func TestFlowUnlinkIdentity(t *testing.T) {
	for _, b := range apitest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{Backend: b})
			del := func(fe *apitest.FlowEnv, token, provider string) apitest.Response {
				return fe.Do("DELETE", "/users/me/identities/"+provider, "", nil, apitest.Bearer(token)...)
			}

			t.Run("user with a password", func(t *testing.T) {
				fe := fe.At(t)
				id := fe.Signup("uma@example.com", apitest.Password)
				tk := fe.Login("uma@example.com", apitest.Password).AccessToken
				fe.GitHub.SetUser(apitest.NewGitHubUser(5001, "uma", "", false))
				fe.MustTokens(link(fe, tk, "github"))
				if r := del(fe, tk, "github"); r.Status != http.StatusNoContent {
					t.Fatalf("unlink: %d %s", r.Status, r.Body)
				}
				if ids := fe.IdentitiesOf(id); len(ids) != 0 {
					t.Fatalf("identities after unlink = %v", ids)
				}
				if r := del(fe, tk, "github"); r.Status != http.StatusNotFound || r.ErrCode(t) != "not_found" {
					t.Errorf("unlink again: %d %s", r.Status, r.Body)
				}
				// GitHub no longer signs this user in.
				if sub := fe.Claims(fe.SignIn("github", apitest.PublicApp())).Subject; sub == id {
					t.Error("the unlinked identity still signs the user in")
				}
			})

			t.Run("only identity, no password", func(t *testing.T) {
				fe := fe.At(t)
				fe.GitHub.SetUser(apitest.NewGitHubUser(5101, "solo", "", false))
				tk := fe.SignIn("github", apitest.PublicApp())
				id := fe.Claims(tk).Subject
				r := del(fe, tk.AccessToken, "github")
				if r.Status != http.StatusConflict || r.ErrCode(t) != "last_login_method" {
					t.Fatalf("unlink the last login method: %d %s", r.Status, r.Body)
				}
				fe.WantIdentities("the user", id, "github:5101")
				if r := del(fe, tk.AccessToken, "google"); r.Status != http.StatusNotFound || r.ErrCode(t) != "not_found" {
					t.Errorf("unlink a provider not linked: %d %s", r.Status, r.Body)
				}
			})

			t.Run("two identities, no password", func(t *testing.T) {
				fe := fe.At(t)
				fe.GitHub.SetUser(apitest.NewGitHubUser(5201, "duo", "duo@example.com", true))
				tk := fe.SignIn("github", apitest.PublicApp())
				id := fe.Claims(tk).Subject
				fe.Google.SetUser(providertest.OIDCUser{Subject: "g-duo", Email: "duo@example.com", EmailVerified: new(true)})
				if sub := fe.Claims(fe.SignIn("google", apitest.PublicApp())).Subject; sub != id {
					t.Fatalf("Google did not link to the GitHub user")
				}
				if r := del(fe, tk.AccessToken, "google"); r.Status != http.StatusNoContent {
					t.Fatalf("unlink google: %d %s", r.Status, r.Body)
				}
				r := del(fe, tk.AccessToken, "github")
				if r.Status != http.StatusConflict || r.ErrCode(t) != "last_login_method" {
					t.Fatalf("unlink the last identity: %d %s", r.Status, r.Body)
				}
				if me := fe.Me(tk.AccessToken); !slices.Equal(me.ProviderIDs(), []string{"github"}) {
					t.Errorf("identities = %+v", me.Identities)
				}
			})

			t.Run("no bearer", func(t *testing.T) {
				fe := fe.At(t)
				if r := fe.Do("DELETE", "/users/me/identities/github", "", nil); r.Status != http.StatusUnauthorized {
					t.Errorf("%d %s", r.Status, r.Body)
				}
			})
		})
	}
}

// TestFlowProviderCallbackErrors tampers with what the provider sends back
// (RFC 6749 §4.1.2.1 error responses), keeping the right state and cookie.
func TestFlowProviderCallbackErrors(t *testing.T) {
	fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{})
	cases := []struct {
		Name  string
		query url.Values // replaces code (state is kept)
		want  string     // "" : any error
	}{
		{"access_denied", url.Values{"error": {"access_denied"}, "error_description": {"no"}}, "access_denied"},
		{"temporarily_unavailable", url.Values{"error": {"temporarily_unavailable"}}, "temporarily_unavailable"},
		{"unknown error", url.Values{"error": {"invalid_scope"}}, ""},
		{"neither code nor error", url.Values{}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			fe := fe.At(t)
			c, a, cb, _ := googleCallback(fe)
			q := tc.query
			q.Set("state", cb.Query().Get("state"))
			u := *cb
			u.RawQuery = q.Encode()
			calls := fe.Google.TokenRequests()
			got := fe.AppError(fe.Location(fe.Fetch(c, u.String())), a)
			if got == "" || (tc.want != "" && got != tc.want) {
				t.Errorf("error=%q, want %q", got, cmp.Or(tc.want, "an error"))
			}
			if fe.Google.TokenRequests() != calls {
				t.Error("exchanged a code although the provider sent none")
			}
			if n := fe.Users(); n != 0 {
				t.Errorf("%d users", n)
			}
		})
	}
}
