// Package google is a providers.Provider for Google sign-in: OpenID
// Connect (package oidc) with Google's issuer as default, id and AMR
// "google", and an optional restriction to Google Workspace domains.
//
// With Config.HostedDomains set, the verified ID token's hd claim must be
// one of them (Google's advice: never trust the hd authorization
// parameter alone); otherwise Exchange fails with an error wrapping
// providers.ErrAccessDenied. With exactly one domain the authorization URL
// also carries hd=<domain>, so Google's account chooser offers only
// accounts of that domain.
package google
