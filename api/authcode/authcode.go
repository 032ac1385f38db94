package authcode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/api/oauth"
	"github.com/unilogin/unilogin/session"
)

// Service issues and redeems authorization codes.
type Service struct {
	sessions *session.Manager
	accounts *accounts.Service
	audit    *accounts.Admin
}

// New returns the Service over the session manager (the codes and the
// sessions they start), the accounts (a link flow's link) and the audit
// log (admin).
func New(sessions *session.Manager, acc *accounts.Service, admin *accounts.Admin) *Service {
	return &Service{sessions: sessions, accounts: acc, audit: admin}
}

// Grant is what a code stands for: a user signed in to an app by the
// browser flow.
type Grant struct {
	// ClientID and RedirectURI are the app's authorization request's,
	// checked already; the redemption must name the same.
	ClientID, RedirectURI string
	// Challenge and ChallengeMethod are the app's RFC 7636 challenge
	// (empty: none was sent), checked already.
	Challenge, ChallengeMethod string
	UserID                     string
	AMR                        []string
	// AuthTime is when the user authenticated: the session's auth_time.
	AuthTime time.Time
	// Scope and Nonce are the app's requested scope and its nonce (for
	// the ID token).
	Scope, Nonce string
	// UserAgent is the browser's (api.CoarseUserAgent): the session is
	// labelled by it, not by the app backend that redeems the code.
	UserAgent string
	// Link, in a link flow, is the identity to link to UserID when the
	// app redeems the code with its verifier (checked already with
	// accounts.CheckLink; committed by Redeem).
	Link *accounts.ExternalIdentity
}

// payload is the part of a Grant the session layer stores opaquely with
// the code (session.CodeRequest.Payload). Its JSON is what instances of
// every version write and read: the field names never change.
type payload struct {
	Link      *accounts.ExternalIdentity `json:"link,omitempty"`
	AuthTime  int64                      `json:"at,omitempty"` // unix seconds
	Scope     string                     `json:"sc,omitempty"`
	Nonce     string                     `json:"n,omitempty"`
	UserAgent string                     `json:"ua,omitempty"`
}

// Issue stores a one-time code for g (valid for session.Options.CodeTTL)
// and returns it, for the app's redirect_uri.
func (s *Service) Issue(ctx context.Context, g Grant) (string, error) {
	p := payload{Link: g.Link, Scope: g.Scope, Nonce: g.Nonce, UserAgent: g.UserAgent}
	if !g.AuthTime.IsZero() {
		p.AuthTime = g.AuthTime.Unix()
	}
	b, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("authcode: encode: %w", err)
	}
	return s.sessions.IssueCode(ctx, session.CodeRequest{
		ClientID: g.ClientID, RedirectURI: g.RedirectURI, CodeChallenge: g.Challenge, CodeChallengeMethod: g.ChallengeMethod,
		UserID: g.UserID, AMR: g.AMR, Payload: b,
	})
}

// Redemption is one request to redeem a code (RFC 6749 §4.1.3).
type Redemption struct {
	// Code, RedirectURI and Verifier (RFC 7636 §4.5) are the request's;
	// ClientID is the authenticated client's.
	Code, ClientID, RedirectURI, Verifier string
	// ClientIP is the caller's address, for the audit events.
	ClientIP string
	// UserAgent labels the session when the code carries no browser's.
	UserAgent string
	// Log is the request's logger (with its id): a replay and an audit
	// event that could not be recorded are logged there.
	Log *slog.Logger
}

// Redeem consumes the code (session.Manager.RedeemCode: every check, one
// use), commits a link flow's identity, and starts the session, whose
// subject loadSubject reads (a deleted or disabled user fails). A link
// that can no longer be committed is invalid_grant (oauth.GrantError); a
// code presented again ends the session its first redemption started
// (recorded in the audit log) and fails like any invalid code.
func (s *Service) Redeem(ctx context.Context, r Redemption, loadSubject session.SubjectLoader) (*session.Pair, error) {
	ac, err := s.sessions.RedeemCode(ctx, r.Code, r.ClientID, r.RedirectURI, r.Verifier)
	var replay *session.CodeReplayError
	if errors.As(err, &replay) && replay.SessionID != "" {
		r.Log.Warn("authorization code replayed; its session revoked", "session_id", replay.SessionID)
		s.record(ctx, r, "", accounts.ActionSessionRevoke, replay.UserID, map[string]string{"session_id": replay.SessionID, "via": "code_replay"})
	}
	if err != nil {
		return nil, err
	}
	var p payload
	if len(ac.Payload) > 0 {
		if err := json.Unmarshal(ac.Payload, &p); err != nil {
			return nil, fmt.Errorf("authcode: decode: %w", err)
		}
	}
	if p.Link != nil {
		if err := s.accounts.Link(ctx, ac.UserID, *p.Link); err != nil {
			return nil, oauth.GrantError(err)
		}
		s.record(ctx, r, ac.UserID, accounts.ActionIdentityLink, ac.UserID, map[string]string{"provider": p.Link.Provider, "subject": p.Link.Subject})
	}
	sub, err := loadSubject(ctx, ac.UserID)
	if err != nil {
		return nil, err
	}
	var authTime time.Time
	if p.AuthTime > 0 {
		authTime = time.Unix(p.AuthTime, 0)
	}
	ua := p.UserAgent
	if ua == "" {
		ua = r.UserAgent
	}
	pair, err := s.sessions.Start(ctx, session.Grant{
		Subject: sub, ClientID: r.ClientID, AMR: ac.AMR, UserAgent: ua,
		AuthTime: authTime, Code: r.Code, Scope: p.Scope, Nonce: p.Nonce,
	})
	if err == nil {
		s.record(ctx, r, ac.UserID, accounts.ActionSignIn, ac.UserID, map[string]string{"method": strings.Join(ac.AMR, " "), "client_id": r.ClientID, "session_id": pair.SessionID})
	}
	return pair, err
}

// record puts one event in the audit log; a failure is logged, not
// fatal: what it records has happened.
func (s *Service) record(ctx context.Context, r Redemption, actorID, action, target string, details map[string]string) {
	if err := s.audit.Record(ctx, accounts.Actor{ID: actorID, IP: r.ClientIP}, action, target, details); err != nil {
		r.Log.Warn("audit log", "action", action, "error", err.Error())
	}
}
