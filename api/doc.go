// Package api is unilogin's HTTP layer: the gin router, its handlers, the
// one table that maps domain errors to HTTP statuses and OAuth error codes,
// client authentication, and the browser flow cookie. Handlers stay thin:
// parse, call one domain method, map the result. The contract they follow is
// docs/http-api.md; where it is silent, RFC 6749/6750/7009/7517/8414/7636.
package api
