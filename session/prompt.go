package session

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// ErrInvalidAuthorizeParam: a prompt or max_age parameter of an
// authorization request is malformed. The HTTP layer redirects with
// error=invalid_request (OpenID Connect Core §3.1.2.6).
var ErrInvalidAuthorizeParam = errors.New("session: invalid authorization parameter")

// Prompt is the parsed prompt parameter (OpenID Connect Core §3.1.2.1).
type Prompt struct {
	None          bool // no page may be shown: login_required, consent_required or interaction_required instead
	Login         bool // sign in again even with a session
	Consent       bool // ask for consent even when it is remembered
	SelectAccount bool // offer "continue as" or "use another account"
}

// ParsePrompt parses a space-separated prompt value. "none" together with
// any other value is ErrInvalidAuthorizeParam (§3.1.2.1). Values this
// provider does not know (e.g. "create" of later specifications) are
// ignored, as a stock client may send them; repeated values are harmless.
func ParsePrompt(v string) (Prompt, error) {
	var p Prompt
	for _, f := range strings.Fields(v) {
		switch f {
		case "none":
			p.None = true
		case "login":
			p.Login = true
		case "consent":
			p.Consent = true
		case "select_account":
			p.SelectAccount = true
		}
	}
	if p.None && (p.Login || p.Consent || p.SelectAccount) {
		return Prompt{}, errors.Join(ErrInvalidAuthorizeParam, errors.New("prompt=none with another value"))
	}
	return p, nil
}

// MaxAge is the parsed max_age parameter (OpenID Connect Core §3.1.2.1).
type MaxAge struct {
	Set     bool
	Seconds int64 // 0 means: always sign in again
}

// ParseMaxAge parses max_age: empty is not set; otherwise a non-negative
// decimal number of seconds (values beyond any useful age are capped),
// else ErrInvalidAuthorizeParam.
func ParseMaxAge(v string) (MaxAge, error) {
	if v == "" {
		return MaxAge{}, nil
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return MaxAge{}, errors.Join(ErrInvalidAuthorizeParam, errors.New("max_age is not a non-negative integer"))
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil { // only overflow is left
		n = math.MaxInt64
	}
	return MaxAge{Set: true, Seconds: n}, nil
}

// NeedsSignIn reports whether an existing session authenticated at
// authTime must sign in again for a request with prompt p and max age a at
// now: prompt=login, or more whole seconds elapsed since authTime than
// max_age allows (§3.1.2.1). The caller applies it to a session that
// existed before the request, not to the sign-in the request itself just
// completed (whose auth_time is now), so max_age=0 cannot loop.
func NeedsSignIn(p Prompt, a MaxAge, authTime, now time.Time) bool {
	return p.Login || (a.Set && now.Unix()-authTime.Unix() > a.Seconds)
}
