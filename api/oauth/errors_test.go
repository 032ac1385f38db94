package oauth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/api/oauth"
	"github.com/unilogin/unilogin/providers"
)

func TestOutcome(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{oauth.BadRequest("x"), oauth.OutcomeFailure},
		{accounts.ErrInvalidCredentials, oauth.OutcomeFailure},
		{&oauth.Error{Status: http.StatusTooManyRequests, Code: oauth.CodeRateLimited, Description: "slow down"}, oauth.OutcomeRateLimited},
		{oauth.ErrRateLimited, oauth.OutcomeRateLimited},
		{oauth.ErrUnavailable, oauth.OutcomeError},
		{accounts.ErrOverloaded, oauth.OutcomeError},
		{http.ErrHandlerTimeout, oauth.OutcomeError},
		{&http.MaxBytesError{Limit: 1}, oauth.OutcomeFailure},
	} {
		if got := oauth.Classify(tc.err).Outcome(); got != tc.want {
			t.Errorf("Classify(%v).Outcome() = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// The browser flow's redirect codes and the provider outcomes come from
// the same decision as the JSON answers.
func TestClassifyRedirectAndProvider(t *testing.T) {
	for _, tc := range []struct {
		err                error
		status             int
		redirect, provider string
	}{
		{fmt.Errorf("link: %w", accounts.ErrAccountExists), http.StatusConflict, oauth.CodeAccountExists, "error"},
		{accounts.ErrIdentityLinked, http.StatusConflict, oauth.CodeIdentityLinked, "error"},
		{accounts.ErrDisabled, http.StatusUnauthorized, oauth.CodeAccessDenied, "rejected"},
		{accounts.ErrNotFound, http.StatusNotFound, oauth.CodeAccessDenied, "rejected"},
		{providers.ErrAccessDenied, http.StatusBadRequest, oauth.CodeAccessDenied, "rejected"},
		{providers.ErrInvalidIDToken, http.StatusBadRequest, oauth.CodeAccessDenied, "rejected"},
		{providers.NewUpstreamError("invalid_scope", ""), http.StatusBadRequest, oauth.CodeAccessDenied, "rejected"},
		// ErrUnavailable wrapping an upstream error is unavailable.
		{providers.FromCallbackError("temporarily_unavailable", ""), http.StatusServiceUnavailable, oauth.CodeUnavailable, "unavailable"},
		{context.DeadlineExceeded, http.StatusServiceUnavailable, oauth.CodeUnavailable, "unavailable"},
		{oauth.BadRequest("no code"), http.StatusBadRequest, oauth.CodeInvalidRequest, "error"},
		{errors.New("bug"), http.StatusInternalServerError, oauth.CodeServerError, "error"},
	} {
		cl := oauth.Classify(tc.err)
		if cl.Status != tc.status || cl.Redirect != tc.redirect || cl.ProviderOutcome() != tc.provider {
			t.Errorf("Classify(%v) = status %d, redirect %q, provider %q; want %d, %q, %q",
				tc.err, cl.Status, cl.Redirect, cl.ProviderOutcome(), tc.status, tc.redirect, tc.provider)
		}
		if cl.Internal() && cl.Description == tc.err.Error() {
			t.Errorf("Classify(%v) shows the internal cause", tc.err)
		}
	}
}

func TestGrantError(t *testing.T) {
	for err, want := range map[error]string{
		accounts.ErrNotFound:       "the user no longer exists or is disabled",
		accounts.ErrDisabled:       "the user no longer exists or is disabled",
		accounts.ErrAccountExists:  "the user already has an identity at this provider",
		accounts.ErrIdentityLinked: "the identity was linked to another user meanwhile",
	} {
		cl := oauth.Classify(oauth.GrantError(err))
		if cl.Code != oauth.CodeInvalidGrant || cl.Description != want {
			t.Errorf("GrantError(%v) = %s %q, want invalid_grant %q", err, cl.Code, cl.Description, want)
		}
	}
	other := errors.New("db down")
	if got := oauth.GrantError(other); got != other {
		t.Errorf("GrantError(other) = %v, want the error itself", got)
	}
}
