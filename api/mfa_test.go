package api_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/session/sessiontest/testkit"
)

const mfaGrant = "urn:unilogin:params:oauth:grant-type:mfa"

// mfaUser is a password user with TOTP on, signed in through the API.
type mfaUser struct {
	email, id, secret string
	recovery          []string
	token             string // an access token of the sign-in before TOTP
}

// totpCode is the RFC 6238 code of secret at t.
func totpCode(t testing.TB, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// nextStep moves the clock to the next 30-second step, so that a new code
// is accepted after one of the current step.
func (e *env) nextStep() { e.clock.Advance(30 * time.Second) }

// enrolTOTP signs a new user up and switches TOTP on through the API.
func (e *env) enrolTOTP(email string) mfaUser {
	e.t.Helper()
	u := mfaUser{email: email, id: e.signup(email, pw)}
	u.token = e.login(email, pw).AccessToken
	r := e.do("POST", "/users/me/mfa/totp", "", nil, bearer(u.token)...)
	if r.status != http.StatusOK {
		e.t.Fatalf("enrol: %d %s", r.status, r.body)
	}
	u.secret = r.json(e.t)["secret"].(string)
	r = e.postJSON("/users/me/mfa/totp/confirm", map[string]string{"code": totpCode(e.t, u.secret, e.clock.Now())}, bearer(u.token)...)
	if r.status != http.StatusOK {
		e.t.Fatalf("confirm: %d %s", r.status, r.body)
	}
	var body struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil || len(body.RecoveryCodes) != 10 {
		e.t.Fatalf("confirm answer %s (%v)", r.body, err)
	}
	u.recovery = body.RecoveryCodes
	e.nextStep() // the confirming code's step is used up
	return u
}

// mfaToken runs the password grant of a user with a second factor and
// returns the mfa_token of its 403 mfa_required.
func (e *env) mfaToken(email string, extra url.Values, header ...string) string {
	e.t.Helper()
	form := url.Values{"grant_type": {"password"}, "username": {email}, "password": {pw}}
	for k, v := range extra {
		form[k] = v
	}
	r := e.postForm("/token", form, header...)
	if r.status != http.StatusForbidden || r.errCode(e.t) != "mfa_required" {
		e.t.Fatalf("password grant with TOTP on: %d %s, want 403 mfa_required", r.status, r.body)
	}
	if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Pragma") != "no-cache" {
		e.t.Errorf("mfa_required headers: %v", r.header)
	}
	tok, _ := r.json(e.t)["mfa_token"].(string)
	if tok == "" {
		e.t.Fatalf("no mfa_token in %s", r.body)
	}
	return tok
}

// mfaStep is the second request: the mfa_token with otp or recovery_code.
func (e *env) mfaStep(token, field, code string, header ...string) response {
	e.t.Helper()
	return e.postForm("/token", url.Values{"grant_type": {mfaGrant}, "mfa_token": {token}, field: {code}}, header...)
}

type mfaStatus struct {
	TOTP              bool `json:"totp"`
	Passkeys          int  `json:"passkeys"`
	RecoveryCodesLeft int  `json:"recovery_codes_left"`
}

func (e *env) mfaStatus(token string) mfaStatus {
	e.t.Helper()
	r := e.get("/users/me", bearer(token)...)
	var body struct {
		MFA *mfaStatus `json:"mfa"`
	}
	if r.status != http.StatusOK || json.Unmarshal(r.body, &body) != nil || body.MFA == nil {
		e.t.Fatalf("GET /users/me: %d %s", r.status, r.body)
	}
	return *body.MFA
}

// auditActions lists the audit log's actions about target, oldest first.
func (e *env) auditActions(target string) []string {
	e.t.Helper()
	evs, err := e.store.ListAudit(context.Background(), "", 200)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Target == target && strings.HasPrefix(evs[i].Action, "mfa.") || evs[i].Action == accounts.ActionMFAReset && evs[i].Target == target {
			out = append(out, evs[i].Action+":"+evs[i].Details["reason"])
		}
	}
	return out
}

// TestMFAEnrolAndSignIn walks TOTP through the JSON API on both stores:
// enrolment, the status in /users/me, the password grant's mfa_required
// and the exchange with a code and with a recovery code, with their amr.
func TestMFAEnrolAndSignIn(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, envOptions{backend: b})
			id := e.signup("tia@example.com", pw)
			tk := e.login("tia@example.com", pw).AccessToken
			if st := e.mfaStatus(tk); st != (mfaStatus{}) {
				t.Errorf("status before: %+v", st)
			}
			first := e.do("POST", "/users/me/mfa/totp", "", nil, bearer(tk)...)
			second := e.do("POST", "/users/me/mfa/totp", "", nil, bearer(tk)...)
			if first.status != 200 || second.status != 200 {
				t.Fatalf("enrol: %d %s / %d %s", first.status, first.body, second.status, second.body)
			}
			old, secret := first.json(t)["secret"].(string), second.json(t)["secret"].(string)
			uri, _ := url.Parse(second.json(t)["otpauth_uri"].(string))
			if old == secret || strings.Contains(secret, "=") || uri.Scheme != "otpauth" || uri.Query().Get("secret") != secret {
				t.Fatalf("pending secret not replaced or malformed: %q %q %v", old, secret, uri)
			}
			if st := e.mfaStatus(tk); st.TOTP {
				t.Errorf("TOTP on while pending: %+v", st)
			}
			// The replaced secret's code and a wrong code do not confirm.
			for _, c := range []string{totpCode(t, old, e.clock.Now()), "000000", "abc"} {
				if c == totpCode(t, secret, e.clock.Now()) {
					continue
				}
				if r := e.postJSON("/users/me/mfa/totp/confirm", map[string]string{"code": c}, bearer(tk)...); r.status != 400 || r.errCode(t) != "invalid_grant" {
					t.Errorf("confirm with %q: %d %s", c, r.status, r.body)
				}
			}
			r := e.postJSON("/users/me/mfa/totp/confirm", map[string]string{"code": totpCode(t, secret, e.clock.Now())}, bearer(tk)...)
			if r.status != 200 {
				t.Fatalf("confirm: %d %s", r.status, r.body)
			}
			var rc struct {
				RecoveryCodes []string `json:"recovery_codes"`
			}
			json.Unmarshal(r.body, &rc)
			if len(rc.RecoveryCodes) != 10 || len(slices.Compact(slices.Sorted(slices.Values(rc.RecoveryCodes)))) != 10 {
				t.Fatalf("recovery codes: %v", rc.RecoveryCodes)
			}
			if st := e.mfaStatus(tk); st != (mfaStatus{TOTP: true, RecoveryCodesLeft: 10}) {
				t.Errorf("status after confirm: %+v", st)
			}
			if r := e.do("POST", "/users/me/mfa/totp", "", nil, bearer(tk)...); r.status != 409 || r.errCode(t) != "totp_enabled" {
				t.Errorf("enrol with TOTP on: %d %s", r.status, r.body)
			}

			// Sign-in: the password alone is not enough any more.
			mt := e.mfaToken("tia@example.com", nil)
			// The confirming code's step is spent: its code is a replay.
			if r := e.mfaStep(mt, "otp", totpCode(t, secret, e.clock.Now())); r.status != 400 || r.errCode(t) != "invalid_grant" {
				t.Fatalf("replayed confirm code: %d %s", r.status, r.body)
			}
			e.nextStep()
			pair := e.mustTokens(e.mfaStep(mt, "otp", totpCode(t, secret, e.clock.Now())))
			c, err := e.sessions.ParseAccess(context.Background(), pair.AccessToken)
			if err != nil || c.Subject != id || !slices.Equal(c.AMR, []string{"pwd", "otp", "mfa"}) {
				t.Fatalf("access token after otp: %+v %v", c, err)
			}
			// Spent by its success.
			e.nextStep()
			if r := e.mfaStep(mt, "otp", totpCode(t, secret, e.clock.Now())); r.status != 400 || r.errCode(t) != "invalid_grant" {
				t.Errorf("mfa_token after success: %d %s", r.status, r.body)
			}
			// The same step's code again (a new mfa_token): a replay.
			e.nextStep()
			now := totpCode(t, secret, e.clock.Now())
			e.mustTokens(e.mfaStep(e.mfaToken("tia@example.com", nil), "otp", now))
			if r := e.mfaStep(e.mfaToken("tia@example.com", nil), "otp", now); r.status != 400 || r.errCode(t) != "invalid_grant" {
				t.Errorf("replayed code: %d %s", r.status, r.body)
			}
			// A code two steps old has expired.
			e.nextStep()
			if r := e.mfaStep(e.mfaToken("tia@example.com", nil), "otp", totpCode(t, secret, e.clock.Now().Add(-60*time.Second))); r.status != 400 || r.errCode(t) != "invalid_grant" {
				t.Errorf("expired code: %d %s", r.status, r.body)
			}

			// A recovery code works once, in any case and spacing.
			spaced := " " + strings.ToUpper(rc.RecoveryCodes[3]) + " "
			pair = e.mustTokens(e.mfaStep(e.mfaToken("tia@example.com", nil), "recovery_code", spaced))
			if c, _ := e.sessions.ParseAccess(context.Background(), pair.AccessToken); c == nil || !slices.Equal(c.AMR, []string{"pwd", "mfa"}) {
				t.Errorf("amr after a recovery code: %+v", c)
			}
			if r := e.mfaStep(e.mfaToken("tia@example.com", nil), "recovery_code", rc.RecoveryCodes[3]); r.status != 400 || r.errCode(t) != "invalid_grant" {
				t.Errorf("used recovery code: %d %s", r.status, r.body)
			}
			if st := e.mfaStatus(pair.AccessToken); st.RecoveryCodesLeft != 9 {
				t.Errorf("status after a recovery code: %+v", st)
			}
			want := []string{"mfa.failed:wrong", "mfa.failed:wrong", "mfa.totp.enable:", "mfa.failed:replayed",
				"mfa.failed:replayed", "mfa.failed:wrong", "mfa.recovery_code.use:", "mfa.failed:wrong"}
			if got := e.auditActions(id); !slices.Equal(got[len(got)-len(want):], want) {
				t.Errorf("audit log:\n got %v\nwant …%v", got, want)
			}
		})
	}
}

// TestMFAScopeAndIDToken: the scope asked for at the password grant
// reaches the pair, and the ID token says amr too.
func TestMFAScopeAndIDToken(t *testing.T) {
	e := newEnv(t, envOptions{})
	u := e.enrolTOTP("sia@example.com")
	mt := e.mfaToken(u.email, url.Values{"scope": {"openid profile:read"}, "client_id": {publicClientID}})
	r := e.postForm("/token", url.Values{"grant_type": {mfaGrant}, "mfa_token": {mt}, "otp": {totpCode(t, u.secret, e.clock.Now())}, "client_id": {publicClientID}})
	var pair struct {
		tokens
		IDToken string `json:"id_token"`
	}
	if r.status != 200 || json.Unmarshal(r.body, &pair) != nil || pair.IDToken == "" || !strings.Contains(pair.Scope, "openid") {
		t.Fatalf("mfa step with scope openid: %d %s", r.status, r.body)
	}
	var claims struct {
		AMR []string `json:"amr"`
	}
	if err := json.Unmarshal(jwtPayload(t, pair.IDToken), &claims); err != nil || !slices.Equal(claims.AMR, []string{"pwd", "otp", "mfa"}) {
		t.Errorf("ID token amr: %v (%v)", claims.AMR, err)
	}
}

// TestMFATokenDiesOnFifthFailure: wrong codes, replays and wrong recovery
// codes all count; the fifth ends the mfa_token, on both stores.
func TestMFATokenDiesOnFifthFailure(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, envOptions{backend: b})
			u := e.enrolTOTP("fia@example.com")
			mt := e.mfaToken(u.email, nil)
			e.mustTokens(e.mfaStep(e.mfaToken(u.email, nil), "otp", totpCode(t, u.secret, e.clock.Now())))
			wrong := []struct{ field, code string }{
				{"otp", "123456"}, {"otp", totpCode(t, u.secret, e.clock.Now())}, // a replay
				{"recovery_code", "aaaa-bbbb-cccc"}, {"otp", "12345"}, {"otp", "654321"},
			}
			for i, w := range wrong {
				r := e.mfaStep(mt, w.field, w.code)
				if r.status != 400 || r.errCode(t) != "invalid_grant" {
					t.Fatalf("wrong attempt %d: %d %s", i+1, r.status, r.body)
				}
				if last := strings.Contains(string(r.body), "last attempt"); last != (i == 4) {
					t.Errorf("attempt %d says last=%v: %s", i+1, last, r.body)
				}
			}
			e.nextStep()
			if r := e.mfaStep(mt, "otp", totpCode(t, u.secret, e.clock.Now())); r.status != 400 || r.errCode(t) != "invalid_grant" {
				t.Errorf("right code on a dead mfa_token: %d %s", r.status, r.body)
			}
			if r := e.mfaStep(mt, "recovery_code", u.recovery[0]); r.status != 400 || r.errCode(t) != "invalid_grant" {
				t.Errorf("recovery code on a dead mfa_token: %d %s", r.status, r.body)
			}
		})
	}
}

// TestMFATokenExpires: an mfa_token lives 5 minutes.
func TestMFATokenExpires(t *testing.T) {
	e := newEnv(t, envOptions{})
	u := e.enrolTOTP("xia@example.com")
	mt := e.mfaToken(u.email, nil)
	e.clock.Advance(5*time.Minute + time.Second)
	if r := e.mfaStep(mt, "otp", totpCode(t, u.secret, e.clock.Now())); r.status != 400 || r.errCode(t) != "invalid_grant" {
		t.Errorf("expired mfa_token: %d %s", r.status, r.body)
	}
}

// TestMFATokenBoundToClient: an mfa_token issued to one client is refused
// to another and to no client (and the refusal counts as a failure); one
// issued to no client is refused to a client.
func TestMFATokenBoundToClient(t *testing.T) {
	e := newEnv(t, envOptions{})
	u := e.enrolTOTP("bia@example.com")
	web := []string{"Authorization", basicAuthHeader(testClientID, testClientSecret)}
	mt := e.mfaToken(u.email, nil, web...)
	code := totpCode(t, u.secret, e.clock.Now())
	for name, client := range map[string]string{"no client": "", "another client": publicClientID} {
		form := url.Values{"grant_type": {mfaGrant}, "mfa_token": {mt}, "otp": {code}}
		if client != "" {
			form.Set("client_id", client)
		}
		if r := e.postForm("/token", form); r.status != 400 || r.errCode(t) != "invalid_grant" {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	pair := e.mustTokens(e.mfaStep(mt, "otp", code, web...))
	if c, _ := e.sessions.ParseAccess(context.Background(), pair.AccessToken); c == nil || c.ClientID != testClientID {
		t.Errorf("client_id of the pair: %+v", c)
	}
	e.nextStep()
	none := e.mfaToken(u.email, nil)
	form := url.Values{"grant_type": {mfaGrant}, "mfa_token": {none}, "otp": {totpCode(t, u.secret, e.clock.Now())}, "client_id": {publicClientID}}
	if r := e.postForm("/token", form); r.status != 400 || r.errCode(t) != "invalid_grant" {
		t.Errorf("no-client mfa_token used by a client: %d %s", r.status, r.body)
	}
}

// TestMFABruteForceLimited: failed codes are limited per account across
// mfa_tokens (10 per 15 minutes): then even the right code gets 429 with
// Retry-After, until the window ends.
func TestMFABruteForceLimited(t *testing.T) {
	e := newEnv(t, envOptions{})
	u := e.enrolTOTP("gia@example.com")
	mt := ""
	for i := range 10 {
		if i%4 == 0 {
			mt = e.mfaToken(u.email, nil)
		}
		if r := e.mfaStep(mt, "otp", "000000"); r.status != 400 || r.errCode(t) != "invalid_grant" {
			t.Fatalf("guess %d: %d %s", i+1, r.status, r.body)
		}
	}
	mt = e.mfaToken(u.email, nil)
	r := e.mfaStep(mt, "otp", totpCode(t, u.secret, e.clock.Now()))
	if r.status != http.StatusTooManyRequests || r.errCode(t) != "rate_limited" || r.header.Get("Retry-After") == "" {
		t.Fatalf("right code after 10 failures: %d %v %s", r.status, r.header, r.body)
	}
	// The account's own changes are limited the same way.
	if r := e.postJSON("/users/me/mfa/recovery-codes", map[string]string{"code": totpCode(t, u.secret, e.clock.Now())}, bearer(u.token)...); r.status != 429 {
		t.Errorf("regenerate while limited: %d %s", r.status, r.body)
	}
	e.clock.Advance(15 * time.Minute)
	e.mustTokens(e.mfaStep(e.mfaToken(u.email, nil), "otp", totpCode(t, u.secret, e.clock.Now())))
}

// TestMFARemoveAndRegenerate: removal and new recovery codes need the
// current factor; without it 403 reauthentication_required, with a wrong
// one 400 invalid_grant. After removal the password grant gives tokens.
func TestMFARemoveAndRegenerate(t *testing.T) {
	e := newEnv(t, envOptions{})
	u := e.enrolTOTP("ria2@example.com")
	for name, body := range map[string]any{"empty": map[string]string{}, "only a password": map[string]string{"current_password": pw}} {
		if r := e.deleteJSON("/users/me/mfa/totp", body, bearer(u.token)...); r.status != 403 || r.errCode(t) != "reauthentication_required" {
			t.Errorf("remove, %s: %d %s", name, r.status, r.body)
		}
		if r := e.postJSON("/users/me/mfa/recovery-codes", body, bearer(u.token)...); r.status != 403 || r.errCode(t) != "reauthentication_required" {
			t.Errorf("regenerate, %s: %d %s", name, r.status, r.body)
		}
	}
	if r := e.deleteJSON("/users/me/mfa/totp", map[string]string{"code": "111111"}, bearer(u.token)...); r.status != 400 || r.errCode(t) != "invalid_grant" {
		t.Errorf("remove with a wrong code: %d %s", r.status, r.body)
	}
	if r := e.postJSON("/users/me/mfa/recovery-codes", map[string]string{"recovery_code": u.recovery[0]}, bearer(u.token)...); r.status != 400 || r.errCode(t) != "invalid_request" {
		t.Errorf("regenerate with a recovery code: %d %s", r.status, r.body)
	}
	if r := e.deleteJSON("/users/me/mfa/totp", map[string]string{"code": "1", "recovery_code": "2"}, bearer(u.token)...); r.status != 400 || r.errCode(t) != "invalid_request" {
		t.Errorf("remove with both: %d %s", r.status, r.body)
	}
	r := e.postJSON("/users/me/mfa/recovery-codes", map[string]string{"code": totpCode(t, u.secret, e.clock.Now())}, bearer(u.token)...)
	var fresh struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	if r.status != 200 || json.Unmarshal(r.body, &fresh) != nil || len(fresh.RecoveryCodes) != 10 || slices.Contains(fresh.RecoveryCodes, u.recovery[0]) {
		t.Fatalf("regenerate: %d %s", r.status, r.body)
	}
	// The old set is dead.
	if r := e.deleteJSON("/users/me/mfa/totp", map[string]string{"recovery_code": u.recovery[1]}, bearer(u.token)...); r.status != 400 || r.errCode(t) != "invalid_grant" {
		t.Errorf("remove with an old recovery code: %d %s", r.status, r.body)
	}
	if r := e.deleteJSON("/users/me/mfa/totp", map[string]string{"recovery_code": fresh.RecoveryCodes[0]}, bearer(u.token)...); r.status != 204 {
		t.Fatalf("remove with a recovery code: %d %s", r.status, r.body)
	}
	if st := e.mfaStatus(u.token); st != (mfaStatus{}) {
		t.Errorf("status after removal: %+v", st)
	}
	e.login(u.email, pw) // no second step any more
	if r := e.deleteJSON("/users/me/mfa/totp", map[string]string{"code": "123456"}, bearer(u.token)...); r.status != 404 || r.errCode(t) != "not_found" {
		t.Errorf("remove again: %d %s", r.status, r.body)
	}
	acts := e.auditActions(u.id)
	if !slices.Contains(acts, "mfa.recovery_codes.regenerate:") || !slices.Contains(acts, "mfa.totp.remove:") {
		t.Errorf("audit log: %v", acts)
	}
}

// TestMFAConfirmNeedsFreshProof: switching TOTP on long after the
// sign-in needs the current password.
func TestMFAConfirmNeedsFreshProof(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.signup("pia2@example.com", pw)
	tk := e.login("pia2@example.com", pw).AccessToken
	e.clock.Advance(6 * time.Minute)
	r := e.do("POST", "/users/me/mfa/totp", "", nil, bearer(tk)...)
	secret := r.json(t)["secret"].(string)
	code := totpCode(t, secret, e.clock.Now())
	if r := e.postJSON("/users/me/mfa/totp/confirm", map[string]string{"code": code}, bearer(tk)...); r.status != 403 || r.errCode(t) != "reauthentication_required" {
		t.Errorf("confirm 6 minutes after sign-in: %d %s", r.status, r.body)
	}
	if r := e.postJSON("/users/me/mfa/totp/confirm", map[string]string{"code": code, "current_password": "not it at all"}, bearer(tk)...); r.status != 400 || r.errCode(t) != "invalid_grant" {
		t.Errorf("confirm with a wrong password: %d %s", r.status, r.body)
	}
	if r := e.postJSON("/users/me/mfa/totp/confirm", map[string]string{}, bearer(tk)...); r.status != 400 || r.errCode(t) != "invalid_request" {
		t.Errorf("confirm without a code: %d %s", r.status, r.body)
	}
	if r := e.postJSON("/users/me/mfa/totp/confirm", map[string]string{"code": code, "current_password": pw}, bearer(tk)...); r.status != 200 {
		t.Errorf("confirm with the password: %d %s", r.status, r.body)
	}
}

// TestMFABadRequests: malformed second steps are 400 invalid_request;
// without a bearer token the routes are 401.
func TestMFABadRequests(t *testing.T) {
	e := newEnv(t, envOptions{})
	for name, form := range map[string]url.Values{
		"no mfa_token": {"grant_type": {mfaGrant}, "otp": {"123456"}},
		"no code":      {"grant_type": {mfaGrant}, "mfa_token": {"x"}},
		"both codes":   {"grant_type": {mfaGrant}, "mfa_token": {"x"}, "otp": {"1"}, "recovery_code": {"2"}},
	} {
		if r := e.postForm("/token", form); r.status != 400 || r.errCode(t) != "invalid_request" {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	if r := e.mfaStep(strings.Repeat("x", 300), "otp", "123456"); r.status != 400 || r.errCode(t) != "invalid_grant" {
		t.Errorf("unknown mfa_token: %d %s", r.status, r.body)
	}
	for _, rt := range [][2]string{{"POST", "/users/me/mfa/totp"}, {"POST", "/users/me/mfa/totp/confirm"}, {"DELETE", "/users/me/mfa/totp"}, {"POST", "/users/me/mfa/recovery-codes"}} {
		if r := e.do(rt[0], rt[1], "application/json", strings.NewReader("{}")); r.status != 401 || r.errCode(t) != "invalid_token" {
			t.Errorf("%s %s without a token: %d %s", rt[0], rt[1], r.status, r.body)
		}
	}
	tk := e.login(mustSignup(e, "zia@example.com"), pw).AccessToken
	if r := e.do("POST", "/users/me/mfa/totp/confirm", "application/json", strings.NewReader(`{"code":`), bearer(tk)...); r.status != 400 || r.errCode(t) != "invalid_request" {
		t.Errorf("malformed JSON: %d %s", r.status, r.body)
	}
	if r := e.postJSON("/users/me/mfa/totp/confirm", map[string]string{"code": "123456"}, bearer(tk)...); r.status != 404 || r.errCode(t) != "not_found" {
		t.Errorf("confirm with nothing pending: %d %s", r.status, r.body)
	}
	if r := e.postJSON("/users/me/mfa/totp/confirm", map[string]string{"code": strings.Repeat("9", 70000)}, bearer(tk)...); r.status != 413 {
		t.Errorf("huge code: %d %s", r.status, r.body)
	}
}

// jwtPayload decodes a JWT's claims without checking it.
func jwtPayload(t testing.TB, jwt string) []byte {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustSignup(e *env, email string) string {
	e.signup(email, pw)
	return email
}

// TestAdminResetMFA: DELETE /admin/users/{id}/mfa removes TOTP (204, also
// when there is none), audited with the admin as actor; 404 for an
// unknown user.
func TestAdminResetMFA(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			e := newAdminEnv(t, b)
			adminID, admin := e.makeAdmin("root@example.com")
			u := e.enrolTOTP("lost@example.com")
			for range 2 {
				if r := e.adminCall("DELETE", "/admin/users/"+u.id+"/mfa", admin.AccessToken, nil); r.status != 204 {
					t.Fatalf("reset: %d %s", r.status, r.body)
				}
			}
			if st := e.mfaStatus(u.token); st != (mfaStatus{}) {
				t.Errorf("status after reset: %+v", st)
			}
			e.login(u.email, pw)
			if r := e.adminCall("DELETE", "/admin/users/nobody/mfa", admin.AccessToken, nil); r.status != 404 || r.errCode(t) != "not_found" {
				t.Errorf("reset of an unknown user: %d %s", r.status, r.body)
			}
			evs, _ := e.store.ListAudit(context.Background(), "", 50)
			n := 0
			for _, ev := range evs {
				if ev.Action == accounts.ActionMFAReset && ev.Target == u.id && ev.Actor == adminID {
					n++
				}
			}
			if n != 2 {
				t.Errorf("%d user.mfa.reset events by the admin, want 2", n)
			}
		})
	}
}

// TestMFAConcurrentSteps: on both stores, one mfa_token sent by many
// requests at once yields one pair, and one code sent with many
// mfa_tokens at once yields one pair (the code counts once per step).
func TestMFAConcurrentSteps(t *testing.T) {
	const racers = 8
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, envOptions{backend: b})
			u := e.enrolTOTP("cia@example.com")
			count := func(rs []response) (ok int) {
				for _, r := range rs {
					switch {
					case r.status == 200:
						ok++
					case r.status != 400 || r.errCode(t) != "invalid_grant":
						t.Errorf("racer: %d %s", r.status, r.body)
					}
				}
				return ok
			}
			race := func(token func(int) string, code string) []response {
				rs := make([]response, racers)
				testkit.Race(racers, func(i int) error { rs[i] = e.mfaStep(token(i), "otp", code); return nil })
				return rs
			}
			one := e.mfaToken(u.email, nil)
			if n := count(race(func(int) string { return one }, totpCode(t, u.secret, e.clock.Now()))); n != 1 {
				t.Errorf("one mfa_token, %d racers: %d pairs, want 1", racers, n)
			}
			e.nextStep()
			tokens := make([]string, racers)
			for i := range tokens {
				tokens[i] = e.mfaToken(u.email, nil)
			}
			if n := count(race(func(i int) string { return tokens[i] }, totpCode(t, u.secret, e.clock.Now()))); n != 1 {
				t.Errorf("one code, %d mfa_tokens: %d pairs, want 1", racers, n)
			}
		})
	}
}
