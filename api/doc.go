// Package api is unilogin's HTTP layer: the gin router and its handlers,
// the JSON API (docs/http-api.md) and the hosted sign-in, sign-up and
// account pages with their templates and stylesheet (docs/hosted-ui.md),
// client authentication, the browser flow cookie, the metrics and the rate
// limiter, whose checks return a decision that the JSON routes and the
// pages answer each in their format. Handlers stay thin: parse, call one
// service method, answer through api/oauth (the error vocabulary and its
// one classifier); the middleware is api/middleware, and api/server
// assembles the whole service. Where the contract is silent, RFC
// 6749/6750/7009/7517/8414/7636 decide.
package api
