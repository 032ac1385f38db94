// Package oauth is the OAuth 2.0 / OpenID Connect vocabulary of the HTTP
// layer: the error codes of RFC 6749 §5.2 and RFC 6750 §3.1 plus
// unilogin's own (docs/http-api.md, Errors), the Error a handler returns
// for bad input, and Classify, the one decision of what a domain error
// means at the HTTP edge (status, code, safe description, the code a
// browser flow redirects with, the login outcome the metrics count).
// The JSON error writer (Respond), the hosted pages and the metrics all
// ask Classify; nothing else maps errors to statuses.
package oauth
