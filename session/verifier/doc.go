// Package verifier lets an app check unilogin access tokens offline: JWTs
// per RFC 9068 (header typ "at+jwt", kid set; ES256 by default, RS256 or
// EdDSA when the server is configured so), verified against the issuer's
// JWKS, which it discovers through RFC 8414 metadata and caches as the
// JWKS response's Cache-Control allows.
//
// It owns verification only: it imports nothing else of unilogin, no
// database driver and no router, so an app pays for none of them. The gin
// middleware lives in the subpackage ginverifier.
//
// What it guarantees, and what stays the caller's duty:
//   - The algorithm list is pinned (WithAlgorithms, default ES256); HS*,
//     "none" and any alg not listed are rejected before a key is used, and a
//     key is used only for the alg its type, curve and JWK "alg" fit.
//   - iss, aud, exp, iat and nbf are checked with a leeway (default 30 s).
//   - A token is NOT checked against the session store: a logged-out or
//     revoked session's tokens stay valid here until exp (15 min by
//     default). Endpoints that must see logouts at once should ask unilogin.
//   - Roles and permissions are read from the token; deciding what they
//     allow is the app's job (RequireRole, RequirePermission help).
//
// Usage:
//
//	v, err := verifier.New(ctx, "https://login.example.com", "https://login.example.com")
//	if err != nil {
//		log.Fatal(err) // issuer unreachable, or misconfigured
//	}
//	mux := http.NewServeMux()
//	mux.Handle("/api/", v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//		c, _ := verifier.ClaimsFromContext(r.Context())
//		fmt.Fprintf(w, "hello %s", c.Subject)
//	})))
//	mux.Handle("/admin/", v.Middleware(verifier.RequirePermission("users:admin")(adminHandler)))
//
// Failures answer as RFC 6750 §3 says: 401 invalid_token (with a bare
// "WWW-Authenticate: Bearer" when no token was sent), 403
// insufficient_scope, and 503 temporarily_unavailable when no signing key
// could ever be fetched.
//
// Keys: an unknown kid triggers one JWKS refetch, at most once per
// WithMinRefetchInterval (default 30 s) whatever the traffic; when the JWKS
// endpoint fails, the cached keys stay in use.
package verifier
