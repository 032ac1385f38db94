package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// GET /users/me is the hottest JSON answer: it is written by appendMe,
// byte for byte what encoding/json makes of a meJSON (users_json_test.go
// holds the two together, and fails when meJSON gains a field appendMe
// does not write), without reflection and with one pooled buffer.

// writeMe answers 200 with v.
func writeMe(c *gin.Context, v *meJSON) {
	bp := meBuffers.Get().(*[]byte)
	b, ok := appendMe((*bp)[:0], v)
	if !ok {
		meBuffers.Put(bp)
		c.JSON(http.StatusOK, v)
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", b) // copied out before it returns
	if cap(b) <= maxPooledMe {
		*bp = b
		meBuffers.Put(bp)
	}
}

// maxPooledMe bounds the buffers kept for the next answer.
const maxPooledMe = 16 << 10

var meBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// appendMe appends v as json.Marshal writes it; ok is false for a value it
// leaves to encoding/json (a time outside the years 0-9999, which
// json.Marshal refuses).
func appendMe(b []byte, v *meJSON) (_ []byte, ok bool) {
	u := &v.userJSON
	b = append(b, `{"id":`...)
	b = appendJSONString(b, u.ID)
	b = append(b, `,"email":`...)
	if u.Email == nil {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(b, *u.Email)
	}
	b = append(b, `,"email_verified":`...)
	b = strconv.AppendBool(b, u.EmailVerified)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, u.Name)
	b = append(b, `,"roles":`...)
	b = appendJSONStrings(b, u.Roles)
	b = append(b, `,"permissions":`...)
	b = appendJSONStrings(b, u.Permissions)
	b = append(b, `,"has_password":`...)
	b = strconv.AppendBool(b, u.HasPassword)
	b = append(b, `,"disabled":`...)
	b = strconv.AppendBool(b, u.Disabled)
	b = append(b, `,"created_at":`...)
	if b, ok = appendJSONTime(b, u.CreatedAt); !ok {
		return b, false
	}
	b = append(b, `,"updated_at":`...)
	if b, ok = appendJSONTime(b, u.UpdatedAt); !ok {
		return b, false
	}
	b = append(b, `,"identities":`...)
	if v.Identities == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, id := range v.Identities {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"provider":`...)
			b = appendJSONString(b, id.Provider)
			b = append(b, `,"subject":`...)
			b = appendJSONString(b, id.Subject)
			b = append(b, `,"email":`...)
			b = appendJSONString(b, id.Email)
			b = append(b, `,"linked_at":`...)
			if b, ok = appendJSONTime(b, id.LinkedAt); !ok {
				return b, false
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if m := v.MFA; m != nil {
		b = append(b, `,"mfa":{"totp":`...)
		b = strconv.AppendBool(b, m.TOTP)
		b = append(b, `,"passkeys":`...)
		b = strconv.AppendInt(b, int64(m.Passkeys), 10)
		b = append(b, `,"recovery_codes_left":`...)
		b = strconv.AppendInt(b, int64(m.RecoveryCodesLeft), 10)
		b = append(b, '}')
	}
	return append(b, '}'), true
}

// appendJSONString appends s quoted as json.Marshal does. Text without
// anything to escape is copied; anything else (quotes, control and HTML
// characters, U+2028/U+2029, invalid UTF-8) goes through json.Marshal.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				return appendMarshaled(b, s)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			return appendMarshaled(b, s)
		}
		i += size
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendMarshaled(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}

func appendJSONStrings(b []byte, list []string) []byte {
	if list == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

// appendJSONTime appends t as time.Time.MarshalJSON does (RFC 3339 with
// nanoseconds); ok is false where MarshalJSON fails.
func appendJSONTime(b []byte, t time.Time) ([]byte, bool) {
	if y := t.Year(); y < 0 || y > 9999 {
		return b, false
	}
	if _, off := t.Zone(); off%60 != 0 || off <= -24*3600 || off >= 24*3600 {
		return b, false
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), true
}
