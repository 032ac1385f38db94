// Package api is unilogin's HTTP layer: the gin router and its handlers,
// the JSON API (docs/http-api.md) and the hosted sign-in, sign-up and
// account pages with their templates and stylesheet (docs/hosted-ui.md),
// client authentication, the browser flow cookie and the metrics. Handlers
// stay thin: parse, call one service method, answer through api/oauth (the
// error vocabulary and its one classifier). The middleware, including the
// rate limiter whose decisions the JSON routes and the pages answer each
// in their format, is api/middleware; api/server assembles the service. Where the contract is silent, RFC
// 6749/6750/7009/7517/8414/7636 decide.
package api
