package providertest

import (
	"errors"
	"testing"

	"github.com/unilogin/unilogin/providers"
)

// UpstreamErr checks that an Exchange error is a *providers.UpstreamError
// with the given code (tables of provider tests).
func UpstreamErr(code string) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var ue *providers.UpstreamError
		if !errors.As(err, &ue) || ue.Code != code {
			t.Fatalf("err = %v, want *UpstreamError %s", err, code)
		}
	}
}

// Is checks that an error matches target with errors.Is.
func Is(target error) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		if !errors.Is(err, target) {
			t.Fatalf("err = %v, want %v", err, target)
		}
	}
}
