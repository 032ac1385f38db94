package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/unilogin/unilogin/api/server/servertest"
)

// The tests' HTTP calls to a running server; a transport error or an
// unexpected status fails the test.

// get returns the body of GET u.
func get(t *testing.T, u string) string {
	t.Helper()
	_, body := servertest.Get(t, u, "")
	return body
}

// getJSON is GET u with the bearer token, which must answer 200 with a
// JSON object.
func getJSON(t *testing.T, u, token string) map[string]any {
	t.Helper()
	status, body := servertest.Get(t, u, token)
	return okJSON(t, "GET "+u, status, body)
}

// postForm posts the form v to u, which must answer 200 with a JSON object.
func postForm(t *testing.T, u string, v url.Values) map[string]any {
	t.Helper()
	status, body := servertest.Do(t, form(u, v)) // fault_test.go
	return okJSON(t, "POST "+u, status, body)
}

// mustSignup creates the user email with the password "correct horse
// battery" (POST /signup: 201).
func mustSignup(t *testing.T, base, email string) {
	t.Helper()
	status, body := servertest.Do(t, jsonPost(base+"/signup", `{"email":"`+email+`","password":"correct horse battery"}`))
	if status != http.StatusCreated {
		t.Fatalf("signup %s: %d %s", email, status, body)
	}
}

func okJSON(t *testing.T, what string, status int, body string) map[string]any {
	t.Helper()
	if status != http.StatusOK {
		t.Fatalf("%s: %d %s", what, status, body)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("%s: %v in %s", what, err, body)
	}
	return m
}
