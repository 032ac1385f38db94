package oauth_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/accounts/mfa"
	"github.com/unilogin/unilogin/api/oauth"
)

// A refusal carries its wait and counter to the writer: the answer's
// Retry-After and RateLimit fields come from the error, not from headers
// the limiter left on the response.
func TestRetryHeaders(t *testing.T) {
	gin.SetMode(gin.TestMode)
	limited := &oauth.RateLimitError{Quota: oauth.Quota{Limit: 5, Reset: 1500 * time.Millisecond, Window: time.Minute}}
	for _, tc := range []struct {
		err        error
		status     int
		retryAfter string
		quota      bool
	}{
		{limited, http.StatusTooManyRequests, "2", true},
		{fmt.Errorf("signup: %w", limited), http.StatusTooManyRequests, "2", true},
		{&mfa.RateLimitError{RetryAfter: 3 * time.Second}, http.StatusTooManyRequests, "3", false},
		{&mfa.RateLimitError{RetryAfter: -time.Second}, http.StatusTooManyRequests, "1", false},
		{&oauth.RateLimitError{Quota: oauth.Quota{Limit: 5, Reset: -time.Second, Window: time.Minute}}, http.StatusTooManyRequests, "1", true},
		{oauth.ErrUnavailable, http.StatusServiceUnavailable, "5", false},
		{errors.New("bug"), http.StatusInternalServerError, "", false},
		{oauth.BadRequest("x"), http.StatusBadRequest, "", false},
	} {
		if tc.quota && !errors.Is(tc.err, oauth.ErrRateLimited) {
			t.Errorf("%v is not ErrRateLimited", tc.err)
		}
		w := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(w)
		oauth.Respond(c, slog.New(slog.DiscardHandler), tc.err)
		h := w.Result().Header
		if w.Code != tc.status || h.Get("Retry-After") != tc.retryAfter {
			t.Errorf("%v: %d Retry-After %q, want %d %q", tc.err, w.Code, h.Get("Retry-After"), tc.status, tc.retryAfter)
		}
		want := map[string]string{"RateLimit-Limit": "", "RateLimit-Remaining": "", "RateLimit-Reset": "", "RateLimit-Policy": ""}
		if tc.quota {
			want = map[string]string{"RateLimit-Limit": "5", "RateLimit-Remaining": "0", "RateLimit-Reset": tc.retryAfter, "RateLimit-Policy": "5;w=60"}
		}
		for k, v := range want {
			if h.Get(k) != v {
				t.Errorf("%v: %s %q, want %q", tc.err, k, h.Get(k), v)
			}
		}
	}
}
