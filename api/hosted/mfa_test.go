package hosted_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/unilogin/unilogin/config"
	"github.com/unilogin/unilogin/providers/providertest"
)

// TestTOTPSignInStep: after the right password a user with TOTP on is
// asked for a code; wrong and replayed codes are refused on the page, a
// fresh one signs in with amr pwd otp mfa.
func TestTOTPSignInStep(t *testing.T) {
	e := newMFAEnv(t, nil)
	u := e.user("tina@example.com")
	secret, _ := e.enableTOTP(u)
	b := e.browser()
	expectRedirect(t, "password", b.passwordSignin("tina@example.com"), "/signin/mfa")
	if b.signedIn() {
		t.Fatal("signed in after the password alone")
	}
	expect(t, "code form", b.get("/signin/mfa"), 200, `name="code"`, `name="recovery_code"`)
	expect(t, "empty code", b.post("/signin/mfa", url.Values{"code": {""}}), 400, "Enter the 6-digit code")
	expect(t, "wrong code", b.post("/signin/mfa", url.Values{"code": {"000000"}}), 400, `aria-invalid="true"`, "not right")
	// The code of the step the confirmation spent is a replay.
	expect(t, "replayed code", b.post("/signin/mfa", url.Values{"code": {code(t, secret, time.Now())}}), 400, "not right")
	next := code(t, secret, time.Now().Add(30*time.Second))
	expectRedirect(t, "next step's code", b.post("/signin/mfa", url.Values{"code": {next}}), "/account")
	if !b.signedIn() {
		t.Fatal("not signed in after the code")
	}
	list, err := e.srv.Sessions.List(context.Background(), u.ID)
	if err != nil || len(list) != 1 || strings.Join(list[0].AMR, " ") != "pwd otp mfa" {
		t.Fatalf("sessions %+v, %v; want one with amr pwd otp mfa", list, err)
	}
	// The step is over: its page and form start over.
	expect(t, "after success", b.get("/signin/mfa"), 400, "Sign in again")
	expect(t, "after success", b.post("/signin/mfa", url.Values{"code": {next}}), 400, "Sign in again")
}

// TestTOTPSignInFiveWrongCodes: the fifth wrong attempt ends the step, as
// at the mfa grant; a right code afterwards does not sign in.
func TestTOTPSignInFiveWrongCodes(t *testing.T) {
	e := newMFAEnv(t, nil)
	u := e.user("fay@example.com")
	secret, _ := e.enableTOTP(u)
	b := e.browser()
	b.passwordSignin("fay@example.com")
	for i := 1; i <= 4; i++ {
		expect(t, "wrong code", b.post("/signin/mfa", url.Values{"code": {"123456"}}), 400, "not right")
	}
	expect(t, "fifth wrong code", b.post("/signin/mfa", url.Values{"recovery_code": {"aaaa-bbbb-cccc"}}), 400, "Too many wrong codes")
	p := b.post("/signin/mfa", url.Values{"code": {code(t, secret, time.Now().Add(30*time.Second))}})
	expect(t, "right code after the fifth", p, 400, "Sign in again")
	if b.signedIn() {
		t.Fatal("signed in after five wrong codes")
	}
}

// TestRecoveryCodeSignIn: a recovery code signs in once (amr pwd mfa).
func TestRecoveryCodeSignIn(t *testing.T) {
	e := newMFAEnv(t, nil)
	u := e.user("rob@example.com")
	_, codes := e.enableTOTP(u)
	b := e.browser()
	b.passwordSignin("rob@example.com")
	expectRedirect(t, "recovery code", b.post("/signin/mfa", url.Values{"recovery_code": {strings.ToUpper(codes[0])}}), "/account")
	list, _ := e.srv.Sessions.List(context.Background(), u.ID)
	if len(list) != 1 || strings.Join(list[0].AMR, " ") != "pwd mfa" {
		t.Fatalf("sessions %+v; want one with amr pwd mfa", list)
	}
	b2 := e.browser()
	b2.passwordSignin("rob@example.com")
	expect(t, "used recovery code", b2.post("/signin/mfa", url.Values{"recovery_code": {codes[0]}}), 400, "recovery code is not right")
}

// TestAuthorizeWithSecondFactor: the app's request survives the code
// step; prompt=none answers interaction_required when the browser's
// session lacks the second factor the user now has.
func TestAuthorizeWithSecondFactor(t *testing.T) {
	e := newMFAEnv(t, nil)
	u := e.user("ali@example.com")
	b := e.browser()
	expectRedirect(t, "password before TOTP", b.passwordSignin("ali@example.com"), "/account")
	secret, _ := e.enableTOTP(u)
	q := url.Values{"response_type": {"code"}, "client_id": {"demo-app"}, "redirect_uri": {e.app}, "state": {"st"}, "scope": {"openid"}}
	q.Set("prompt", "none")
	p := b.get("/authorize?" + q.Encode())
	expectRedirect(t, "prompt=none", p, e.app)
	if loc, _ := url.Parse(p.location()); loc.Query().Get("error") != "interaction_required" || loc.Query().Get("state") != "st" {
		t.Fatalf("prompt=none: %s, want error=interaction_required", p.location())
	}
	q.Del("prompt")
	expect(t, "sign-in form for the app", b.get("/authorize?"+q.Encode()), 200, `name="password"`)
	form := url.Values{"email": {"ali@example.com"}, "password": {"a fine long password"}, "client_id": {"demo-app"},
		"redirect_uri": {e.app}, "state": {"st"}, "scope": {"openid"}}
	expectRedirect(t, "password", b.post("/signin", form), "/signin/mfa")
	b.get("/signin/mfa")
	p = b.post("/signin/mfa", url.Values{"code": {code(t, secret, time.Now().Add(30*time.Second))}})
	expectRedirect(t, "code", p, e.app)
	loc, _ := url.Parse(p.location())
	c := loc.Query().Get("code")
	if c == "" || loc.Query().Get("state") != "st" {
		t.Fatalf("redirect %s, want a code and the state", p.location())
	}
	res, err := http.PostForm(e.url+"/token", url.Values{"grant_type": {"authorization_code"}, "code": {c},
		"redirect_uri": {e.app}, "client_id": {"demo-app"}, "client_secret": {"demo-secret"}})
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("redeem: %v %v", res, err)
	}
	res.Body.Close()
	// With the second factor in the session, prompt=none answers a code.
	q.Set("prompt", "none")
	p = b.get("/authorize?" + q.Encode())
	if loc, _ := url.Parse(p.location()); loc.Query().Get("code") == "" {
		t.Fatalf("prompt=none after the code step: %s, want a code", p.location())
	}
}

// TestProviderSecondFactorSwitch: with mfa.apply_to_providers a GitHub
// sign-in of a user with TOTP on waits for the code (amr github otp mfa);
// without it the app gets its code at once.
func TestProviderSecondFactorSwitch(t *testing.T) {
	for _, on := range []bool{false, true} {
		gh := providertest.NewGitHub(t, providertest.WithClient("gh-client", "gh-secret"))
		e := newMFAEnv(t, func(cfg *config.Config) {
			cfg.MFA.ApplyToProviders = &on
			cfg.Providers.GitHub = &config.Provider{ClientID: gh.ClientID, ClientSecret: gh.ClientSecret, BaseURL: gh.URL, APIURL: gh.APIURL}
		})
		gh.SetUser(providertest.GitHubUser{ID: 99, Login: "gus", Name: "Gus",
			Emails: []providertest.GitHubEmail{{Email: "gus@example.com", Primary: true, Verified: true}}})
		b := e.browser()
		q := url.Values{"client_id": {"demo-app"}, "redirect_uri": {e.app}, "state": {"st"}}
		start := func() page {
			t.Helper()
			p := b.get("/auth/github/login?" + q.Encode())
			cb := providertest.Authorize(t, p.location())
			return b.get(cb.RequestURI())
		}
		first := start() // creates the user
		expectRedirect(t, "first sign-in", first, e.app)
		u, err := e.srv.Accounts.GetByEmail(context.Background(), "gus@example.com")
		if err != nil {
			t.Fatal(err)
		}
		secret, _ := e.enableTOTP(u)
		p := start()
		if !on {
			expectRedirect(t, "apply_to_providers off", p, e.app)
			continue
		}
		expectRedirect(t, "apply_to_providers on", p, "/signin/mfa")
		b.get("/signin/mfa")
		p = b.post("/signin/mfa", url.Values{"code": {code(t, secret, time.Now().Add(30*time.Second))}})
		expectRedirect(t, "code", p, e.app)
		loc, _ := url.Parse(p.location())
		res, err := http.PostForm(e.url+"/token", url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
			"redirect_uri": {e.app}, "client_id": {"demo-app"}, "client_secret": {"demo-secret"}})
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("redeem: %v %v", res, err)
		}
		res.Body.Close()
		list, _ := e.srv.Sessions.List(context.Background(), u.ID)
		found := false
		for _, s := range list {
			found = found || strings.Join(s.AMR, " ") == "github otp mfa"
		}
		if !found {
			t.Fatalf("sessions %+v, want one with amr github otp mfa", list)
		}
	}
}

// TestProviderSecondFactorThirdPartyApp: with mfa.apply_to_providers, a
// GitHub sign-in to a third-party app goes through the code step and then
// to the app's consent page, never straight to a code.
func TestProviderSecondFactorThirdPartyApp(t *testing.T) {
	gh := providertest.NewGitHub(t, providertest.WithClient("gh-client", "gh-secret"))
	on := true
	e := newMFAEnv(t, func(cfg *config.Config) {
		cfg.MFA.ApplyToProviders = &on
		cfg.Providers.GitHub = &config.Provider{ClientID: gh.ClientID, ClientSecret: gh.ClientSecret, BaseURL: gh.URL, APIURL: gh.APIURL}
		cfg.Clients = append(cfg.Clients, config.Client{ID: "third-app", RedirectURIs: []string{appRedirect}, Secret: "third-secret", Consent: true})
	})
	gh.SetUser(providertest.GitHubUser{ID: 7, Login: "tia", Name: "Tia",
		Emails: []providertest.GitHubEmail{{Email: "tia@example.com", Primary: true, Verified: true}}})
	b := e.browser()
	viaGitHub := func(client string) page {
		t.Helper()
		q := url.Values{"client_id": {client}, "redirect_uri": {e.app}, "state": {"st"}, "scope": {"openid"}}
		p := b.get("/auth/github/login?" + q.Encode())
		return b.get(providertest.Authorize(t, p.location()).RequestURI())
	}
	expectRedirect(t, "first sign-in creates the user", viaGitHub("demo-app"), e.app)
	u, err := e.srv.Accounts.GetByEmail(context.Background(), "tia@example.com")
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := e.enableTOTP(u)
	p := viaGitHub("third-app")
	expectRedirect(t, "provider callback", p, "/signin/mfa")
	b.get("/signin/mfa")
	p = b.post("/signin/mfa", url.Values{"code": {code(t, secret, time.Now().Add(30*time.Second))}})
	expect(t, "consent after the code", p, 200, `name="decision"`)
}
