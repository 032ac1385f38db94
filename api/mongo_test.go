package api_test

import (
	"os"
	"testing"

	"github.com/unilogin/unilogin/session/mongostore/mongotest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	mongotest.Stop()
	os.Exit(code)
}
