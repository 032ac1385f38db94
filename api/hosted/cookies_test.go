package hosted_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/unilogin/unilogin/api"
	"github.com/unilogin/unilogin/api/apitest"
	"github.com/unilogin/unilogin/api/hosted"
	"github.com/unilogin/unilogin/config"
)

// TestHostedChunkedBodyTooLarge: a form body over 64 KiB sent without a
// length (chunked) is 413 on every hosted POST, like everywhere else
// (issue 11, item 8).
func TestHostedChunkedBodyTooLarge(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	for _, path := range []string{"/signin", "/register", "/signout", "/account/password", "/account/sessions/revoke",
		"/account/unlink/github", "/account/link/github"} {
		body := io.MultiReader(strings.NewReader("csrf=x&email="), strings.NewReader(strings.Repeat("a", 70<<10)))
		req, _ := http.NewRequest(http.MethodPost, e.URL+path, body)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: %d, want 413", path, res.StatusCode)
		}
		if req.ContentLength > 0 {
			t.Fatalf("%s: the request announced its length", path)
		}
	}
}

// TestFlowCookiesBounded: abandoned provider flows do not pile up in the
// browser: at most hosted.MaxFlowCookies flow cookies, each of bounded size, the
// newest flows still complete, and an overlong state is refused (issue 11,
// item 9).
func TestFlowCookiesBounded(t *testing.T) {
	fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{})
	c := apitest.BrowserClient(t)
	a := apitest.PublicApp()
	a.State = strings.Repeat("s", api.MaxAppState)
	var first, last *url.URL
	for i := range 25 {
		u := fe.Location(fe.Fetch(c, fe.LoginURL("corp", a)))
		if i == 0 {
			first = u
		}
		last = u
	}
	base := apitest.MustParse(t, fe.URL+"/auth/corp/callback")
	var flows int
	for _, ck := range c.Jar.Cookies(base) {
		if strings.HasPrefix(ck.Name, hosted.FlowCookiePrefix) {
			flows++
			if len(ck.Value) > hosted.MaxFlowCookieLen {
				t.Errorf("flow cookie of %d bytes", len(ck.Value))
			}
		}
	}
	if flows > hosted.MaxFlowCookies || flows == 0 {
		t.Fatalf("%d flow cookies in the jar, want 1..%d", flows, hosted.MaxFlowCookies)
	}
	// The newest flow completes; the oldest was ended.
	if code := fe.AppCode(fe.Location(fe.Fetch(c, fe.Authorize(last).String())), a); code == "" {
		t.Fatal("the newest flow gave no code")
	}
	if r := fe.Fetch(c, fe.Authorize(first).String()); r.Status != http.StatusBadRequest {
		t.Fatalf("the oldest flow's callback: %d, want 400", r.Status)
	}
	// A state over the bound goes back to the app as invalid_request.
	a.State = strings.Repeat("s", api.MaxAppState+1)
	u := fe.Location(fe.Fetch(c, fe.LoginURL("corp", a)))
	if u.Query().Get("error") != "invalid_request" {
		t.Fatalf("overlong state: redirected to %s", u)
	}
}

// TestHostPrefixedCookies: with an https issuer the hosted pages' session
// and pre-session cookies are __Host- cookies (Secure, Path=/, no Domain)
// and are read under that name; with http they keep the plain name
// (issue 11, item 13).
func TestHostPrefixedCookies(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{Mutate: func(c *config.Config) { c.Issuer = "https://login.example.com" }})
	e.Signup("hoa@example.com", apitest.Password)
	r := e.Get("/signin")
	var pre *http.Cookie
	for _, ck := range apitest.SetCookies(t, r) {
		if ck.Name == "__Host-"+hosted.PreCookie {
			pre = ck
		}
		if ck.Name == hosted.PreCookie {
			t.Fatalf("unprefixed pre-session cookie with an https issuer")
		}
	}
	if pre == nil || !pre.Secure || pre.Path != "/" || pre.Domain != "" {
		t.Fatalf("pre-session cookie %+v, want __Host- with Secure, Path=/ and no Domain", pre)
	}
	csrf := apitest.CSRFToken(r.Body)
	if csrf == "" {
		t.Fatal("no CSRF token on the sign-in page")
	}
	form := url.Values{"csrf": {csrf}, "email": {"hoa@example.com"}, "password": {apitest.Password}}
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: pre.Name, Value: pre.Value})
	res, err := apitest.NoRedirectClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in with the __Host- pre-session: %d", res.StatusCode)
	}
	var page bool
	for _, ck := range res.Cookies() {
		page = page || (ck.Name == "__Host-"+hosted.PageCookie && ck.Secure && ck.Path == "/" && ck.Domain == "")
	}
	if !page {
		t.Fatalf("no __Host- page-session cookie: %v", res.Header.Values("Set-Cookie"))
	}
}
