package providertest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/unilogin/unilogin/providers/providertest"
)

const callback = "http://localhost:8080/auth/x/callback"

func authURL(base, path, clientID string, extra url.Values) string {
	q := url.Values{
		"client_id":             {clientID},
		"redirect_uri":          {callback},
		"response_type":         {"code"},
		"scope":                 {"openid email"},
		"state":                 {"st"},
		"nonce":                 {"n"},
		"code_challenge":        {providertest.S256("verifier-verifier-verifier-verifier-verifier")},
		"code_challenge_method": {"S256"},
	}
	for k, v := range extra {
		q[k] = v
	}
	return base + path + "?" + q.Encode()
}

func noRedirect() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func postForm(t *testing.T, u string, form url.Values, mutate func(*http.Request)) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if mutate != nil {
		mutate(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := map[string]any{}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("body %s: %v", body, err)
		}
	} else {
		q, _ := url.ParseQuery(string(body))
		for k := range q {
			m[k] = q.Get(k)
		}
	}
	return resp.StatusCode, m
}

func TestOIDCAuthorizeValidation(t *testing.T) {
	fake := providertest.NewOIDC(t, providertest.WithRedirectURIs(callback))
	for _, tc := range []struct {
		name       string
		extra      url.Values
		wantStatus int
		wantError  string // error= on the redirect
	}{
		{"ok", nil, http.StatusFound, ""},
		{"unknown client", url.Values{"client_id": {"other"}}, http.StatusBadRequest, ""},
		{"unregistered redirect", url.Values{"redirect_uri": {"http://evil.example/cb"}}, http.StatusBadRequest, ""},
		{"no PKCE", url.Values{"code_challenge": {""}}, http.StatusFound, "invalid_request"},
		{"plain PKCE", url.Values{"code_challenge_method": {"plain"}}, http.StatusFound, "invalid_request"},
		{"implicit flow", url.Values{"response_type": {"token"}}, http.StatusFound, "unsupported_response_type"},
		{"no openid scope", url.Values{"scope": {"email"}}, http.StatusFound, "invalid_scope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := noRedirect().Get(authURL(fake.URL, "/authorize", fake.ClientID, tc.extra))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if resp.StatusCode != http.StatusFound {
				return
			}
			loc, _ := resp.Location()
			q := loc.Query()
			if q.Get("error") != tc.wantError || q.Get("state") != "st" || (tc.wantError == "") != (q.Get("code") != "") {
				t.Errorf("redirect = %s", loc)
			}
		})
	}
	if ar := fake.LastAuthorizeRequest(); ar.Scope != "email" || ar.Query.Get("scope") != "email" {
		t.Errorf("LastAuthorizeRequest = %+v", ar)
	}
}

func TestOIDCTokenEndpoint(t *testing.T) {
	const verifier = "verifier-verifier-verifier-verifier-verifier"
	fake := providertest.NewOIDC(t)
	code := func() string {
		c, _ := providertest.AuthorizeCode(t, authURL(fake.URL, "/authorize", fake.ClientID, nil))
		return c
	}
	form := func(code string) url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback}, "code_verifier": {verifier}}
	}
	basic := func(r *http.Request) { r.SetBasicAuth(fake.ClientID, fake.ClientSecret) }

	for _, tc := range []struct {
		name       string
		form       url.Values
		mutate     func(*http.Request)
		wantStatus int
		wantError  string
		wantMethod string
	}{
		{name: "basic", form: form(code()), mutate: basic, wantStatus: 200, wantMethod: "client_secret_basic"},
		{name: "post", form: func() url.Values {
			f := form(code())
			f.Set("client_id", fake.ClientID)
			f.Set("client_secret", fake.ClientSecret)
			return f
		}(), wantStatus: 200, wantMethod: "client_secret_post"},
		{name: "no client auth", form: form(code()), wantStatus: 401, wantError: "invalid_client"},
		{name: "two auth methods", form: func() url.Values { f := form(code()); f.Set("client_secret", "x"); return f }(), mutate: basic, wantStatus: 400, wantError: "invalid_request"},
		{name: "wrong grant type", form: func() url.Values { f := form(code()); f.Set("grant_type", "password"); return f }(), mutate: basic, wantStatus: 400, wantError: "unsupported_grant_type"},
		{name: "missing verifier", form: func() url.Values { f := form(code()); f.Del("code_verifier"); return f }(), mutate: basic, wantStatus: 400, wantError: "invalid_grant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := postForm(t, fake.URL+"/token", tc.form, tc.mutate)
			if status != tc.wantStatus || (tc.wantError != "" && body["error"] != tc.wantError) {
				t.Fatalf("status %d body %v, want %d %s", status, body, tc.wantStatus, tc.wantError)
			}
			if status == 200 {
				if body["id_token"] == "" || body["access_token"] == "" || body["token_type"] != "Bearer" {
					t.Errorf("token response = %v", body)
				}
				if m := fake.LastTokenRequest().AuthMethod; m != tc.wantMethod {
					t.Errorf("AuthMethod = %q, want %q", m, tc.wantMethod)
				}
				// The access token opens /userinfo.
				req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, fake.URL+"/userinfo", nil)
				req.Header.Set("Authorization", "Bearer "+body["access_token"].(string))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				var claims map[string]any
				json.NewDecoder(resp.Body).Decode(&claims)
				resp.Body.Close()
				if claims["sub"] != providertest.DefaultOIDCUser.Subject {
					t.Errorf("userinfo = %v", claims)
				}
			}
		})
	}
}

func TestGitHubTokenFormats(t *testing.T) {
	const verifier = "verifier-verifier-verifier-verifier-verifier"
	fake := providertest.NewGitHub(t)
	for _, tc := range []struct {
		name    string
		accept  string
		badCode bool
	}{
		{name: "form", accept: ""},
		{name: "json", accept: "application/json"},
		{name: "form error with 200", badCode: true},
		{name: "json error with 200", accept: "application/json", badCode: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _ := providertest.AuthorizeCode(t, authURL(fake.URL, "/login/oauth/authorize", fake.ClientID, nil))
			if tc.badCode {
				code = "nope"
			}
			form := url.Values{"client_id": {fake.ClientID}, "client_secret": {fake.ClientSecret}, "code": {code}, "redirect_uri": {callback}, "code_verifier": {verifier}}
			status, body := postForm(t, fake.URL+"/login/oauth/access_token", form, func(r *http.Request) {
				if tc.accept != "" {
					r.Header.Set("Accept", tc.accept)
				}
			})
			if status != 200 {
				t.Fatalf("status = %d", status)
			}
			if tc.badCode {
				if body["error"] != "bad_verification_code" {
					t.Errorf("body = %v", body)
				}
				return
			}
			tok, _ := body["access_token"].(string)
			if !strings.HasPrefix(tok, "gho_") || body["token_type"] != "bearer" {
				t.Fatalf("body = %v", body)
			}
			if fake.LastTokenRequest().Accept != tc.accept {
				t.Errorf("Accept = %q", fake.LastTokenRequest().Accept)
			}
			// The token opens the API; no token gets 401.
			for _, auth := range []string{"Bearer " + tok, "token " + tok, ""} {
				req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, fake.APIURL+"/user", nil)
				if auth != "" {
					req.Header.Set("Authorization", auth)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if want := map[bool]int{true: 200, false: 401}[auth != ""]; resp.StatusCode != want {
					t.Errorf("GET /user with %q: %d, want %d", auth, resp.StatusCode, want)
				}
			}
		})
	}
}

// TestDelayDoesNotBlockCleanup checks that a request stuck in a Delay is
// released when the test ends, even if its client never gives up.
func TestDelayDoesNotBlockCleanup(t *testing.T) {
	start := time.Now()
	done := make(chan struct{})
	t.Run("inner", func(t *testing.T) {
		fake := providertest.NewOIDC(t)
		fake.SetBehavior(providertest.OIDCBehavior{Delay: time.Hour})
		go func() {
			defer close(done)
			resp, err := http.Post(fake.URL+"/token", "application/x-www-form-urlencoded", strings.NewReader("grant_type=x"))
			if err == nil {
				resp.Body.Close()
			}
		}()
		for fake.TokenRequests() == 0 {
			time.Sleep(time.Millisecond)
		}
	})
	<-done
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("cleanup took %v", d)
	}
}
