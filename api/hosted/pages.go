package hosted

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/i18n"
	"github.com/unilogin/unilogin/api"
	"github.com/unilogin/unilogin/api/middleware"
	"github.com/unilogin/unilogin/api/oauth"
)

// Branding styles the hosted pages (config `branding`).
type Branding struct {
	ProductName string // default "unilogin"
	LogoURL     string // https URL or a path on this server; empty: no logo
	AccentColor string // CSS hex colour; default #2557d6
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/unilogin.css
var baseCSS []byte

//go:embed static/passkey.js
var passkeyJS []byte

// pages holds what the hosted pages need, prepared once in New.
type pages struct {
	// tmpl holds the templates parsed once per language (its Lang), each
	// with `t` and `when` bound to that language's catalog.
	tmpl        map[string]*template.Template
	css         []byte // the stylesheet: --accent first, then static/unilogin.css
	brand       Branding
	callbackURL string // <issuer>/account/callback, the built-in client's redirect URI
}

// pageCSP lets the pages load their own stylesheet, a logo, the QR code
// image and the passkey script (static/passkey.js, which fetches a
// ceremony's options from this origin); no inline script, no data: URLs.
// form-action is left out: Chrome applies it to the redirect that ends a
// sign-in at the app.
const pageCSP = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' https:; frame-ancestors 'none'; base-uri 'none'"

// parseTemplates parses the page templates for l: {{t "English text"
// args...}} is the text in l's language (accounts/i18n), {{when time}} a
// date and time the way it writes them.
func parseTemplates(l *i18n.Locale) (*template.Template, error) {
	return template.New("").Funcs(template.FuncMap{
		"t":    l.T,
		"when": l.Time,
	}).ParseFS(templateFS, "templates/*.html")
}

// newPages parses the templates of every language and prepares the
// stylesheet of the branding.
func newPages(issuer string, b Branding) (*pages, error) {
	tmpl := map[string]*template.Template{}
	for _, tag := range i18n.Supported() {
		l := i18n.For(tag)
		t, err := parseTemplates(l)
		if err != nil {
			return nil, fmt.Errorf("hosted: page templates (%s): %w", l.Lang(), err)
		}
		tmpl[l.Lang()] = t
	}
	css := append([]byte(":root { --accent: "+b.AccentColor+"; }\n"), baseCSS...)
	return &pages{tmpl: tmpl, css: css, brand: b, callbackURL: AccountCallbackURL(issuer)}, nil
}

// AccountCallbackURL is the one redirect URI of the built-in client
// AccountClientID: <issuer>/account/callback.
func AccountCallbackURL(issuer string) string {
	return strings.TrimSuffix(issuer, "/") + "/account/callback"
}

// Routes mounts the hosted pages and the browser flow on e, each in the
// language negotiate picks.
func (s *Server) Routes(e *gin.Engine) {
	r := e.Group("/", s.withLocale)
	r.GET("/auth/:provider/login", s.api.LimitPerIP(middleware.LimitLoginIP, middleware.BrowserLoginRate), s.providerLogin)
	r.GET("/auth/:provider/callback", s.api.LimitPerIP(middleware.LimitCallbackIP, middleware.BrowserLoginRate), s.providerCallback)
	s.pageRoutes(r)
}

func (s *Server) pageRoutes(e gin.IRoutes) {
	e.GET("/static/unilogin.css", s.stylesheet)
	e.GET("/static/passkey.js", s.passkeyScript)
	e.GET("/authorize", s.authorize)
	e.GET("/signin", s.signinPage)
	e.POST("/signin", s.signinSubmit)
	e.GET("/register", s.signupPage)
	e.POST("/register", s.pageLimit(middleware.LimitSignupIP, middleware.SignupRate), s.signupSubmit)
	e.POST("/signout", s.signout)

	e.GET("/account", s.accountPage)
	e.POST("/account/password", s.accountPassword)
	e.POST("/account/sessions/revoke", s.accountRevoke)
	e.POST("/account/link/:provider", s.accountLink)
	e.POST("/account/unlink/:provider", s.accountUnlink)
	e.GET("/account/signin/:provider", s.accountProviderSignin)
	e.GET("/account/callback", s.accountCallback)
	s.recoveryRoutes(e) // recovery.go
	s.oidcRoutes(e)     // consent.go
	s.mfaRoutes(e)      // mfa_signin.go
}

func (s *Server) stylesheet(c *gin.Context) {
	middleware.Cacheable(c, time.Hour)
	c.Data(http.StatusOK, "text/css; charset=utf-8", s.pages.css)
}

// authzRequest is an app's RFC 6749 §4.1.1 request, carried through the
// sign-in and sign-up forms as hidden fields and validated again on POST.
type authzRequest struct {
	ClientID, RedirectURI, State, Challenge, Method string
	Scope, Nonce                                    string // OpenID Connect: the requested scope and the nonce
	Prompt                                          string // "consent" when the app asked for the consent page (carriedPrompt)
}

func (r authzRequest) present() bool { return r.ClientID != "" || r.RedirectURI != "" }

// query is the request as /authorize or /auth/{p}/login parameters.
func (r authzRequest) query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"client_id": r.ClientID, "redirect_uri": r.RedirectURI, "state": r.State,
		"code_challenge": r.Challenge, "code_challenge_method": r.Method, "scope": r.Scope, "nonce": r.Nonce, "prompt": r.Prompt} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

func authzFrom(v url.Values) authzRequest {
	return authzRequest{ClientID: v.Get("client_id"), RedirectURI: v.Get("redirect_uri"), State: v.Get("state"),
		Challenge: v.Get("code_challenge"), Method: v.Get("code_challenge_method"), Scope: v.Get("scope"), Nonce: v.Get("nonce"),
		Prompt: carriedPrompt(v.Get("prompt"))}
}

type providerLink struct {
	ID, Name, URL string
}

// pageData is what every template gets; each page uses its part.
type pageData struct {
	Brand      Branding
	Lang       string // the page's language: <html lang>
	Title      string
	CSRF       string
	Error      string // shown at the top of the form, role="alert"
	FieldError map[string]string
	Notice     string
	Email      string
	Name       string
	Req        authzRequest
	AppName    string // the name of the app being signed in to (its id when it has none)
	Providers  []providerLink
	SignupURL  string
	SigninURL  string
	RetryAfter string

	// account page
	User        *accounts.User
	Identities  []identityView
	Linkable    []providerLink
	Sessions    []sessionView
	HasPassword bool
	// Reauth: the sign-in is too old for a change that needs a fresh one;
	// these links sign in again (accounts without a password).
	Reauth []providerLink
	// ConfirmLink asks for the current password before linking.
	ConfirmLink *providerLink

	// e-mail flows (recovery.go)
	Link      *emailLink // a link page: which one, and its token
	SignupOff bool       // sign-up is disabled: no sign-up link
	ForgotURL string     // the sign-in page's "Forgot password?" link
	NextURL   string     // a message page's way on

	// Apps are the apps the user allowed ("Apps with access").
	Apps []appView

	// consent page: what the app asks for
	Scopes []scopeView

	// second factors and passkeys (mfa_signin.go, account_totp.go)
	MFA           *mfaView
	PasskeySignin bool // the "Sign in with a passkey" button
}

type identityView struct {
	Provider, Name, Email string
	LinkedAt              time.Time
	Last                  bool // the only way left to sign in: Unlink is refused
}

type sessionView struct {
	ID, Device, App       string   // App: the client id ("" for the sign-in pages)
	Methods               []string // "pwd", "otp", "hwk", or a provider's name
	CreatedAt, LastUsedAt time.Time
	Current               bool
}

// render executes a page template with the page headers.
// The handlers' fixed texts (title, errors, notice, field reasons) are
// translated here, so a handler may give them in English.
func (s *Server) render(c *gin.Context, status int, name string, d *pageData) {
	l := s.locale(c)
	d.Brand, d.Lang = s.pages.brand, l.Lang()
	d.Title, d.Error, d.Notice = l.Text(d.Title), l.Text(d.Error), l.Text(d.Notice)
	for k, v := range d.FieldError {
		d.FieldError[k] = l.Text(v)
	}
	var buf bytes.Buffer
	if err := s.pages.tmpl[d.Lang].ExecuteTemplate(&buf, name, d); err != nil {
		s.log(c).Error("render page", slog.String("page", name), slog.String("error", err.Error()))
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Header("Content-Security-Policy", pageCSP)
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Language", d.Lang)
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
	c.Abort()
}

// pageError shows the error page.
func (s *Server) pageError(c *gin.Context, status int, title, message string) {
	s.errorPage(c, oauth.Class{Status: status}, title, message)
}

// errorPage shows the error page of cl, with the Retry-After and
// RateLimit fields cl carries (a refusal's wait, an outage's few seconds).
func (s *Server) errorPage(c *gin.Context, cl oauth.Class, title, message string) {
	d := &pageData{Title: title, Error: message}
	oauth.SetRetryHeaders(c.Writer.Header(), cl)
	if cl.RetryAfter > 0 {
		d.RetryAfter = strconv.FormatInt(oauth.Seconds(cl.RetryAfter), 10)
	}
	s.render(c, cl.Status, "error.html", d)
}

// pageErr shows err on the error page, as oauth.Classify decides (the API's
// decision); 5xx pages never show internal details.
func (s *Server) pageErr(c *gin.Context, err error) {
	busy := i18n.M("The service is busy or unavailable right now. Please try again in a moment.")
	cl := oauth.Classify(err)
	switch {
	case cl.Status == http.StatusRequestEntityTooLarge:
		s.errorPage(c, cl, i18n.M("Something is wrong with this request"), i18n.M("The form is too large."))
	case cl.Code == oauth.CodeRateLimited:
		s.errorPage(c, cl, i18n.M("Too many attempts"), i18n.M("Too many attempts from this network. Wait a little, then try again."))
	case cl.Status == http.StatusInternalServerError:
		s.log(c).Error("internal error", slog.String("error", err.Error()))
		s.errorPage(c, cl, i18n.M("Something went wrong"), i18n.M("An internal error occurred. Please try again later."))
	case cl.Internal():
		s.log(c).Warn("page request failed", slog.String("error", err.Error()))
		s.errorPage(c, cl, i18n.M("Temporarily unavailable"), busy)
	case cl.Decided:
		s.errorPage(c, cl, i18n.M("Something is wrong with this request"), cl.Description)
	default:
		s.errorPage(c, cl, i18n.M("Something went wrong"), cl.Description)
	}
}

func (s *Server) csrfFailed(c *gin.Context) {
	s.pageError(c, http.StatusForbidden, i18n.M("This form has expired"),
		i18n.M("The form could not be verified (it is too old or was sent from another site). Go back, reload the page and try again."))
}

// pageForm parses a page's form body; a bad one gets the error page.
func (s *Server) pageForm(c *gin.Context) (url.Values, bool) {
	form, err := api.ParseForm(c)
	if err != nil {
		s.pageErr(c, err)
		return nil, false
	}
	return form, true
}

// pageLimit is route middleware over perIP for a page: the same counters,
// but a refusal (429 with Retry-After, or 503 when the counter store
// fails) is shown as the error page.
func (s *Server) pageLimit(name string, rate func(middleware.RateLimits) middleware.Rate) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := s.api.Limiter().PerIP(c, name, rate); err != nil {
			s.pageErr(c, err)
			c.Abort()
			return
		}
		c.Next()
	}
}
