package hosted_test

import (
	"os"
	"testing"

	"github.com/unilogin/unilogin/session/mongostore/mongotest"
)

// TestMain stops the embedded MongoDB-compatible server the tests share.
func TestMain(m *testing.M) {
	code := m.Run()
	mongotest.Stop()
	os.Exit(code)
}
