package validate

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	valerrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/helpers"
	"github.com/pb33f/libopenapi-validator/paths"
	"github.com/pb33f/libopenapi-validator/responses"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
	"github.com/pb33f/libopenapi/orderedmap"

	"github.com/unilogin/unilogin/api/openapi"
)

// Validator checks requests and responses against the document. It is
// safe for concurrent use.
type Validator struct {
	v       validator.Validator
	model   *v3.Document
	opts    *config.ValidationOptions
	schemas schema_validation.SchemaValidator
	hosted  []string
}

// NewValidator parses the embedded document, checks it against the
// OpenAPI 3.1 meta-schema and returns a validator for it.
func NewValidator() (*Validator, error) {
	doc, err := libopenapi.NewDocument(openapi.Document())
	if err != nil {
		return nil, fmt.Errorf("openapi: parse: %w", err)
	}
	if v := doc.GetVersion(); !strings.HasPrefix(v, "3.1") {
		return nil, fmt.Errorf("openapi: document is OpenAPI %s, want 3.1", v)
	}
	m, err := doc.BuildV3Model()
	if err != nil {
		return nil, fmt.Errorf("openapi: build model: %w", err)
	}
	opts := []config.Option{config.WithURLEncodedBodyValidation(), config.WithFormatAssertions()}
	v, errs := validator.NewValidator(doc, opts...)
	if len(errs) > 0 {
		return nil, fmt.Errorf("openapi: validator: %w", errors.Join(errs...))
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		return nil, fmt.Errorf("openapi: document is not valid OpenAPI 3.1: %w", joinErrors(verrs))
	}
	var ext struct {
		Info struct {
			Hosted []string `json:"x-hosted-pages"`
		} `json:"info"`
	}
	if err := json.Unmarshal(openapi.Document(), &ext); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	return &Validator{
		v:       v,
		model:   &m.Model,
		opts:    config.NewValidationOptions(opts...),
		schemas: schema_validation.NewSchemaValidator(opts...),
		hosted:  ext.Info.Hosted,
	}, nil
}

// HostedPage reports whether path belongs to the hosted HTML pages, which
// the document leaves out (its x-hosted-pages list: an entry ending in "/"
// is a prefix, others match the path and everything below it).
func (v *Validator) HostedPage(path string) bool {
	for _, p := range v.hosted {
		if strings.HasSuffix(p, "/") {
			if strings.HasPrefix(path, p) {
				return true
			}
		} else if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

// ValidateRequest checks r (path, method, parameters, security and body)
// against the document. r's body is read; the caller restores it if it
// is still needed.
func (v *Validator) ValidateRequest(r *http.Request) error {
	if ok, errs := v.v.ValidateHttpRequestSync(r); !ok {
		return fmt.Errorf("request %s %s: %w", r.Method, r.URL.Path, joinErrors(errs))
	}
	return nil
}

// ValidateResponse checks one response to r against the document: status,
// media type, body schema and declared headers. A path the document does
// not describe must have been answered 404 not_found, a method it does not
// describe 405 with an Allow header, both with the Error body; an
// operation's response without content must have an empty body.
func (v *Validator) ValidateResponse(r *http.Request, status int, header http.Header, body []byte) error {
	res := &http.Response{
		StatusCode: status,
		Header:     header,
		Body:       http.NoBody,
		Request:    r,
	}
	if len(body) > 0 {
		res.Body = newBody(body)
	}
	fail := func(err error) error {
		return fmt.Errorf("response %d to %s %s: %w", status, r.Method, r.URL.Path, err)
	}
	if preflight(r) && status == http.StatusNoContent {
		if len(body) > 0 {
			return fail(fmt.Errorf("a CORS preflight answer has no body, got %d bytes", len(body)))
		}
		return v.fallbackHeaders(r, res, "Preflight", status, fail)
	}
	item, _, path := paths.FindPath(r, v.model, v.opts)
	switch {
	case item == nil:
		return v.fallback(r, res, body, "UnknownPath", http.StatusNotFound, fail)
	case helpers.ExtractOperation(r, item) == nil:
		return v.fallback(r, res, body, "MethodNotAllowed", http.StatusMethodNotAllowed, fail)
	}
	if ok, errs := v.v.ValidateHttpResponse(r, res); !ok {
		return fail(joinErrors(errs))
	}
	op := helpers.ExtractOperation(r, item)
	if op.Responses != nil && op.Responses.Codes != nil {
		if spec := op.Responses.Codes.GetOrZero(fmt.Sprint(status)); spec != nil && orderedmap.Len(spec.Content) == 0 && len(body) > 0 {
			return fail(fmt.Errorf("%s declares no content for %d, got %d bytes", path, status, len(body)))
		}
	}
	return nil
}

// fallback checks an answer of the router itself (unknown path, unknown
// method) against the named component response.
func (v *Validator) fallback(r *http.Request, res *http.Response, body []byte, name string, want int, fail func(error) error) error {
	if res.StatusCode != want {
		return fail(fmt.Errorf("%s %s is not in the document: want status %d (%s), got %d", r.Method, r.URL.Path, want, name, res.StatusCode))
	}
	if err := v.fallbackHeaders(r, res, name, want, fail); err != nil {
		return err
	}
	spec := v.model.Components.Responses.GetOrZero(name)
	mt, ok := helpers.FindMediaType(spec.Content, res.Header.Get("Content-Type"))
	if !ok {
		return fail(fmt.Errorf("content type %q is not the one of %s", res.Header.Get("Content-Type"), name))
	}
	if ok, errs := v.schemas.ValidateSchemaBytesWithVersion(mt.Schema.Schema(), body, 3.1); !ok {
		return fail(joinErrors(errs))
	}
	return nil
}

func joinErrors(errs []*valerrors.ValidationError) error {
	var out []error
	for _, e := range errs {
		msg := e.Message
		if e.Reason != "" && e.Reason != e.Message {
			msg += ": " + e.Reason
		}
		for _, f := range e.SchemaValidationErrors {
			msg += "; " + f.Error()
		}
		out = append(out, errors.New(msg))
	}
	if len(out) == 0 {
		return errors.New("validation failed")
	}
	return errors.Join(out...)
}

var shared = sync.OnceValues(NewValidator)

// Shared returns one Validator for the whole process, built on first use:
// building one parses and checks the document (about 0.1 s), too slow to
// repeat for every test server.
func Shared() (*Validator, error) { return shared() }

// fallbackHeaders checks res's headers against the named component response.
func (v *Validator) fallbackHeaders(r *http.Request, res *http.Response, name string, status int, fail func(error) error) error {
	spec := v.model.Components.Responses.GetOrZero(name)
	if spec == nil {
		return fail(fmt.Errorf("document has no components.responses.%s", name))
	}
	if spec.Headers == nil {
		return nil
	}
	if ok, errs := responses.ValidateResponseHeaders(r, res, spec.Headers, r.URL.Path, fmt.Sprint(status), config.WithExistingOpts(v.opts)); !ok {
		return fail(joinErrors(errs))
	}
	return nil
}

// preflight reports whether r is a CORS preflight request (Fetch
// standard): the CORS layer answers those before routing, on any path.
func preflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

// HasOperation reports whether the document describes r's path and method.
func (v *Validator) HasOperation(r *http.Request) bool {
	item, _, _ := paths.FindPath(r, v.model, v.opts)
	return item != nil && helpers.ExtractOperation(r, item) != nil
}

// Operation returns the document's path template of the operation r
// calls ("/users/me/sessions/{id}"), or ok false when there is none.
func (v *Validator) Operation(r *http.Request) (path string, ok bool) {
	item, _, p := paths.FindPath(r, v.model, v.opts)
	if item == nil || helpers.ExtractOperation(r, item) == nil {
		return "", false
	}
	return p, true
}

// Operations lists every operation of the document as "METHOD /path".
func (v *Validator) Operations() []string {
	var out []string
	for pair := v.model.Paths.PathItems.First(); pair != nil; pair = pair.Next() {
		for m := range pair.Value().GetOperations().KeysFromOldest() {
			out = append(out, strings.ToUpper(m)+" "+pair.Key())
		}
	}
	return out
}
