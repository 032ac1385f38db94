package verifier_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/unilogin/unilogin/session/verifier"
)

// An app protecting its API with unilogin access tokens.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Build once at start-up: this discovers and fetches the issuer's JWKS,
	// and fails when the issuer cannot be reached (see WithLazyStart).
	v, err := verifier.New(ctx, "https://login.example.com", "https://api.example.com",
		verifier.WithAlgorithms("ES256"), // what the server signs with
	)
	if err != nil {
		log.Fatal(err)
	}

	me := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := verifier.ClaimsFromContext(r.Context())
		fmt.Fprintf(w, "hello %s (%s)\n", c.Subject, c.Email)
	})
	admin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "admin area")
	})

	mux := http.NewServeMux()
	mux.Handle("GET /api/me", v.Middleware(me))
	mux.Handle("GET /api/admin/", v.Middleware(verifier.RequirePermission("users:admin")(admin)))
	log.Fatal(http.ListenAndServe(":8081", mux))
}

// Verifying a token outside HTTP, e.g. from a message queue.
func ExampleVerifier_Verify() {
	v, err := verifier.New(context.Background(), "https://login.example.com", "https://api.example.com")
	if err != nil {
		log.Fatal(err)
	}
	var token string // from the message
	c, err := v.Verify(context.Background(), token)
	switch {
	case errors.Is(err, verifier.ErrExpired):
		fmt.Println("token expired: ask for a fresh one")
	case errors.Is(err, verifier.ErrInvalidToken):
		fmt.Println("rejected:", err)
	case err != nil:
		fmt.Println("cannot verify now:", err) // ErrJWKSUnavailable: retry later
	default:
		fmt.Println("user", c.Subject, "roles", c.Roles)
	}
}
