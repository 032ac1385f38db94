package sqlitestore_test

import (
	"testing"

	"github.com/unilogin/unilogin/accounts/accountstest"
)

func TestFactorConformance(t *testing.T) {
	accountstest.RunFactors(t, fresh[accountstest.FactorBackend](1))
}

// With an unlimited pool, so that concurrent calls meet SQLite's locking.
func TestFactorConformanceConnectionPool(t *testing.T) {
	accountstest.RunFactors(t, fresh[accountstest.FactorBackend](0))
}
