// Package validate checks real HTTP exchanges against the OpenAPI 3.1
// document of package openapi.
//
// It is built on github.com/pb33f/libopenapi and
// github.com/pb33f/libopenapi-validator, which implement OpenAPI 3.1 and
// its JSON Schema 2020-12 dialect. Tests wrap the API's handler with
// Validator.Middleware so that every response (and every request that the
// server accepted) is checked against the document: the document cannot
// drift from the code without a test failing. Only tests import it: the
// server binary stays without those libraries.
package validate
