// Command example-api is a tiny protected API showing how an app accepts
// unilogin's access tokens: it verifies them offline against the issuer's
// JWKS with session/verifier and its net/http middleware.
//
//	go run ./cmd/example-api --issuer http://localhost:8080 --addr :9090
//	curl -H "Authorization: Bearer $ACCESS_TOKEN" localhost:9090/hello
//
// Routes: GET /hello (any valid token), GET /admin (permission users:admin).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/unilogin/unilogin/session/verifier"
)

func main() {
	issuer := flag.String("issuer", envOr("UNILOGIN_ISSUER", "http://localhost:8080"), "unilogin issuer URL")
	audience := flag.String("audience", "", "expected aud (default: the issuer)")
	addr := flag.String("addr", ":9090", "listen address")
	flag.Parse()
	if *audience == "" {
		*audience = *issuer
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	v, err := verifier.New(ctx, *issuer, *audience, verifier.WithLazyStart())
	if err != nil {
		log.Fatalf("example-api: %v", err)
	}
	log.Printf("example-api: listening on %s, accepting tokens of %s", *addr, *issuer)
	srv := &http.Server{Addr: *addr, Handler: newHandler(v), ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

// newHandler wires the routes: every route needs a valid token; /admin
// also needs the users:admin permission.
func newHandler(v *verifier.Verifier) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /hello", v.Middleware(http.HandlerFunc(hello)))
	mux.Handle("GET /admin", v.Middleware(verifier.RequirePermission("users:admin")(http.HandlerFunc(admin))))
	return mux
}

func hello(w http.ResponseWriter, r *http.Request) {
	c, _ := verifier.ClaimsFromContext(r.Context())
	writeJSON(w, map[string]any{
		"message": fmt.Sprintf("hello %s", name(c)), "sub": c.Subject, "roles": c.Roles,
		"permissions": c.Permissions, "amr": c.AMR,
	})
}

func admin(w http.ResponseWriter, r *http.Request) {
	c, _ := verifier.ClaimsFromContext(r.Context())
	writeJSON(w, map[string]any{"message": "welcome, administrator", "sub": c.Subject})
}

func name(c *verifier.Claims) string {
	if c.Email != "" {
		return c.Email
	}
	return c.Subject
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
