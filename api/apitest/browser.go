package apitest

import (
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/unilogin/unilogin/providers/providertest"
)

// browser is a cookie-keeping client on the hosted pages that never
// follows redirects.
type Browser struct {
	T    *testing.T
	E    *Env
	C    *http.Client
	CSRF string   // the last page's CSRF token
	Hdr  []string // extra header name/value pairs sent with every request
}

// genericSignin is the hosted sign-in page's one message for every failure.
const GenericSignin = "The email address or password is incorrect."

func NewBrowser(t *testing.T, e *Env) *Browser {
	return &Browser{T: t, E: e, C: BrowserClient(t)}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// FormFields are the hidden fields of a page (or of one form's HTML), as
// a browser submits them.
func FormFields(page []byte) url.Values {
	v := url.Values{}
	for _, m := range hiddenRE.FindAllSubmatch(page, -1) {
		v.Set(string(m[1]), html.UnescapeString(string(m[2])))
	}
	return v
}

// CSRFToken is the CSRF token of a page's form; "" when it has none.
func CSRFToken(page []byte) string {
	if m := csrfRE.FindSubmatch(page); m != nil {
		return string(m[1])
	}
	return ""
}

func (b *Browser) Do(req *http.Request) Response {
	b.T.Helper()
	for i := 0; i+1 < len(b.Hdr); i += 2 {
		req.Header.Set(b.Hdr[i], b.Hdr[i+1])
	}
	res, err := b.C.Do(req)
	if err != nil {
		b.T.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if tok := CSRFToken(body); tok != "" {
		b.CSRF = tok
	}
	return Response{Status: res.StatusCode, Header: res.Header, Body: body}
}

func (b *Browser) Get(path string) Response {
	b.T.Helper()
	if !strings.HasPrefix(path, "http") {
		path = b.E.URL + path
	}
	req, _ := http.NewRequest(http.MethodGet, path, nil)
	return b.Do(req)
}

// post sends a form; csrf "" adds the last page's token, "-" sends none.
func (b *Browser) Post(path string, form url.Values) Response {
	b.T.Helper()
	if form == nil {
		form = url.Values{}
	}
	switch form.Get("csrf") {
	case "":
		form.Set("csrf", b.CSRF)
	case "-":
		form.Del("csrf")
	}
	req, _ := http.NewRequest(http.MethodPost, b.E.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.Do(req)
}

func IsPage(t *testing.T, r Response, status int, contains ...string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("Content-Type %q, want an HTML page: %s", ct, r.Body)
	}
	for _, s := range contains {
		if !strings.Contains(string(r.Body), s) {
			t.Fatalf("page lacks %q:\n%s", s, r.Body)
		}
	}
}

func AuthorizeQuery(a FlowApp) url.Values {
	q := a.LoginQuery()
	q.Set("response_type", "code")
	return q
}

// hiddenFields are the app's request as the sign-in form carries it.
func HiddenFields(a FlowApp) url.Values {
	q := a.LoginQuery()
	return q
}

// walkProvider follows the redirects of a provider flow started by a page
// (through the fake provider) until it leaves the fake; it returns the last response.
func WalkProvider(t *testing.T, b *Browser, r Response) Response {
	t.Helper()
	for i := 0; i < 8 && (r.Status == http.StatusFound || r.Status == http.StatusSeeOther); i++ {
		loc, err := url.Parse(r.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		if !loc.IsAbs() {
			loc = MustParse(t, b.E.URL).ResolveReference(loc)
		}
		if !strings.HasPrefix(loc.String(), b.E.URL) {
			loc = providertest.Authorize(t, loc.String())
		}
		r = b.Get(loc.String())
	}
	return r
}

func MustParse(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
