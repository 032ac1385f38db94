// Package authcode is the hand-over of a browser sign-in to the token
// endpoint (RFC 6749 §4.1): the hosted browser flow (api/hosted) issues a
// one-time authorization code for the signed-in user, and POST /token
// (package api) or the hosted account page's own callback redeems it.
//
// The session layer owns the code itself (session.Manager.IssueCode and
// RedeemCode: the random, tagged code stored only as its hash; client,
// redirect_uri and PKCE checks; one-time use by an atomic consume on
// every backend; expiry; replay detection). This package owns what rides
// with it: when the user authenticated, the app's scope and nonce, the
// browser's user agent and, for a link flow, the identity to link. Its
// Redeem commits that link, starts the session and records the audit
// events, so both redeemers do exactly the same. The assembly (api/server)
// builds the one Service and gives it to both packages.
package authcode
