package verifier

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

type claimsKey struct{}

// NewContext returns a copy of ctx carrying claims.
func NewContext(ctx context.Context, c *Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}

// ClaimsFromContext returns the claims stored by Middleware (or NewContext).
func ClaimsFromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok && c != nil
}

// VerifyRequest verifies the bearer token of r's Authorization header
// (RFC 6750 §2.1; the scheme is matched case-insensitively). Without one it
// returns ErrMissingToken; with several Authorization headers,
// ErrInvalidRequest; otherwise what Verify returns. It is the building block
// of Middleware, for other routers.
func (v *Verifier) VerifyRequest(r *http.Request) (*Claims, error) {
	vals := r.Header.Values("Authorization")
	switch len(vals) {
	case 0:
		return nil, ErrMissingToken
	case 1:
	default:
		return nil, ErrInvalidRequest
	}
	scheme, token, _ := strings.Cut(strings.TrimSpace(vals[0]), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return nil, ErrMissingToken // another scheme: no bearer token sent (§3.1)
	}
	token = strings.TrimLeft(token, " ")
	if token == "" {
		return nil, ErrMissingToken
	}
	return v.Verify(r.Context(), token)
}

// Middleware lets a request through only with a valid bearer token, whose
// claims it stores in the request context (ClaimsFromContext). Otherwise it
// answers as WriteError does.
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := v.VerifyRequest(r)
		if err != nil {
			WriteError(w, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), c)))
	})
}

// RequireRole lets a request through only when the claims stored by
// Middleware carry role; else 403 insufficient_scope. Install it after
// Middleware: without claims it answers 401 as for a missing token.
func RequireRole(role string) func(http.Handler) http.Handler {
	return require(func(c *Claims) error {
		if c.HasRole(role) {
			return nil
		}
		return &InsufficientScopeError{Role: role}
	})
}

// RequirePermission is RequireRole for a permission (a scope value).
func RequirePermission(perm string) func(http.Handler) http.Handler {
	return require(func(c *Claims) error {
		if c.HasPermission(perm) {
			return nil
		}
		return &InsufficientScopeError{Permission: perm}
	})
}

func require(check func(*Claims) error) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, ok := ClaimsFromContext(r.Context())
			if !ok {
				WriteError(w, ErrMissingToken)
				return
			}
			if err := check(c); err != nil {
				WriteError(w, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// WriteError writes the response for an error of VerifyRequest, Verify or
// an *InsufficientScopeError, as RFC 6750 §3 and unilogin's contract say:
//   - ErrMissingToken: 401, "WWW-Authenticate: Bearer" without error attribute,
//     body {"error":"invalid_token","error_description":"missing bearer token"};
//   - ErrInvalidToken: 401, Bearer error="invalid_token" with the reason;
//   - ErrInvalidRequest: 400, Bearer error="invalid_request";
//   - *InsufficientScopeError: 403, Bearer error="insufficient_scope" (with
//     scope="<perm>" for a permission);
//   - anything else (ErrJWKSUnavailable, a cancelled context): 503
//     temporarily_unavailable, as the token could not be judged.
//
// Bodies are JSON {"error","error_description"}; they never contain the token.
func WriteError(w http.ResponseWriter, err error) {
	status, code, desc, challenge := errorResponse(err)
	h := w.Header()
	if challenge != "" {
		h.Set("WWW-Authenticate", challenge)
	}
	if status == http.StatusServiceUnavailable {
		h.Set("Retry-After", "5")
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	body, _ := json.Marshal(struct {
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}{code, desc})
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// errorResponse maps err to the status, error code, description and
// WWW-Authenticate challenge of its response.
func errorResponse(err error) (status int, code, desc, challenge string) {
	bearer := func(code, desc string) string {
		return `Bearer error="` + code + `", error_description="` + quoteSafe(desc) + `"`
	}
	var scopeErr *InsufficientScopeError
	switch {
	case errors.Is(err, ErrMissingToken):
		return http.StatusUnauthorized, "invalid_token", "missing bearer token", "Bearer"
	case errors.Is(err, ErrInvalidToken):
		desc = reason(err)
		return http.StatusUnauthorized, "invalid_token", desc, bearer("invalid_token", desc)
	case errors.Is(err, ErrInvalidRequest):
		desc = "more than one Authorization header"
		return http.StatusBadRequest, "invalid_request", desc, bearer("invalid_request", desc)
	case errors.As(err, &scopeErr):
		desc = scopeErr.description()
		challenge = bearer("insufficient_scope", desc)
		if scopeErr.Permission != "" {
			challenge += `, scope="` + quoteSafe(scopeErr.Permission) + `"`
		}
		return http.StatusForbidden, "insufficient_scope", desc, challenge
	default:
		return http.StatusServiceUnavailable, "temporarily_unavailable", "token cannot be verified right now", ""
	}
}

// quoteSafe keeps only the characters RFC 6750 §3 allows inside the
// quoted error_description and scope values (printable ASCII except '"' and
// '\'), so an attribute can never be broken out of.
func quoteSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '?'
		}
		return r
	}, s)
}
