// Package github is a providers.Provider for GitHub and GitHub Enterprise
// Server: the OAuth 2.0 web application flow (RFC 6749 §4.1 with PKCE
// S256, RFC 7636) through golang.org/x/oauth2, then GET /user for the
// numeric id, name and avatar, and GET /user/emails for the address that
// is both primary and verified.
//
// The Identity's Subject is GitHub's numeric user id in decimal, never the
// login name (logins can be renamed and reused). A user without a primary
// verified address gets Email "" and EmailVerified false; that is not an
// error.
//
// Errors: token endpoint errors (which GitHub answers with status 200 and
// an error field) are *providers.UpstreamError, e.g. bad_verification_code;
// 5xx answers, rate limiting, timeouts and network failures wrap
// providers.ErrUnavailable; other 4xx answers of the API are
// *providers.UpstreamError with Code "http_<status>".
package github
