package api_test

import (
	"testing"

	"github.com/unilogin/unilogin/api/apitest"
)

func TestMain(m *testing.M) { apitest.Main(m) }
