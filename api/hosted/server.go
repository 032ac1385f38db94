package hosted

import (
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/mfa"
	"github.com/unilogin/unilogin/api"
	"github.com/unilogin/unilogin/api/authcode"
	"github.com/unilogin/unilogin/providers"
	"github.com/unilogin/unilogin/session"
)

// AccountClientID is the built-in client of the hosted pages: a public
// client (PKCE) whose one redirect URI is AccountCallbackURL. The
// assembly registers it with the JSON API's clients.
const AccountClientID = "unilogin-account"

// Options configure the hosted pages. The caller (api/server) builds them
// from config.
type Options struct {
	Issuer string
	// AllPermissions lists every configured permission (an app's scope
	// is checked against them).
	AllPermissions []string
	// LinkByEmail is the linking policy for provider sign-ins.
	LinkByEmail bool
	// Branding styles the pages (docs/hosted-ui.md): config's Effective
	// branding, put into HTML and CSS as it is.
	Branding Branding
	// SecureCookies sets the Secure attribute on every cookie (an https
	// issuer: config.SecureCookies).
	SecureCookies bool
	// CallbackURL is the redirect URI of a provider's sign-ins, the one
	// registered there (config.CallbackURL).
	CallbackURL func(providerID string) string
	// MFAForProviders asks for the second factor after a provider sign-in
	// too (config mfa.apply_to_providers).
	MFAForProviders bool
}

// Deps are the services the pages call, and the JSON API whose clients,
// limiter, metrics and audit log they share.
type Deps struct {
	API *api.Server
	// Codes issues the browser flow's authorization codes and redeems the
	// account page's (the Service POST /token redeems them with).
	Codes     *authcode.Service
	Accounts  *accounts.Service
	Sessions  *session.Manager
	Providers *providers.Registry // may be nil: no providers
	// Recovery is the e-mail flows (recovery.go); nil: no such pages.
	Recovery *accounts.Recovery
	// MFA is the second factors and passkeys; nil: the pages offer none
	// and no sign-in asks for one.
	MFA *mfa.Service
}

// Server serves the hosted pages and the browser flow.
type Server struct {
	opts     Options
	api      *api.Server
	accounts *accounts.Service
	sessions *session.Manager
	codes    *authcode.Service
	provs    *providers.Registry
	flow     *api.FlowCodec
	metrics  *api.Metrics
	pages    *pages
	recovery *accounts.Recovery
	mfa      *mfa.Service // nil: no second factors
}

// New prepares the pages (templates parsed once per locale); Routes
// mounts them.
func New(deps Deps, opts Options) (*Server, error) {
	pg, err := newPages(opts.Issuer, opts.Branding)
	if err != nil {
		return nil, err
	}
	reg := deps.Providers
	if reg == nil {
		if reg, err = providers.NewRegistry(); err != nil {
			return nil, err
		}
	}
	return &Server{opts: opts, api: deps.API, accounts: deps.Accounts, sessions: deps.Sessions, codes: deps.Codes, provs: reg,
		flow: deps.API.Flow(), metrics: deps.API.Metrics(), pages: pg, mfa: deps.MFA, recovery: deps.Recovery}, nil
}

func (s *Server) now() time.Time { return s.api.Now() }

// log returns the logger with the request id.
func (s *Server) log(c *gin.Context) *slog.Logger { return s.api.Log(c) }
