package mongostore_test

import (
	"testing"

	"github.com/unilogin/unilogin/accounts/accountstest"
)

func TestFactorConformance(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *server) {
		accountstest.RunFactors(t, func(t *testing.T) accountstest.FactorBackend {
			s, _ := srv.newStore(t)
			return s
		})
	})
}
