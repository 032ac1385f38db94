// Package middleware is the gin middleware every request passes: the
// request id, the client address the hashing gate shares by, the access
// log, panic recovery, the security headers (HSTS included), CORS, the
// request-body limit and the request-duration histogram; and the rate
// Limiter, whose checks return a decision for the caller to answer in its
// format. Each is configured by its constructor; none writes anything but
// headers and, when it refuses a request, an error in the OAuth format
// (api/oauth).
package middleware
