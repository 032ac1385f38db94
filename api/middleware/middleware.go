package middleware

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/i18n"
	"github.com/unilogin/unilogin/api/oauth"
	"github.com/unilogin/unilogin/api/prom"
)

const requestIDKey = "request_id"

// requestIDHeader is X-Request-ID in the canonical form net/http keeps
// header names in: indexing the maps with it skips canonicalising (and
// allocating) the name on every request.
const requestIDHeader = "X-Request-Id"

// RequestID takes the client's X-Request-ID when it is sane, else makes
// one, and echoes it in the response.
func RequestID(c *gin.Context) {
	var id string
	if v := c.Request.Header[requestIDHeader]; len(v) > 0 {
		id = v[0]
	}
	if !validRequestID(id) {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Writer.Header()[requestIDHeader] = []string{id}
	c.Set(requestIDKey, id)
	c.Next()
}

// ClientAddress puts the client's address into the request context, where
// the hashing gate shares bcrypt fairly between addresses
// (accounts.WithClientAddress).
func ClientAddress(c *gin.Context) {
	c.Request = c.Request.WithContext(accounts.WithClientAddress(c.Request.Context(), c.ClientIP()))
	c.Next()
}

// Locale puts the language the client asks for (Accept-Language; English
// when it names none the catalog speaks) into the request context, so that
// the mail a request sends is written in it (i18n.FromContext). The hosted
// pages replace it with the language of their browser flow.
func Locale(c *gin.Context) {
	l := i18n.Negotiate("", c.GetHeader("Accept-Language"))
	c.Request = c.Request.WithContext(i18n.WithLocale(c.Request.Context(), l))
	c.Next()
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		b := id[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_' || b == '.' || b == ':') {
			return false
		}
	}
	return true
}

// Logger is base with the request's id.
func Logger(base *slog.Logger, c *gin.Context) *slog.Logger {
	return base.With(slog.String(requestIDKey, c.GetString(requestIDKey)))
}

// Recover turns a panic into a logged 500 server_error (http.ErrAbortHandler
// is re-raised: it is how a handler aborts a response on purpose).
func Recover(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				Logger(log, c).Error("panic", slog.Any("panic", v))
				oauth.WriteError(c, http.StatusInternalServerError, oauth.CodeServerError, "internal server error")
			}
		}()
		c.Next()
	}
}

// AccessLog logs one line per request. Only the route pattern is logged:
// query strings carry codes and state. The line is the one Logger(log,
// c).Info would write (the request id first), without deriving a logger
// per request.
func AccessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		ctx := c.Request.Context()
		if !log.Enabled(ctx, slog.LevelInfo) {
			return
		}
		ip := accounts.ClientAddress(ctx) // ClientAddress's, when it ran
		if ip == "" {
			ip = c.ClientIP()
		}
		log.LogAttrs(ctx, slog.LevelInfo, "request",
			slog.String(requestIDKey, c.GetString(requestIDKey)),
			slog.String("method", c.Request.Method),
			slog.String("route", route(c)),
			slog.Int("status", c.Writer.Status()),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("client_ip", ip),
		)
	}
}

func route(c *gin.Context) string {
	if r := c.FullPath(); r != "" {
		return r
	}
	return "unmatched"
}

// LimitBody refuses a declared body over max with 413 and caps what a
// handler can read of any other.
func LimitBody(max int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > max {
			oauth.WriteError(c, http.StatusRequestEntityTooLarge, oauth.CodeInvalidRequest, "request body too large")
			return
		}
		if c.Request.Body != http.NoBody { // nothing to cap (a GET)
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, max)
		}
		c.Next()
	}
}

// securityHeaders are the headers of every answer, names in canonical
// form. Nothing an auth server answers may be cached unless the handler
// says so (JWKS, metadata); RFC 6749 §5.1 requires it for token responses.
var securityHeaders = [...][2]string{
	{"X-Content-Type-Options", "nosniff"},
	{"X-Frame-Options", "DENY"},
	{"Referrer-Policy", "no-referrer"},
	{"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"},
	{"Cache-Control", "no-store"},
	{"Pragma", "no-cache"},
}

// SecurityHeaders sets securityHeaders. The values of one answer share one
// allocation; each header gets a slice of its own (full, so that an Add
// copies), as Header.Set would give it.
func SecurityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	vals := make([]string, len(securityHeaders))
	for i, kv := range securityHeaders {
		vals[i] = kv[1]
		h[kv[0]] = vals[i : i+1 : i+1]
	}
	c.Next()
}

// HSTS is RFC 6797: browsers use https for the host for a year. It is on
// when unilogin serves TLS itself or its issuer is https (TLS terminated
// by a proxy); over plain http browsers ignore it.
func HSTS(c *gin.Context) {
	c.Header("Strict-Transport-Security", "max-age=31536000")
	c.Next()
}

// Cacheable replaces the default no-store with a public max-age.
func Cacheable(c *gin.Context, maxAge time.Duration) {
	c.Header("Cache-Control", fmt.Sprintf("public, max-age=%d", int(maxAge/time.Second)))
	c.Writer.Header().Del("Pragma")
}

// ObserveHTTP observes unilogin_http_request_duration_seconds in h. The
// route label is gin's route pattern, so cardinality stays bounded whatever
// paths clients send; methods outside the standard set count as "OTHER".
// The histogram of each label set is looked up in h once and kept (h's
// own lookup joins the label values and takes a lock on every call).
func ObserveHTTP(h *prom.HistogramVec) gin.HandlerFunc {
	var observers sync.Map // httpLabels -> *prom.Histogram
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		k := httpLabels{methodLabel(c.Request.Method), route(c), c.Writer.Status()}
		o, ok := observers.Load(k)
		if !ok {
			o, _ = observers.LoadOrStore(k, h.WithLabelValues(k.method, k.route, strconv.Itoa(k.status)))
		}
		o.(*prom.Histogram).Observe(time.Since(start).Seconds())
	}
}

// httpLabels are the labels of one HTTP request histogram.
type httpLabels struct {
	method, route string
	status        int
}

func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}
