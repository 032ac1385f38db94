// Package interop holds only tests: they check that unilogin's browser
// sign-in works end to end against a real OpenID Connect server that is not
// ours. The tests start the example OpenID Provider of
// github.com/zitadel/oidc (in-memory storage, username/password login page)
// on a loopback listener, assemble unilogin from nothing but a YAML
// configuration file, the way the unilogin binary does, and drive the whole
// redirect dance with a cookie-carrying HTTP client, one hop at a time.
//
// The other direction, unilogin as the OpenID Provider of a stock relying
// party: TestNodeOpenIDClient runs openid-client 6 (node, pinned in
// testdata/openid-client/package-lock.json; the test runs `npm ci` there
// when node_modules is missing, so it needs Node.js and, the first time,
// the npm registry) through the hosted sign-in pages.
package interop
