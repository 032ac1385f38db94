package api

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/api/oauth"
)

// parseForm reads an application/x-www-form-urlencoded body (RFC 6749
// §3.2): other content types, bad encoding and repeated parameters
// (RFC 6749 §3.1) are invalid_request. Query parameters are ignored.
func ParseForm(c *gin.Context) (url.Values, error) {
	mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, oauth.BadRequest("Content-Type must be application/x-www-form-urlencoded")
	}
	if err := c.Request.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, oauth.BadRequest("malformed form body")
	}
	form := c.Request.PostForm
	for k, v := range form {
		if len(v) > 1 {
			return nil, oauth.BadRequest(fmt.Sprintf("parameter %q is repeated", k))
		}
	}
	return form, nil
}

// decodeJSON reads a JSON object body into dst. Bad content type, syntax,
// types and trailing data are invalid_request with a precise description.
func decodeJSON(c *gin.Context, dst any) error {
	mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mt != "application/json" {
		return oauth.BadRequest("Content-Type must be application/json")
	}
	// Read the (size-limited) body first: encoding/json would silently turn
	// invalid UTF-8, or an escaped lone UTF-16 surrogate (\ud800), into
	// U+FFFD, altering a password or an e-mail address instead of refusing
	// it (RFC 8259 §8.1).
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return oauth.BadRequest("could not read the request body")
	}
	if !utf8.Valid(body) || loneSurrogate(body) {
		return oauth.BadRequest("request body must be UTF-8 text (RFC 8259 §8.1)")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(dst); err != nil {
		var mbe *http.MaxBytesError
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &mbe):
			return err
		case errors.Is(err, io.EOF):
			return oauth.BadRequest("request body is empty")
		case errors.Is(err, io.ErrUnexpectedEOF):
			return oauth.BadRequest("request body is truncated JSON")
		case errors.As(err, &se):
			return oauth.BadRequest(fmt.Sprintf("malformed JSON at byte %d", se.Offset))
		case errors.As(err, &te):
			if te.Field != "" {
				return oauth.BadRequest(fmt.Sprintf("field %q must be a %s", te.Field, te.Type))
			}
			return oauth.BadRequest("request body must be a JSON object")
		default:
			return oauth.BadRequest("malformed JSON body")
		}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return oauth.BadRequest("unexpected data after the JSON object")
	}
	return nil
}

// errInvalidClient is RFC 6749 §5.2 invalid_client.
var errInvalidClient = &oauth.Error{Status: http.StatusUnauthorized, Code: oauth.CodeInvalidClient, Description: "client authentication failed"}

// authenticateClient finds the client of a /token or /revoke request (RFC
// 6749 §2.3.1): HTTP Basic with the form-encoded id and secret, or
// client_id (+ client_secret) in the body, never both. It returns nil when
// no client identified itself. Unknown clients, wrong secrets, a missing
// secret for a confidential client and a secret for a public one are
// invalid_client.
func (s *Server) authenticateClient(c *gin.Context, form url.Values) (*Client, error) {
	id, secret := form.Get("client_id"), form.Get("client_secret")
	if user, pass, ok := c.Request.BasicAuth(); ok {
		if secret != "" {
			return nil, oauth.BadRequest("use one client authentication method, not two")
		}
		bid, err1 := url.QueryUnescape(user)
		bsecret, err2 := url.QueryUnescape(pass)
		if err1 != nil || err2 != nil {
			return nil, errInvalidClient
		}
		if id != "" && id != bid {
			return nil, oauth.BadRequest("client_id differs from the authenticated client")
		}
		id, secret = bid, bsecret
	} else if h := c.GetHeader("Authorization"); h != "" {
		return nil, errInvalidClient
	}
	if id == "" {
		if secret != "" {
			return nil, errInvalidClient
		}
		return nil, nil
	}
	cl, ok := s.clients[id]
	if !ok {
		return nil, errInvalidClient
	}
	if cl.Secret == "" {
		if secret != "" {
			return nil, errInvalidClient
		}
		return cl, nil
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(cl.Secret)) != 1 {
		return nil, errInvalidClient
	}
	return cl, nil
}

// bearerToken extracts an RFC 6750 §2.1 bearer token, or the §2.2 form
// body token formAccessToken found (POST /userinfo only).
func bearerToken(c *gin.Context) (token string, present bool) {
	if t, ok := c.Get(formTokenKey); ok { // POST /userinfo's form body
		return t.(string), true
	}
	h := c.GetHeader("Authorization")
	if h == "" {
		return "", false
	}
	scheme, rest, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", true
	}
	return strings.TrimSpace(rest), true
}

// loneSurrogate reports a \uXXXX escape of a UTF-16 surrogate that is not
// a high surrogate followed by an escaped low one. Backslashes occur only
// inside JSON strings, so scanning the whole text is enough.
func loneSurrogate(b []byte) bool {
	hex4 := func(i int) (rune, bool) {
		if i+6 > len(b) || b[i] != '\\' || b[i+1] != 'u' {
			return 0, false
		}
		v, err := strconv.ParseUint(string(b[i+2:i+6]), 16, 16)
		return rune(v), err == nil
	}
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		r, ok := hex4(i)
		if !ok {
			i++ // skip the escaped character (\" or \\ included)
			continue
		}
		switch {
		case r >= 0xD800 && r <= 0xDBFF:
			lo, ok := hex4(i + 6)
			if !ok || lo < 0xDC00 || lo > 0xDFFF {
				return true
			}
			i += 11
		case r >= 0xDC00 && r <= 0xDFFF:
			return true
		default:
			i += 5
		}
	}
	return false
}
