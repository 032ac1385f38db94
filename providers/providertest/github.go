package providertest

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// GitHubUser is the user who signs in at the GitHub fake.
type GitHubUser struct {
	ID        int64
	Login     string
	Name      string
	AvatarURL string
	Emails    []GitHubEmail
}

// GitHubEmail is one entry of GET /user/emails.
type GitHubEmail struct {
	Email    string
	Primary  bool
	Verified bool
}

// DefaultGitHubUser is who signs in until SetUser is called. Read it in
// assertions; do not modify it (every fake starts from it).
var DefaultGitHubUser = GitHubUser{
	ID:        583231,
	Login:     "octocat",
	Name:      "The Octocat",
	AvatarURL: "https://avatars.example.com/u/583231",
	Emails: []GitHubEmail{
		{Email: "octocat@users.noreply.example.com", Primary: false, Verified: true},
		{Email: "octocat@example.com", Primary: true, Verified: true},
	},
}

// GitHubBehavior switches misbehaviour of the GitHub fake on. The zero
// value is a well-behaved GitHub.
type GitHubBehavior struct {
	// DenyAccess: the authorize page redirects with error=access_denied.
	DenyAccess bool
	// TokenStatus, when non-zero, makes the token endpoint answer this
	// HTTP status (e.g. 500).
	TokenStatus int
	// TokenError, when non-empty, makes the token endpoint answer 200 with
	// this error field, as GitHub does (e.g. "bad_verification_code").
	TokenError string
	// APIStatus, when non-zero, makes /user and /user/emails answer this
	// status with a GitHub-style {"message": ...} body.
	APIStatus int
	// EmailsStatus, when non-zero, makes only /user/emails answer this
	// status (e.g. 404, as when the user:email scope is missing).
	EmailsStatus int
	// Delay makes the token endpoint and the API wait this long before
	// answering, or until the request's context ends or the server closes.
	// The authorize page is never delayed.
	Delay time.Duration
}

func (b GitHubBehavior) delay() time.Duration { return b.Delay }

// GitHubServer is a fake GitHub (or GitHub Enterprise Server). Its
// endpoints are
//
//	GET  /login/oauth/authorize     (a consenting user: 302 to redirect_uri?code=&state=)
//	POST /login/oauth/access_token  (form-encoded answer, JSON with Accept: application/json;
//	                                 errors as 200 with an error field, as GitHub does)
//	GET  /api/v3/user               (bearer token from the token endpoint)
//	GET  /api/v3/user/emails
//
// Configure a client with BaseURL = URL and APIURL = APIURL (the
// Enterprise layout).
type GitHubServer struct {
	// APIURL is URL + "/api/v3" (GitHub's https://api.github.com); URL is
	// the web root (GitHub's https://github.com).
	APIURL string

	fake[GitHubUser, GitHubBehavior]
}

// NewGitHub starts a fake GitHub. It is closed by t.Cleanup.
func NewGitHub(t testing.TB, opts ...Option) *GitHubServer {
	t.Helper()
	s := &GitHubServer{fake: newFake[GitHubUser, GitHubBehavior](DefaultGitHubUser, opts)}
	s.serve(t, map[string]http.HandlerFunc{
		"GET /login/oauth/authorize":     s.authorize(githubAuthorize),
		"POST /login/oauth/access_token": s.token,
		"GET /api/v3/user":               s.apiUser,
		"GET /api/v3/user/emails":        s.apiEmails,
	})
	s.APIURL = s.URL + "/api/v3"
	return s
}

// githubAuthorize are the rules of GitHub's authorization page: an unknown
// client_id is a 404 page, as on github.com.
var githubAuthorize = authorizeRules[GitHubBehavior]{
	unknownClient: http.StatusNotFound,
	badRedirect:   "The redirect_uri is not associated with this application.",
	refuse: func(ar AuthorizeRequest, b GitHubBehavior) (string, string) {
		switch {
		case ar.CodeChallenge == "" || ar.CodeChallengeMethod != "S256":
			return "invalid_request", "PKCE with code_challenge_method=S256 is required by this fake"
		case b.DenyAccess:
			return "access_denied", "The user has denied your application access."
		}
		return "", ""
	},
	newCode: func() string { return randomToken("")[:20] },
}

// token answers like GitHub: form-encoded unless the client accepts JSON,
// and errors with status 200 and an error field.
func (s *GitHubServer) token(w http.ResponseWriter, r *http.Request) {
	tr, parsed, b, ok := s.receiveToken(r)
	if !ok {
		return
	}
	if b.TokenStatus != 0 {
		http.Error(w, http.StatusText(b.TokenStatus), b.TokenStatus)
		return
	}
	answer := func(v url.Values) {
		w.Header().Set("Cache-Control", "no-store")
		if strings.Contains(tr.Accept, "application/json") {
			m := make(map[string]string, len(v))
			for k := range v {
				m[k] = v.Get(k)
			}
			writeJSON(w, http.StatusOK, m)
			return
		}
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		w.Write([]byte(v.Encode()))
	}
	fail := func(code, desc string) {
		answer(url.Values{"error": {code}, "error_description": {desc}, "error_uri": {"https://docs.github.com/apps/troubleshooting"}})
	}
	switch {
	case b.TokenError != "":
		fail(b.TokenError, "fake failure")
		return
	case !parsed:
		fail("invalid_request", "malformed request")
		return
	case tr.ClientID != s.ClientID || !equal(tr.ClientSecret, s.ClientSecret):
		fail("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.")
		return
	case tr.GrantType != "" && tr.GrantType != "authorization_code":
		fail("unsupported_grant_type", "only authorization_code")
		return
	}
	g := s.takeGrant(tr.Code)
	if code, desc := g.redeem(tr, time.Now()); code != "" {
		if strings.HasPrefix(desc, "redirect_uri") {
			fail("redirect_uri_mismatch", desc)
		} else {
			fail("bad_verification_code", "The code passed is incorrect or expired. ("+desc+")")
		}
		return
	}
	tok := randomToken("gho_")
	s.issueToken(tok, g.user)
	answer(url.Values{"access_token": {tok}, "token_type": {"bearer"}, "scope": {g.scope}})
}

// apiAuth checks the bearer token and the misbehaviour switches common to
// the API endpoints.
func (s *GitHubServer) apiAuth(w http.ResponseWriter, r *http.Request, status int) (GitHubUser, bool) {
	if !s.delay(r) {
		return GitHubUser{}, false
	}
	if status != 0 {
		writeJSON(w, status, map[string]string{"message": http.StatusText(status), "documentation_url": "https://docs.github.com/rest"})
		return GitHubUser{}, false
	}
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		tok, ok = strings.CutPrefix(h, "token ")
	}
	u, known := s.tokenUser(tok)
	if !ok || !known {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
		return GitHubUser{}, false
	}
	return u, true
}

func (s *GitHubServer) apiUser(w http.ResponseWriter, r *http.Request) {
	u, ok := s.apiAuth(w, r, s.Behavior().APIStatus)
	if !ok {
		return
	}
	var name any // GitHub sends null for an unset name
	if u.Name != "" {
		name = u.Name
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"login":      u.Login,
		"id":         u.ID,
		"node_id":    "U_" + strconv.FormatInt(u.ID, 36),
		"avatar_url": u.AvatarURL,
		"html_url":   s.URL + "/" + u.Login,
		"type":       "User",
		"name":       name,
		"email":      nil,
	})
}

func (s *GitHubServer) apiEmails(w http.ResponseWriter, r *http.Request) {
	b := s.Behavior()
	status := b.APIStatus
	if status == 0 {
		status = b.EmailsStatus
	}
	u, ok := s.apiAuth(w, r, status)
	if !ok {
		return
	}
	list := make([]map[string]any, 0, len(u.Emails))
	for _, e := range u.Emails {
		var visibility any
		if e.Primary {
			visibility = "private"
		}
		list = append(list, map[string]any{"email": e.Email, "primary": e.Primary, "verified": e.Verified, "visibility": visibility})
	}
	writeJSON(w, http.StatusOK, list)
}
