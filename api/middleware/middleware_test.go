package middleware_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/api/middleware"
	"github.com/unilogin/unilogin/api/prom"
)

// engine is the chain of api.New in front of three routes: /items/:id
// answers 200 (and adds a Vary header), /cached is Cacheable, /echo reads
// its body.
func engine(log *slog.Logger, h *prom.HistogramVec) *gin.Engine {
	gin.SetMode(gin.TestMode)
	e := gin.New()
	e.Use(middleware.RequestID, middleware.ClientAddress, middleware.Locale, middleware.ObserveHTTP(h),
		middleware.Recover(log), middleware.AccessLog(log), middleware.SecurityHeaders, middleware.LimitBody(16))
	e.GET("/items/:id", func(c *gin.Context) {
		c.Writer.Header().Add("Vary", "Origin")
		c.String(http.StatusOK, "ok")
	})
	e.GET("/cached", func(c *gin.Context) {
		middleware.Cacheable(c, 0)
		c.String(http.StatusOK, "ok")
	})
	e.POST("/echo", func(c *gin.Context) {
		var b bytes.Buffer
		if _, err := b.ReadFrom(c.Request.Body); err != nil {
			c.String(http.StatusRequestEntityTooLarge, "too large")
			return
		}
		c.String(http.StatusOK, b.String())
	})
	return e
}

func newHistogram() *prom.HistogramVec {
	return prom.NewHistogramVec(prom.HistogramOpts{Name: "test_http_request_duration_seconds", Buckets: []float64{.01, 1}}, []string{"method", "route", "code"})
}

func serve(e *gin.Engine, method, target, body string, header http.Header) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if body == "" {
		r.Body = http.NoBody
	}
	for k, v := range header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	return w
}

// The access log writes one line per request with the request id first,
// then method, route pattern (never the path), status, duration and
// client address; nothing below its level.
func TestAccessLogLine(t *testing.T) {
	var buf bytes.Buffer
	e := engine(slog.New(slog.NewJSONHandler(&buf, nil)), newHistogram())
	w := serve(e, http.MethodGet, "/items/secret-code?code=abc", "", nil)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	line := strings.TrimSpace(buf.String())
	if strings.Count(line, "\n") != 0 || strings.Contains(line, "secret-code") || strings.Contains(line, "abc") {
		t.Fatalf("want one line without the path or query: %s", line)
	}
	dec := json.NewDecoder(strings.NewReader(line))
	var keys []string
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		m[k.(string)] = v
	}
	want := []string{"time", "level", "msg", "request_id", "method", "route", "status", "duration_ms", "client_ip"}
	if !slices.Equal(keys, want) {
		t.Fatalf("fields %v, want %v", keys, want)
	}
	if m["msg"] != "request" || m["request_id"] != w.Header().Get("X-Request-ID") || m["method"] != "GET" ||
		m["route"] != "/items/:id" || m["status"] != float64(200) || m["client_ip"] != "192.0.2.1" {
		t.Fatalf("line %s (response id %q)", line, w.Header().Get("X-Request-ID"))
	}

	buf.Reset()
	quiet := engine(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})), newHistogram())
	serve(quiet, http.MethodGet, "/items/1", "", nil)
	if buf.Len() != 0 {
		t.Fatalf("logged below its level: %s", buf.String())
	}
}

// A sane client request id is kept and echoed; anything else is replaced
// by a fresh random one.
func TestRequestID(t *testing.T) {
	e := engine(slog.New(slog.DiscardHandler), newHistogram())
	if got := serve(e, http.MethodGet, "/items/1", "", http.Header{"X-Request-Id": {"trace-1.a_b:C"}}).Header().Get("X-Request-ID"); got != "trace-1.a_b:C" {
		t.Fatalf("sane id echoed as %q", got)
	}
	fresh := regexp.MustCompile(`^[0-9a-f]{24}$`)
	seen := map[string]bool{}
	for _, bad := range []string{"", "has space", "semi;colon", "ünïcode", strings.Repeat("a", 129)} {
		got := serve(e, http.MethodGet, "/items/1", "", http.Header{"X-Request-Id": {bad}}).Header().Get("X-Request-ID")
		if !fresh.MatchString(got) || seen[got] {
			t.Fatalf("id %q replaced by %q, want a fresh random one", bad, got)
		}
		seen[got] = true
	}
}

// Every answer carries the security headers; a handler may replace or add
// to them without affecting the next answer.
func TestSecurityHeaders(t *testing.T) {
	e := engine(slog.New(slog.DiscardHandler), newHistogram())
	want := map[string]string{
		"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
		"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'", "Cache-Control": "no-store", "Pragma": "no-cache",
	}
	cached := serve(e, http.MethodGet, "/cached", "", nil).Header()
	if cached.Get("Cache-Control") != "public, max-age=0" || cached.Get("Pragma") != "" {
		t.Fatalf("Cacheable: %v", cached)
	}
	for range 2 {
		h := serve(e, http.MethodGet, "/items/1", "", nil).Header()
		for k, v := range want {
			if got := h.Values(k); len(got) != 1 || got[0] != v {
				t.Errorf("%s = %q, want %q", k, got, v)
			}
		}
		if got := h.Values("Vary"); len(got) != 1 {
			t.Errorf("Vary = %q, want the handler's one value", got)
		}
	}
}

// A declared body over the limit is refused with 413; a longer body read
// anyway is cut off; a GET has none to limit.
func TestLimitBody(t *testing.T) {
	e := engine(slog.New(slog.DiscardHandler), newHistogram())
	if w := serve(e, http.MethodPost, "/echo", "short", nil); w.Code != http.StatusOK || w.Body.String() != "short" {
		t.Fatalf("small body: %d %q", w.Code, w.Body)
	}
	if w := serve(e, http.MethodPost, "/echo", strings.Repeat("x", 17), nil); w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("declared large body: %d", w.Code)
	}
	r := httptest.NewRequest(http.MethodPost, "/echo", strings.NewReader(strings.Repeat("x", 17)))
	r.ContentLength = -1 // undeclared
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("undeclared large body: %d %q", w.Code, w.Body)
	}
	if w := serve(e, http.MethodGet, "/items/1", "", nil); w.Code != http.StatusOK {
		t.Fatalf("GET: %d", w.Code)
	}
}

// The duration histogram counts each request under its method, route
// pattern ("unmatched" for unknown paths, "OTHER" for odd methods) and
// status code.
func TestObserveHTTP(t *testing.T) {
	h := newHistogram()
	e := engine(slog.New(slog.DiscardHandler), h)
	serve(e, http.MethodGet, "/items/1", "", nil)
	serve(e, http.MethodGet, "/items/2", "", nil)
	serve(e, http.MethodGet, "/nowhere", "", nil)
	serve(e, "BREW", "/items/3", "", nil)
	reg := prom.NewRegistry()
	reg.MustRegister(h)
	w := httptest.NewRecorder()
	reg.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	got := map[string]uint64{} // labels -> _count
	for line := range strings.Lines(w.Body.String()) {
		if labels, ok := strings.CutPrefix(line, "test_http_request_duration_seconds_count"); ok {
			labels, n, _ := strings.Cut(strings.TrimSpace(labels), " ")
			got[labels], _ = strconv.ParseUint(n, 10, 64)
		}
	}
	want := map[string]uint64{
		`{code="200",method="GET",route="/items/:id"}`:  2,
		`{code="404",method="GET",route="unmatched"}`:   1,
		`{code="404",method="OTHER",route="unmatched"}`: 1,
	}
	if len(got) != len(want) {
		t.Fatalf("series %v, want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: %d requests, want %d (all: %v)", k, got[k], n, got)
		}
	}
}
