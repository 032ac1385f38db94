package github

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/unilogin/unilogin/providers"
)

func TestGetClassifiesAnswers(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		check   func(error) bool
	}{
		{"rate limited 403", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("X-RateLimit-Remaining", "0")
			http.Error(w, `{"message":"API rate limit exceeded"}`, http.StatusForbidden)
		}, func(err error) bool { return errors.Is(err, providers.ErrUnavailable) }},
		{"plain 403", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, `{"message":"Resource not accessible"}`, http.StatusForbidden)
		}, func(err error) bool {
			var ue *providers.UpstreamError
			return errors.As(err, &ue) && ue.Code == "http_403" && ue.Description == "Resource not accessible"
		}},
		{"body over 1 MiB", func(w http.ResponseWriter, _ *http.Request) {
			w.Write([]byte(`{"login":"` + strings.Repeat("a", maxBody) + `"}`))
		}, func(err error) bool { return errors.Is(err, providers.ErrUnavailable) }},
		{"not JSON", func(w http.ResponseWriter, _ *http.Request) {
			w.Write([]byte(`<html>`))
		}, func(err error) bool { return errors.Is(err, providers.ErrUnavailable) }},
		{"headers sent", func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get("Accept") != "application/vnd.github+json" ||
				r.Header.Get("X-GitHub-Api-Version") == "" || r.Header.Get("User-Agent") == "" {
				http.Error(w, `{"message":"bad headers"}`, http.StatusBadRequest)
				return
			}
			w.Write([]byte(`{"id":1}`))
		}, func(err error) bool { return err == nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			p, err := New(Config{ClientID: "id", ClientSecret: "s", BaseURL: srv.URL, APIURL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			var v struct {
				ID int64 `json:"id"`
			}
			if err := p.get(t.Context(), "tok", "/user", &v); !tc.check(err) {
				t.Fatalf("get: unexpected error %v", err)
			}
		})
	}
}
