// Package openapi holds the OpenAPI 3.1 description of unilogin's JSON API
// (openapi.json, embedded and served as is at /openapi.json).
//
// The document covers the JSON and OAuth 2.0 endpoints; the hosted HTML
// pages are listed in its x-hosted-pages extension and left out.
// docs/http-api.md is the reference in prose.
//
// The validator that checks real HTTP exchanges against the document is
// in package validate below this one, so that the server binary, which
// only serves the document, does not link the OpenAPI libraries.
package openapi
