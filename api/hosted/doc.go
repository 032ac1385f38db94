// Package hosted serves unilogin's own HTML: the sign-in, sign-up,
// signed-out and account pages with their templates and stylesheet
// (docs/hosted-ui.md), and the browser flow behind them: the RFC 6749
// authorization endpoint (/authorize), the provider sign-in and its
// callback (/auth/{provider}/login, /auth/{provider}/callback), link
// flows, re-authentication on the account page, the page session and CSRF
// cookies and the sealed flow cookies.
//
// The JSON API (package api) owns the clients, the limiter and the
// metrics; the pages use them through the api.Server they are given, and
// issue and redeem authorization codes through the authcode.Service POST
// /token redeems them with, so a browser sign-in is limited, counted,
// audited and redeemed like an API one. api/server mounts both on one gin
// engine behind the same middleware. Every user-visible text of a
// template goes through the template function `t` (the English text is
// the message key, translated by accounts/i18n); the templates are parsed
// once per language, and each request is rendered in the one negotiate
// picks (locale.go: ui_locales, then Accept-Language). Handlers give their
// fixed texts in English, marked with i18n.M or formatted with
// s.locale(c).T; render translates a page's title, errors and notice.
package hosted
