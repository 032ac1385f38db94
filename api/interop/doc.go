// Package interop holds only tests: they check that unilogin's browser
// sign-in works end to end against a real OpenID Connect server that is not
// ours. The tests start the example OpenID Provider of
// github.com/zitadel/oidc (in-memory storage, username/password login page)
// on a loopback listener, assemble unilogin from nothing but a YAML
// configuration file, the way the unilogin binary does, and drive the whole
// redirect dance with a cookie-carrying HTTP client, one hop at a time.
package interop
