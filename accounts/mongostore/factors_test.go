package mongostore_test

import (
	"testing"

	"github.com/unilogin/unilogin/accounts/accountstest"
)

func TestFactorConformance(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *server) { accountstest.RunFactors(t, fresh[accountstest.FactorBackend](srv)) })
}
