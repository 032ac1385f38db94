// Package openapi holds the OpenAPI 3.1 description of unilogin's JSON API
// (openapi.json, embedded and served as is at /openapi.json) and a
// validator that checks real HTTP exchanges against it.
//
// The document covers the JSON and OAuth 2.0 endpoints; the hosted HTML
// pages are listed in its x-hosted-pages extension and left out.
// docs/http-api.md is the reference in prose.
//
// The validator is built on github.com/pb33f/libopenapi and
// github.com/pb33f/libopenapi-validator, which implement OpenAPI 3.1 and
// its JSON Schema 2020-12 dialect. Tests wrap the API's handler with
// Validator.Middleware so that every response (and every request that the
// server accepted) is checked against the document: the document cannot
// drift from the code without a test failing.
package openapi
