package openapi

import (
	_ "embed"
	"net/http"
)

//go:embed openapi.json
var document []byte

// Document returns the OpenAPI 3.1 document (JSON). The caller must not
// modify it.
func Document() []byte { return document }

// Handler serves the document as application/json (GET /openapi.json).
// It may be cached like the other published documents.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "public, max-age=3600")
		h.Del("Pragma")
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			w.Write(document)
		}
	})
}
