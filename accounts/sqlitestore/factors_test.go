package sqlitestore_test

import (
	"path/filepath"
	"testing"

	"github.com/unilogin/unilogin/accounts/accountstest"
)

func TestFactorConformance(t *testing.T) {
	accountstest.RunFactors(t, func(t *testing.T) accountstest.FactorBackend {
		return newStore(t, openDB(t, filepath.Join(t.TempDir(), "unilogin.db"), 1))
	})
}

// With an unlimited pool, so that concurrent calls meet SQLite's locking.
func TestFactorConformanceConnectionPool(t *testing.T) {
	accountstest.RunFactors(t, func(t *testing.T) accountstest.FactorBackend {
		return newStore(t, openDB(t, filepath.Join(t.TempDir(), "unilogin.db"), 0))
	})
}
