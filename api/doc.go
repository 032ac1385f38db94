// Package api is unilogin's JSON API (docs/http-api.md): the gin engine
// with its middleware, the token, revocation, introspection, userinfo,
// users, admin, recovery and discovery endpoints, client authentication
// and the metrics. Handlers stay thin: parse, call one service method,
// answer through api/oauth (the error vocabulary and its one classifier).
// The middleware, including the rate limiter whose decisions the JSON
// routes and the pages answer each in their format, is api/middleware.
//
// The hosted HTML pages and the browser flow are api/hosted; they use
// this package's clients, limiter, metrics and audit log (hosting.go,
// authrequest.go). The authorization codes the flow issues and POST /token
// redeems are api/authcode's, one Service given to both. api/server
// assembles the service and mounts both on the one engine. Where the contract is silent, RFC
// 6749/6750/7009/7517/8414/7636 decide.
package api
