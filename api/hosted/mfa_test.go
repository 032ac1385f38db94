package hosted_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/unilogin/unilogin/api/apitest"
	"github.com/unilogin/unilogin/config"
	"github.com/unilogin/unilogin/providers/providertest"
)

// totpSignin signs a user with TOTP on up and has a new browser give the
// password, which leaves it at the code step.
func totpSignin(t *testing.T, e *apitest.Env, email string) (id, secret string, codes []string, b browser) {
	t.Helper()
	id = e.Signup(email, apitest.Password)
	secret, codes = e.EnableTOTP(id)
	b = newBrowser(t, e)
	expectRedirect(t, "password", b.passwordSignin(email), "/signin/mfa")
	return id, secret, codes, b
}

// sessionAMRs lists the amr of each of the user's sessions.
func sessionAMRs(t *testing.T, e *apitest.Env, id string) []string {
	t.Helper()
	list, err := e.Sessions.List(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	amrs := []string{}
	for _, s := range list {
		amrs = append(amrs, strings.Join(s.AMR, " "))
	}
	return amrs
}

// redeemAt fails unless p redirects to the app of a with a code, and
// redeems it.
func redeemAt(t *testing.T, e *apitest.Env, a apitest.FlowApp, p apitest.Response) {
	t.Helper()
	expectRedirect(t, "code", p, a.RedirectURI)
	loc := apitest.MustParse(t, p.Header.Get("Location"))
	e.MustTokens(e.Redeem(a, e.AppCode(loc, a)))
}

// TestTOTPSignInStep: after the right password a user with TOTP on is
// asked for a code; wrong and replayed codes are refused on the page, a
// fresh one signs in with amr pwd otp mfa.
func TestTOTPSignInStep(t *testing.T) {
	e := newMFAEnv(t, nil)
	id, secret, _, b := totpSignin(t, e, "tina@example.com")
	if b.signedIn() {
		t.Fatal("signed in after the password alone")
	}
	expect(t, "code form", b.Get("/signin/mfa"), 200, `name="code"`, `name="recovery_code"`)
	expect(t, "empty code", b.Post("/signin/mfa", url.Values{"code": {""}}), 400, "Enter the 6-digit code")
	expect(t, "wrong code", b.Post("/signin/mfa", url.Values{"code": {"000000"}}), 400, `aria-invalid="true"`, "not right")
	// The code of the step the confirmation spent is a replay.
	expect(t, "replayed code", b.Post("/signin/mfa", url.Values{"code": {apitest.TOTPCode(t, secret, e.Clock.Now())}}), 400, "not right")
	next := nextCode(e, secret)
	expectRedirect(t, "next step's code", b.Post("/signin/mfa", url.Values{"code": {next}}), "/account")
	if !b.signedIn() {
		t.Fatal("not signed in after the code")
	}
	if amrs := sessionAMRs(t, e, id); len(amrs) != 1 || amrs[0] != "pwd otp mfa" {
		t.Fatalf("session amrs %q; want one with amr pwd otp mfa", amrs)
	}
	// The step is over: its page and form start over.
	expect(t, "after success", b.Get("/signin/mfa"), 400, "Sign in again")
	expect(t, "after success", b.Post("/signin/mfa", url.Values{"code": {next}}), 400, "Sign in again")
}

// TestTOTPSignInFiveWrongCodes: the fifth wrong attempt ends the step, as
// at the mfa grant; a right code afterwards does not sign in.
func TestTOTPSignInFiveWrongCodes(t *testing.T) {
	e := newMFAEnv(t, nil)
	_, secret, _, b := totpSignin(t, e, "fay@example.com")
	for i := 1; i <= 4; i++ {
		expect(t, "wrong code", b.Post("/signin/mfa", url.Values{"code": {"123456"}}), 400, "not right")
	}
	expect(t, "fifth wrong code", b.Post("/signin/mfa", url.Values{"recovery_code": {"aaaa-bbbb-cccc"}}), 400, "Too many wrong codes")
	p := b.Post("/signin/mfa", url.Values{"code": {nextCode(e, secret)}})
	expect(t, "right code after the fifth", p, 400, "Sign in again")
	if b.signedIn() {
		t.Fatal("signed in after five wrong codes")
	}
}

// TestRecoveryCodeSignIn: a recovery code signs in once (amr pwd mfa).
func TestRecoveryCodeSignIn(t *testing.T) {
	e := newMFAEnv(t, nil)
	id, _, codes, b := totpSignin(t, e, "rob@example.com")
	expectRedirect(t, "recovery code", b.Post("/signin/mfa", url.Values{"recovery_code": {strings.ToUpper(codes[0])}}), "/account")
	if amrs := sessionAMRs(t, e, id); len(amrs) != 1 || amrs[0] != "pwd mfa" {
		t.Fatalf("session amrs %q; want one with amr pwd mfa", amrs)
	}
	b2 := newBrowser(t, e)
	b2.passwordSignin("rob@example.com")
	expect(t, "used recovery code", b2.Post("/signin/mfa", url.Values{"recovery_code": {codes[0]}}), 400, "recovery code is not right")
}

// TestAuthorizeWithSecondFactor: the app's request survives the code
// step; prompt=none answers interaction_required when the browser's
// session lacks the second factor the user now has.
func TestAuthorizeWithSecondFactor(t *testing.T) {
	e := newMFAEnv(t, nil)
	id := e.Signup("ali@example.com", apitest.Password)
	b := newBrowser(t, e)
	expectRedirect(t, "password before TOTP", b.passwordSignin("ali@example.com"), "/account")
	secret, _ := e.EnableTOTP(id)
	a := apitest.ConfidentialApp()
	q := apitest.AuthorizeQuery(a)
	q.Set("scope", "openid")
	q.Set("prompt", "none")
	p := b.Get("/authorize?" + q.Encode())
	expectRedirect(t, "prompt=none", p, a.RedirectURI)
	if got := e.AppError(apitest.MustParse(t, p.Header.Get("Location")), a); got != "interaction_required" {
		t.Fatalf("prompt=none: error=%q, want interaction_required", got)
	}
	q.Del("prompt")
	expect(t, "sign-in form for the app", b.Get("/authorize?"+q.Encode()), 200, `name="password"`)
	form := apitest.HiddenFields(a)
	form.Set("scope", "openid")
	form.Set("email", "ali@example.com")
	form.Set("password", apitest.Password)
	expectRedirect(t, "password", b.Post("/signin", form), "/signin/mfa")
	redeemAt(t, e, a, b.codeStep(secret))
	// With the second factor in the session, prompt=none answers a code.
	q.Set("prompt", "none")
	p = b.Get("/authorize?" + q.Encode())
	e.AppCode(apitest.MustParse(t, p.Header.Get("Location")), a)
}

// viaGitHub is a GitHub sign-in for the app a through the fake gh.
func viaGitHub(t *testing.T, b browser, a apitest.FlowApp) apitest.Response {
	t.Helper()
	q := apitest.HiddenFields(a)
	q.Set("scope", "openid")
	p := b.Get("/auth/github/login?" + q.Encode())
	return b.Get(providertest.Authorize(t, p.Header.Get("Location")).RequestURI())
}

// githubMFAEnv is a flow env with mfa.apply_to_providers set to on and
// the GitHub fake's user at email.
func githubMFAEnv(t *testing.T, on bool, login, email string, more ...func(*config.Config)) *apitest.Env {
	t.Helper()
	fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{Mutate: func(cfg *config.Config) {
		cfg.MFA.ApplyToProviders = &on
		for _, m := range more {
			m(cfg)
		}
	}})
	fe.GitHub.SetUser(apitest.NewGitHubUser(99, login, email, true))
	return fe.Env
}

// TestProviderSecondFactorSwitch: with mfa.apply_to_providers a GitHub
// sign-in of a user with TOTP on waits for the code (amr github otp mfa);
// without it the app gets its code at once.
func TestProviderSecondFactorSwitch(t *testing.T) {
	for _, on := range []bool{false, true} {
		e := githubMFAEnv(t, on, "gus", "gus@example.com")
		b := newBrowser(t, e)
		a := apitest.ConfidentialApp()
		expectRedirect(t, "first sign-in", viaGitHub(t, b, a), a.RedirectURI) // creates the user
		u, err := e.Accounts.GetByEmail(context.Background(), "gus@example.com")
		if err != nil {
			t.Fatal(err)
		}
		secret, _ := e.EnableTOTP(u.ID)
		p := viaGitHub(t, b, a)
		if !on {
			expectRedirect(t, "apply_to_providers off", p, a.RedirectURI)
			continue
		}
		expectRedirect(t, "apply_to_providers on", p, "/signin/mfa")
		redeemAt(t, e, a, b.codeStep(secret))
		if amrs := sessionAMRs(t, e, u.ID); !strings.Contains(strings.Join(amrs, ","), "github otp mfa") {
			t.Fatalf("session amrs %q, want one with amr github otp mfa", amrs)
		}
	}
}

// TestProviderSecondFactorThirdPartyApp: with mfa.apply_to_providers, a
// GitHub sign-in to a third-party app goes through the code step and then
// to the app's consent page, never straight to a code.
func TestProviderSecondFactorThirdPartyApp(t *testing.T) {
	third := apitest.FlowApp{ClientID: "third-app", Secret: "third-secret", RedirectURI: apitest.AppRedirect, State: "st"}
	e := githubMFAEnv(t, true, "tia", "tia@example.com", func(cfg *config.Config) {
		cfg.Clients = append(cfg.Clients, config.Client{ID: third.ClientID, RedirectURIs: []string{third.RedirectURI}, Secret: third.Secret, Consent: true})
	})
	b := newBrowser(t, e)
	expectRedirect(t, "first sign-in creates the user", viaGitHub(t, b, apitest.ConfidentialApp()), apitest.AppRedirect)
	u, err := e.Accounts.GetByEmail(context.Background(), "tia@example.com")
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := e.EnableTOTP(u.ID)
	expectRedirect(t, "provider callback", viaGitHub(t, b, third), "/signin/mfa")
	expect(t, "consent after the code", b.codeStep(secret), http.StatusOK, `name="decision"`)
}
