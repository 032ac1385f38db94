package providers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"unicode"

	"golang.org/x/oauth2"
)

var (
	// ErrAccessDenied: the user or the upstream refused the login
	// (error=access_denied on the callback, RFC 6749 §4.1.2.1), or a
	// provider's policy rejected the identity (e.g. Google hosted domain).
	ErrAccessDenied = errors.New("providers: access denied")
	// ErrInvalidIDToken: the ID token failed verification (signature, iss,
	// aud, exp, nonce, or a missing sub), OpenID Connect Core §3.1.3.7.
	ErrInvalidIDToken = errors.New("providers: invalid ID token")
	// ErrUnavailable: the upstream could not be reached or did not give a
	// usable answer (network error, timeout, 5xx, malformed response).
	ErrUnavailable = errors.New("providers: upstream unavailable")
)

// UpstreamError is an OAuth 2.0 error answered by the upstream (RFC 6749
// §5.2 from the token endpoint, §4.1.2.1 on the callback), or a 4xx from a
// provider API. Code and Description come from the upstream: log them, do
// not show them to users verbatim.
type UpstreamError struct {
	Code        string
	Description string
}

func (e *UpstreamError) Error() string {
	if e.Description == "" {
		return "providers: upstream error " + e.Code
	}
	return "providers: upstream error " + e.Code + ": " + e.Description
}

// maxUpstreamText bounds the upstream-controlled text kept in errors.
const maxUpstreamText = 256

// NewUpstreamError returns an *UpstreamError with code and description
// trimmed to 256 bytes and stripped of control characters (they end up in
// logs).
func NewUpstreamError(code, description string) *UpstreamError {
	return &UpstreamError{Code: clean(code), Description: clean(description)}
}

func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	if len(s) > maxUpstreamText {
		s = strings.ToValidUTF8(s[:maxUpstreamText], "")
	}
	return s
}

// FromCallbackError turns the error and error_description query parameters
// of our callback (RFC 6749 §4.1.2.1) into an error:
//   - "" gives nil, so callers can write
//     if err := FromCallbackError(q.Get("error"), q.Get("error_description")); err != nil {...}
//   - access_denied gives an error wrapping ErrAccessDenied;
//   - temporarily_unavailable and server_error give an error wrapping both
//     ErrUnavailable and an *UpstreamError;
//   - anything else gives an *UpstreamError.
func FromCallbackError(code, description string) error {
	if code == "" {
		return nil
	}
	ue := NewUpstreamError(code, description)
	switch code {
	case "access_denied":
		return fmt.Errorf("%w (%s)", ErrAccessDenied, ue.Description)
	case "temporarily_unavailable", "server_error":
		return fmt.Errorf("%w: %w", ErrUnavailable, ue)
	}
	return ue
}

// ClassifyTokenError classifies an error from golang.org/x/oauth2's
// Config.Exchange for implementations of Provider:
//   - a *oauth2.RetrieveError with a 5xx status, or with the codes
//     temporarily_unavailable or server_error, wraps ErrUnavailable;
//   - a *oauth2.RetrieveError with an OAuth error code (RFC 6749 §5.2, also
//     GitHub's 200 responses with an error field) becomes an *UpstreamError;
//   - anything else (network errors, timeouts, cancellation, non-OAuth
//     answers, a response without access_token) wraps ErrUnavailable.
//
// The original error stays in the chain, so errors.Is(err,
// context.DeadlineExceeded) keeps working. nil stays nil.
func ClassifyTokenError(err error) error {
	if err == nil {
		return nil
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		switch {
		case status >= 500, re.ErrorCode == "temporarily_unavailable", re.ErrorCode == "server_error":
			return fmt.Errorf("%w: token endpoint: %w", ErrUnavailable, err)
		case re.ErrorCode != "":
			return NewUpstreamError(re.ErrorCode, re.ErrorDescription)
		}
		return fmt.Errorf("%w: token endpoint answered %s without an OAuth error", ErrUnavailable, statusText(status))
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// IsTransport reports whether err comes from the network or from the
// context rather than from an answer of the upstream: a context deadline or
// cancellation, a *url.Error, a net.Error, or an error wrapping
// ErrUnavailable.
func IsTransport(err error) bool {
	if errors.Is(err, ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	var ue *url.Error
	var ne net.Error
	return errors.As(err, &ue) || errors.As(err, &ne)
}

func statusText(code int) string {
	return fmt.Sprintf("%d %s", code, http.StatusText(code))
}
