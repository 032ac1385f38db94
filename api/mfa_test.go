package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/api/apitest"
	"github.com/unilogin/unilogin/session/sessiontest/testkit"
)

const mfaGrant = "urn:unilogin:params:oauth:grant-type:mfa"

// mfaUser is a password user with TOTP on, signed in through the API.
type mfaUser struct {
	email, id, Secret string
	recovery          []string
	token             string // an access token of the sign-in before TOTP
}

// nextStep moves the clock to the next 30-second step, so that a new code
// is accepted after one of the current step.
func nextStep(e *apitest.Env) { e.Clock.Advance(30 * time.Second) }

// enrolTOTP signs a new user up and switches TOTP on through the API.
func enrolTOTP(e *apitest.Env, email string) mfaUser {
	e.T.Helper()
	u := mfaUser{email: email, id: e.Signup(email, apitest.Password)}
	u.token = e.Login(email, apitest.Password).AccessToken
	r := e.Do("POST", "/users/me/mfa/totp", "", nil, apitest.Bearer(u.token)...)
	if r.Status != http.StatusOK {
		e.T.Fatalf("enrol: %d %s", r.Status, r.Body)
	}
	u.Secret = r.JSON(e.T)["secret"].(string)
	r = e.PostJSON("/users/me/mfa/totp/confirm", map[string]string{"code": apitest.TOTPCode(e.T, u.Secret, e.Clock.Now())}, apitest.Bearer(u.token)...)
	if r.Status != http.StatusOK {
		e.T.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
	var body struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil || len(body.RecoveryCodes) != 10 {
		e.T.Fatalf("confirm answer %s (%v)", r.Body, err)
	}
	u.recovery = body.RecoveryCodes
	nextStep(e) // the confirming code's step is used up
	return u
}

// mfaToken runs the password grant of a user with a second factor and
// returns the mfa_token of its 403 mfa_required.
func mfaToken(e *apitest.Env, email string, extra url.Values, header ...string) string {
	e.T.Helper()
	form := url.Values{"grant_type": {"password"}, "username": {email}, "password": {apitest.Password}}
	for k, v := range extra {
		form[k] = v
	}
	r := e.PostForm("/token", form, header...)
	if r.Status != http.StatusForbidden || r.ErrCode(e.T) != "mfa_required" {
		e.T.Fatalf("password grant with TOTP on: %d %s, want 403 mfa_required", r.Status, r.Body)
	}
	if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("Pragma") != "no-cache" {
		e.T.Errorf("mfa_required headers: %v", r.Header)
	}
	tok, _ := r.JSON(e.T)["mfa_token"].(string)
	if tok == "" {
		e.T.Fatalf("no mfa_token in %s", r.Body)
	}
	return tok
}

// mfaStep is the second request: the mfa_token with otp or recovery_code.
func mfaStep(e *apitest.Env, token, field, code string, header ...string) apitest.Response {
	e.T.Helper()
	return e.PostForm("/token", url.Values{"grant_type": {mfaGrant}, "mfa_token": {token}, field: {code}}, header...)
}

type mfaStatus struct {
	TOTP              bool `json:"totp"`
	Passkeys          int  `json:"passkeys"`
	RecoveryCodesLeft int  `json:"recovery_codes_left"`
}

func mfaStatusOf(e *apitest.Env, token string) mfaStatus {
	e.T.Helper()
	r := e.Get("/users/me", apitest.Bearer(token)...)
	var body struct {
		MFA *mfaStatus `json:"mfa"`
	}
	if r.Status != http.StatusOK || json.Unmarshal(r.Body, &body) != nil || body.MFA == nil {
		e.T.Fatalf("GET /users/me: %d %s", r.Status, r.Body)
	}
	return *body.MFA
}

// auditActions lists the audit log's actions about target, oldest first.
func auditActions(e *apitest.Env, target string) []string {
	e.T.Helper()
	evs, err := e.Store.ListAudit(context.Background(), "", 200)
	if err != nil {
		e.T.Fatal(err)
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
	for _, b := range apitest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.NewEnv(t, apitest.EnvOptions{Backend: b})
			id := e.Signup("tia@example.com", apitest.Password)
			tk := e.Login("tia@example.com", apitest.Password).AccessToken
			if st := mfaStatusOf(e, tk); st != (mfaStatus{}) {
				t.Errorf("status before: %+v", st)
			}
			first := e.Do("POST", "/users/me/mfa/totp", "", nil, apitest.Bearer(tk)...)
			second := e.Do("POST", "/users/me/mfa/totp", "", nil, apitest.Bearer(tk)...)
			if first.Status != 200 || second.Status != 200 {
				t.Fatalf("enrol: %d %s / %d %s", first.Status, first.Body, second.Status, second.Body)
			}
			old, secret := first.JSON(t)["secret"].(string), second.JSON(t)["secret"].(string)
			uri, _ := url.Parse(second.JSON(t)["otpauth_uri"].(string))
			if old == secret || strings.Contains(secret, "=") || uri.Scheme != "otpauth" || uri.Query().Get("secret") != secret {
				t.Fatalf("pending secret not replaced or malformed: %q %q %v", old, secret, uri)
			}
			if st := mfaStatusOf(e, tk); st.TOTP {
				t.Errorf("TOTP on while pending: %+v", st)
			}
			// The replaced secret's code and a wrong code do not confirm.
			for _, c := range []string{apitest.TOTPCode(t, old, e.Clock.Now()), "000000", "abc"} {
				if c == apitest.TOTPCode(t, secret, e.Clock.Now()) {
					continue
				}
				if r := e.PostJSON("/users/me/mfa/totp/confirm", map[string]string{"code": c}, apitest.Bearer(tk)...); r.Status != 400 || r.ErrCode(t) != "invalid_grant" {
					t.Errorf("confirm with %q: %d %s", c, r.Status, r.Body)
				}
			}
			r := e.PostJSON("/users/me/mfa/totp/confirm", map[string]string{"code": apitest.TOTPCode(t, secret, e.Clock.Now())}, apitest.Bearer(tk)...)
			if r.Status != 200 {
				t.Fatalf("confirm: %d %s", r.Status, r.Body)
			}
			var rc struct {
				RecoveryCodes []string `json:"recovery_codes"`
			}
			json.Unmarshal(r.Body, &rc)
			if len(rc.RecoveryCodes) != 10 || len(slices.Compact(slices.Sorted(slices.Values(rc.RecoveryCodes)))) != 10 {
				t.Fatalf("recovery codes: %v", rc.RecoveryCodes)
			}
			if st := mfaStatusOf(e, tk); st != (mfaStatus{TOTP: true, RecoveryCodesLeft: 10}) {
				t.Errorf("status after confirm: %+v", st)
			}
			if r := e.Do("POST", "/users/me/mfa/totp", "", nil, apitest.Bearer(tk)...); r.Status != 409 || r.ErrCode(t) != "totp_enabled" {
				t.Errorf("enrol with TOTP on: %d %s", r.Status, r.Body)
			}

			// Sign-in: the password alone is not enough any more.
			mt := mfaToken(e, "tia@example.com", nil)
			// The confirming code's step is spent: its code is a replay.
			if r := mfaStep(e, mt, "otp", apitest.TOTPCode(t, secret, e.Clock.Now())); r.Status != 400 || r.ErrCode(t) != "invalid_grant" {
				t.Fatalf("replayed confirm code: %d %s", r.Status, r.Body)
			}
			nextStep(e)
			pair := e.MustTokens(mfaStep(e, mt, "otp", apitest.TOTPCode(t, secret, e.Clock.Now())))
			c, err := e.Sessions.ParseAccess(context.Background(), pair.AccessToken)
			if err != nil || c.Subject != id || !slices.Equal(c.AMR, []string{"pwd", "otp", "mfa"}) {
				t.Fatalf("access token after otp: %+v %v", c, err)
			}
			// Spent by its success.
			nextStep(e)
			if r := mfaStep(e, mt, "otp", apitest.TOTPCode(t, secret, e.Clock.Now())); r.Status != 400 || r.ErrCode(t) != "invalid_grant" {
				t.Errorf("mfa_token after success: %d %s", r.Status, r.Body)
			}
			// The same step's code again (a new mfa_token): a replay.
			nextStep(e)
			now := apitest.TOTPCode(t, secret, e.Clock.Now())
			e.MustTokens(mfaStep(e, mfaToken(e, "tia@example.com", nil), "otp", now))
			if r := mfaStep(e, mfaToken(e, "tia@example.com", nil), "otp", now); r.Status != 400 || r.ErrCode(t) != "invalid_grant" {
				t.Errorf("replayed code: %d %s", r.Status, r.Body)
			}
			// A code two steps old has expired.
			nextStep(e)
			if r := mfaStep(e, mfaToken(e, "tia@example.com", nil), "otp", apitest.TOTPCode(t, secret, e.Clock.Now().Add(-60*time.Second))); r.Status != 400 || r.ErrCode(t) != "invalid_grant" {
				t.Errorf("expired code: %d %s", r.Status, r.Body)
			}

			// A recovery code works once, in any case and spacing.
			spaced := " " + strings.ToUpper(rc.RecoveryCodes[3]) + " "
			pair = e.MustTokens(mfaStep(e, mfaToken(e, "tia@example.com", nil), "recovery_code", spaced))
			if c, _ := e.Sessions.ParseAccess(context.Background(), pair.AccessToken); c == nil || !slices.Equal(c.AMR, []string{"pwd", "mfa"}) {
				t.Errorf("amr after a recovery code: %+v", c)
			}
			if r := mfaStep(e, mfaToken(e, "tia@example.com", nil), "recovery_code", rc.RecoveryCodes[3]); r.Status != 400 || r.ErrCode(t) != "invalid_grant" {
				t.Errorf("used recovery code: %d %s", r.Status, r.Body)
			}
			if st := mfaStatusOf(e, pair.AccessToken); st.RecoveryCodesLeft != 9 {
				t.Errorf("status after a recovery code: %+v", st)
			}
			want := []string{"mfa.failed:wrong", "mfa.failed:wrong", "mfa.totp.enable:", "mfa.failed:replayed",
				"mfa.failed:replayed", "mfa.failed:wrong", "mfa.recovery_code.use:", "mfa.failed:wrong"}
			if got := auditActions(e, id); !slices.Equal(got[len(got)-len(want):], want) {
				t.Errorf("audit log:\n got %v\nwant …%v", got, want)
			}
		})
	}
}

// TestMFAScopeAndIDToken: the scope asked for at the password grant
// reaches the pair, and the ID token says amr too.
func TestMFAScopeAndIDToken(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	u := enrolTOTP(e, "sia@example.com")
	mt := mfaToken(e, u.email, url.Values{"scope": {"openid profile:read"}, "client_id": {apitest.PublicClientID}})
	r := e.PostForm("/token", url.Values{"grant_type": {mfaGrant}, "mfa_token": {mt}, "otp": {apitest.TOTPCode(t, u.Secret, e.Clock.Now())}, "client_id": {apitest.PublicClientID}})
	var pair struct {
		apitest.Tokens
		IDToken string `json:"id_token"`
	}
	if r.Status != 200 || json.Unmarshal(r.Body, &pair) != nil || pair.IDToken == "" || !strings.Contains(pair.Scope, "openid") {
		t.Fatalf("mfa step with scope openid: %d %s", r.Status, r.Body)
	}
	var claims struct {
		AMR []string `json:"amr"`
	}
	if err := json.Unmarshal(apitest.JWTPayload(t, pair.IDToken), &claims); err != nil || !slices.Equal(claims.AMR, []string{"pwd", "otp", "mfa"}) {
		t.Errorf("ID token amr: %v (%v)", claims.AMR, err)
	}
}

// TestMFATokenDiesOnFifthFailure: wrong codes, replays and wrong recovery
// codes all count; the fifth ends the mfa_token, on both stores.
func TestMFATokenDiesOnFifthFailure(t *testing.T) {
	for _, b := range apitest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.NewEnv(t, apitest.EnvOptions{Backend: b})
			u := enrolTOTP(e, "fia@example.com")
			mt := mfaToken(e, u.email, nil)
			e.MustTokens(mfaStep(e, mfaToken(e, u.email, nil), "otp", apitest.TOTPCode(t, u.Secret, e.Clock.Now())))
			wrong := []struct{ field, code string }{
				{"otp", "123456"}, {"otp", apitest.TOTPCode(t, u.Secret, e.Clock.Now())}, // a replay
				{"recovery_code", "aaaa-bbbb-cccc"}, {"otp", "12345"}, {"otp", "654321"},
			}
			for i, w := range wrong {
				r := mfaStep(e, mt, w.field, w.code)
				if r.Status != 400 || r.ErrCode(t) != "invalid_grant" {
					t.Fatalf("wrong attempt %d: %d %s", i+1, r.Status, r.Body)
				}
				if last := strings.Contains(string(r.Body), "last attempt"); last != (i == 4) {
					t.Errorf("attempt %d says last=%v: %s", i+1, last, r.Body)
				}
			}
			nextStep(e)
			if r := mfaStep(e, mt, "otp", apitest.TOTPCode(t, u.Secret, e.Clock.Now())); r.Status != 400 || r.ErrCode(t) != "invalid_grant" {
				t.Errorf("right code on a dead mfa_token: %d %s", r.Status, r.Body)
			}
			if r := mfaStep(e, mt, "recovery_code", u.recovery[0]); r.Status != 400 || r.ErrCode(t) != "invalid_grant" {
				t.Errorf("recovery code on a dead mfa_token: %d %s", r.Status, r.Body)
			}
		})
	}
}

// TestMFATokenExpires: an mfa_token lives 5 minutes.
func TestMFATokenExpires(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	u := enrolTOTP(e, "xia@example.com")
	mt := mfaToken(e, u.email, nil)
	e.Clock.Advance(5*time.Minute + time.Second)
	if r := mfaStep(e, mt, "otp", apitest.TOTPCode(t, u.Secret, e.Clock.Now())); r.Status != 400 || r.ErrCode(t) != "invalid_grant" {
		t.Errorf("expired mfa_token: %d %s", r.Status, r.Body)
	}
}

// TestMFATokenBoundToClient: an mfa_token issued to one client is refused
// to another and to no client (and the refusal counts as a failure); one
// issued to no client is refused to a client.
func TestMFATokenBoundToClient(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	u := enrolTOTP(e, "bia@example.com")
	web := []string{"Authorization", apitest.BasicAuthHeader(apitest.TestClientID, apitest.TestClientSecret)}
	mt := mfaToken(e, u.email, nil, web...)
	code := apitest.TOTPCode(t, u.Secret, e.Clock.Now())
	for name, client := range map[string]string{"no client": "", "another client": apitest.PublicClientID} {
		form := url.Values{"grant_type": {mfaGrant}, "mfa_token": {mt}, "otp": {code}}
		if client != "" {
			form.Set("client_id", client)
		}
		if r := e.PostForm("/token", form); r.Status != 400 || r.ErrCode(t) != "invalid_grant" {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	pair := e.MustTokens(mfaStep(e, mt, "otp", code, web...))
	if c, _ := e.Sessions.ParseAccess(context.Background(), pair.AccessToken); c == nil || c.ClientID != apitest.TestClientID {
		t.Errorf("client_id of the pair: %+v", c)
	}
	nextStep(e)
	none := mfaToken(e, u.email, nil)
	form := url.Values{"grant_type": {mfaGrant}, "mfa_token": {none}, "otp": {apitest.TOTPCode(t, u.Secret, e.Clock.Now())}, "client_id": {apitest.PublicClientID}}
	if r := e.PostForm("/token", form); r.Status != 400 || r.ErrCode(t) != "invalid_grant" {
		t.Errorf("no-client mfa_token used by a client: %d %s", r.Status, r.Body)
	}
}

// TestMFABruteForceLimited: failed codes are limited per account across
// mfa_tokens (10 per 15 minutes): then even the right code gets 429 with
// Retry-After, until the window ends.
func TestMFABruteForceLimited(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	u := enrolTOTP(e, "gia@example.com")
	mt := ""
	for i := range 10 {
		if i%4 == 0 {
			mt = mfaToken(e, u.email, nil)
		}
		if r := mfaStep(e, mt, "otp", "000000"); r.Status != 400 || r.ErrCode(t) != "invalid_grant" {
			t.Fatalf("guess %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	mt = mfaToken(e, u.email, nil)
	r := mfaStep(e, mt, "otp", apitest.TOTPCode(t, u.Secret, e.Clock.Now()))
	if r.Status != http.StatusTooManyRequests || r.ErrCode(t) != "rate_limited" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("right code after 10 failures: %d %v %s", r.Status, r.Header, r.Body)
	}
	// The account's own changes are limited the same way.
	if r := e.PostJSON("/users/me/mfa/recovery-codes", map[string]string{"code": apitest.TOTPCode(t, u.Secret, e.Clock.Now())}, apitest.Bearer(u.token)...); r.Status != 429 {
		t.Errorf("regenerate while limited: %d %s", r.Status, r.Body)
	}
	e.Clock.Advance(15 * time.Minute)
	e.MustTokens(mfaStep(e, mfaToken(e, u.email, nil), "otp", apitest.TOTPCode(t, u.Secret, e.Clock.Now())))
}

// TestMFARemoveAndRegenerate: removal and new recovery codes need the
// current factor; without it 403 reauthentication_required, with a wrong
// one 400 invalid_grant. After removal the password grant gives tokens.
func TestMFARemoveAndRegenerate(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	u := enrolTOTP(e, "ria2@example.com")
	for name, body := range map[string]any{"empty": map[string]string{}, "only a password": map[string]string{"current_password": apitest.Password}} {
		if r := deleteJSON(e, "/users/me/mfa/totp", body, apitest.Bearer(u.token)...); r.Status != 403 || r.ErrCode(t) != "reauthentication_required" {
			t.Errorf("remove, %s: %d %s", name, r.Status, r.Body)
		}
		if r := e.PostJSON("/users/me/mfa/recovery-codes", body, apitest.Bearer(u.token)...); r.Status != 403 || r.ErrCode(t) != "reauthentication_required" {
			t.Errorf("regenerate, %s: %d %s", name, r.Status, r.Body)
		}
	}
	if r := deleteJSON(e, "/users/me/mfa/totp", map[string]string{"code": "111111"}, apitest.Bearer(u.token)...); r.Status != 400 || r.ErrCode(t) != "invalid_grant" {
		t.Errorf("remove with a wrong code: %d %s", r.Status, r.Body)
	}
	if r := e.PostJSON("/users/me/mfa/recovery-codes", map[string]string{"recovery_code": u.recovery[0]}, apitest.Bearer(u.token)...); r.Status != 400 || r.ErrCode(t) != "invalid_request" {
		t.Errorf("regenerate with a recovery code: %d %s", r.Status, r.Body)
	}
	if r := deleteJSON(e, "/users/me/mfa/totp", map[string]string{"code": "1", "recovery_code": "2"}, apitest.Bearer(u.token)...); r.Status != 400 || r.ErrCode(t) != "invalid_request" {
		t.Errorf("remove with both: %d %s", r.Status, r.Body)
	}
	r := e.PostJSON("/users/me/mfa/recovery-codes", map[string]string{"code": apitest.TOTPCode(t, u.Secret, e.Clock.Now())}, apitest.Bearer(u.token)...)
	var fresh struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	if r.Status != 200 || json.Unmarshal(r.Body, &fresh) != nil || len(fresh.RecoveryCodes) != 10 || slices.Contains(fresh.RecoveryCodes, u.recovery[0]) {
		t.Fatalf("regenerate: %d %s", r.Status, r.Body)
	}
	// The old set is dead.
	if r := deleteJSON(e, "/users/me/mfa/totp", map[string]string{"recovery_code": u.recovery[1]}, apitest.Bearer(u.token)...); r.Status != 400 || r.ErrCode(t) != "invalid_grant" {
		t.Errorf("remove with an old recovery code: %d %s", r.Status, r.Body)
	}
	if r := deleteJSON(e, "/users/me/mfa/totp", map[string]string{"recovery_code": fresh.RecoveryCodes[0]}, apitest.Bearer(u.token)...); r.Status != 204 {
		t.Fatalf("remove with a recovery code: %d %s", r.Status, r.Body)
	}
	if st := mfaStatusOf(e, u.token); st != (mfaStatus{}) {
		t.Errorf("status after removal: %+v", st)
	}
	e.Login(u.email, apitest.Password) // no second step any more
	if r := deleteJSON(e, "/users/me/mfa/totp", map[string]string{"code": "123456"}, apitest.Bearer(u.token)...); r.Status != 404 || r.ErrCode(t) != "not_found" {
		t.Errorf("remove again: %d %s", r.Status, r.Body)
	}
	acts := auditActions(e, u.id)
	if !slices.Contains(acts, "mfa.recovery_codes.regenerate:") || !slices.Contains(acts, "mfa.totp.remove:") {
		t.Errorf("audit log: %v", acts)
	}
}

// TestMFAConfirmNeedsFreshProof: switching TOTP on long after the
// sign-in needs the current password.
func TestMFAConfirmNeedsFreshProof(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	e.Signup("pia2@example.com", apitest.Password)
	tk := e.Login("pia2@example.com", apitest.Password).AccessToken
	e.Clock.Advance(6 * time.Minute)
	r := e.Do("POST", "/users/me/mfa/totp", "", nil, apitest.Bearer(tk)...)
	secret := r.JSON(t)["secret"].(string)
	code := apitest.TOTPCode(t, secret, e.Clock.Now())
	if r := e.PostJSON("/users/me/mfa/totp/confirm", map[string]string{"code": code}, apitest.Bearer(tk)...); r.Status != 403 || r.ErrCode(t) != "reauthentication_required" {
		t.Errorf("confirm 6 minutes after sign-in: %d %s", r.Status, r.Body)
	}
	if r := e.PostJSON("/users/me/mfa/totp/confirm", map[string]string{"code": code, "current_password": "not it at all"}, apitest.Bearer(tk)...); r.Status != 400 || r.ErrCode(t) != "invalid_grant" {
		t.Errorf("confirm with a wrong password: %d %s", r.Status, r.Body)
	}
	if r := e.PostJSON("/users/me/mfa/totp/confirm", map[string]string{}, apitest.Bearer(tk)...); r.Status != 400 || r.ErrCode(t) != "invalid_request" {
		t.Errorf("confirm without a code: %d %s", r.Status, r.Body)
	}
	if r := e.PostJSON("/users/me/mfa/totp/confirm", map[string]string{"code": code, "current_password": apitest.Password}, apitest.Bearer(tk)...); r.Status != 200 {
		t.Errorf("confirm with the password: %d %s", r.Status, r.Body)
	}
}

// TestMFABadRequests: malformed second steps are 400 invalid_request;
// without a bearer token the routes are 401.
func TestMFABadRequests(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	for name, form := range map[string]url.Values{
		"no mfa_token": {"grant_type": {mfaGrant}, "otp": {"123456"}},
		"no code":      {"grant_type": {mfaGrant}, "mfa_token": {"x"}},
		"both codes":   {"grant_type": {mfaGrant}, "mfa_token": {"x"}, "otp": {"1"}, "recovery_code": {"2"}},
	} {
		if r := e.PostForm("/token", form); r.Status != 400 || r.ErrCode(t) != "invalid_request" {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	if r := mfaStep(e, strings.Repeat("x", 300), "otp", "123456"); r.Status != 400 || r.ErrCode(t) != "invalid_grant" {
		t.Errorf("unknown mfa_token: %d %s", r.Status, r.Body)
	}
	for _, rt := range [][2]string{{"POST", "/users/me/mfa/totp"}, {"POST", "/users/me/mfa/totp/confirm"}, {"DELETE", "/users/me/mfa/totp"}, {"POST", "/users/me/mfa/recovery-codes"}} {
		if r := e.Do(rt[0], rt[1], "application/json", strings.NewReader("{}")); r.Status != 401 || r.ErrCode(t) != "invalid_token" {
			t.Errorf("%s %s without a token: %d %s", rt[0], rt[1], r.Status, r.Body)
		}
	}
	tk := e.Login(mustSignup(e, "zia@example.com"), apitest.Password).AccessToken
	if r := e.Do("POST", "/users/me/mfa/totp/confirm", "application/json", strings.NewReader(`{"code":`), apitest.Bearer(tk)...); r.Status != 400 || r.ErrCode(t) != "invalid_request" {
		t.Errorf("malformed JSON: %d %s", r.Status, r.Body)
	}
	if r := e.PostJSON("/users/me/mfa/totp/confirm", map[string]string{"code": "123456"}, apitest.Bearer(tk)...); r.Status != 404 || r.ErrCode(t) != "not_found" {
		t.Errorf("confirm with nothing pending: %d %s", r.Status, r.Body)
	}
	if r := e.PostJSON("/users/me/mfa/totp/confirm", map[string]string{"code": strings.Repeat("9", 70000)}, apitest.Bearer(tk)...); r.Status != 413 {
		t.Errorf("huge code: %d %s", r.Status, r.Body)
	}
}

func mustSignup(e *apitest.Env, email string) string {
	e.Signup(email, apitest.Password)
	return email
}

// TestAdminResetMFA: DELETE /admin/users/{id}/mfa removes TOTP (204, also
// when there is none), audited with the admin as actor; 404 for an
// unknown user.
func TestAdminResetMFA(t *testing.T) {
	for _, b := range apitest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			e := newAdminEnv(t, b)
			adminID, admin := makeAdmin(e, "root@example.com")
			u := enrolTOTP(e, "lost@example.com")
			for range 2 {
				if r := adminCall(e, "DELETE", "/admin/users/"+u.id+"/mfa", admin.AccessToken, nil); r.Status != 204 {
					t.Fatalf("reset: %d %s", r.Status, r.Body)
				}
			}
			if st := mfaStatusOf(e, u.token); st != (mfaStatus{}) {
				t.Errorf("status after reset: %+v", st)
			}
			e.Login(u.email, apitest.Password)
			if r := adminCall(e, "DELETE", "/admin/users/nobody/mfa", admin.AccessToken, nil); r.Status != 404 || r.ErrCode(t) != "not_found" {
				t.Errorf("reset of an unknown user: %d %s", r.Status, r.Body)
			}
			evs, _ := e.Store.ListAudit(context.Background(), "", 50)
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
	for _, b := range apitest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.NewEnv(t, apitest.EnvOptions{Backend: b})
			u := enrolTOTP(e, "cia@example.com")
			count := func(rs []apitest.Response) (ok int) {
				for _, r := range rs {
					switch {
					case r.Status == 200:
						ok++
					case r.Status != 400 || r.ErrCode(t) != "invalid_grant":
						t.Errorf("racer: %d %s", r.Status, r.Body)
					}
				}
				return ok
			}
			race := func(token func(int) string, code string) []apitest.Response {
				rs := make([]apitest.Response, racers)
				testkit.Race(racers, func(i int) error { rs[i] = mfaStep(e, token(i), "otp", code); return nil })
				return rs
			}
			one := mfaToken(e, u.email, nil)
			if n := count(race(func(int) string { return one }, apitest.TOTPCode(t, u.Secret, e.Clock.Now()))); n != 1 {
				t.Errorf("one mfa_token, %d racers: %d pairs, want 1", racers, n)
			}
			nextStep(e)
			toks := make([]string, racers)
			for i := range toks {
				toks[i] = mfaToken(e, u.email, nil)
			}
			if n := count(race(func(i int) string { return toks[i] }, apitest.TOTPCode(t, u.Secret, e.Clock.Now()))); n != 1 {
				t.Errorf("one code, %d mfa_tokens: %d pairs, want 1", racers, n)
			}
		})
	}
}

// TestMFAStepAfterChanges: the second step fails (and spends the token)
// when the user was disabled or TOTP was reset after the password.
func TestMFAStepAfterChanges(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	u := enrolTOTP(e, "dia@example.com")
	mt := mfaToken(e, u.email, nil)
	if err := e.Store.SetDisabled(context.Background(), u.id, true); err != nil {
		t.Fatal(err)
	}
	if r := mfaStep(e, mt, "otp", apitest.TOTPCode(t, u.Secret, e.Clock.Now())); r.Status != 400 || r.ErrCode(t) != "invalid_grant" {
		t.Errorf("disabled meanwhile: %d %s", r.Status, r.Body)
	}
	if err := e.Store.SetDisabled(context.Background(), u.id, false); err != nil {
		t.Fatal(err)
	}
	mt = mfaToken(e, u.email, nil)
	if err := e.Store.DeleteTOTP(context.Background(), u.id); err != nil {
		t.Fatal(err)
	}
	if r := mfaStep(e, mt, "otp", apitest.TOTPCode(t, u.Secret, e.Clock.Now())); r.Status != 400 || r.ErrCode(t) != "invalid_grant" {
		t.Errorf("TOTP removed meanwhile: %d %s", r.Status, r.Body)
	}
	if r := mfaStep(e, mt, "otp", apitest.TOTPCode(t, u.Secret, e.Clock.Now())); r.Status != 400 || r.ErrCode(t) != "invalid_grant" {
		t.Errorf("spent token: %d %s", r.Status, r.Body)
	}
}
