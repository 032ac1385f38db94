package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/unilogin/unilogin/api/apitest"
	"golang.org/x/oauth2"
)

// TestMFAWithXOAuth2 is the README's example: x/oauth2's password grant
// gets mfa_required, and one extra request (Exchange with the mfa grant's
// fields) gets the token pair, which x/oauth2 then refreshes as usual.
func TestMFAWithXOAuth2(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	u := enrolTOTP(e, "oa@example.com")
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, &http.Client{})
	conf := &oauth2.Config{ClientID: apitest.PublicClientID, Scopes: []string{"openid"},
		Endpoint: oauth2.Endpoint{TokenURL: e.URL + "/token", AuthStyle: oauth2.AuthStyleInParams}}

	_, err := conf.PasswordCredentialsToken(ctx, u.email, apitest.Password)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "mfa_required" {
		t.Fatalf("password grant: %v, want mfa_required", err)
	}
	var body struct {
		MFAToken string `json:"mfa_token"`
	}
	if err := json.Unmarshal(re.Body, &body); err != nil || body.MFAToken == "" {
		t.Fatalf("mfa_required body %s (%v)", re.Body, err)
	}
	tok, err := conf.Exchange(ctx, "",
		oauth2.SetAuthURLParam("grant_type", "urn:unilogin:params:oauth:grant-type:mfa"),
		oauth2.SetAuthURLParam("mfa_token", body.MFAToken),
		oauth2.SetAuthURLParam("otp", apitest.TOTPCode(t, u.Secret, e.Clock.Now())))
	if err != nil {
		t.Fatalf("mfa step: %v", err)
	}
	c, err := e.Sessions.ParseAccess(ctx, tok.AccessToken)
	if err != nil || c.ClientID != apitest.PublicClientID || !slices.Equal(c.AMR, []string{"pwd", "otp", "mfa"}) {
		t.Fatalf("access token: %+v %v", c, err)
	}
	if tok.RefreshToken == "" || tok.Expiry.IsZero() || tok.Extra("id_token") == nil {
		t.Errorf("token: %+v", tok)
	}
	// The pair is an ordinary one: x/oauth2 refreshes it.
	tok.Expiry = time.Now().Add(-time.Hour)
	fresh, err := conf.TokenSource(ctx, tok).Token()
	if err != nil || fresh.AccessToken == tok.AccessToken {
		t.Fatalf("refresh: %v", err)
	}
}
