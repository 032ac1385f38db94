package sqlitestore_test

import (
	"path/filepath"
	"testing"

	"github.com/unilogin/unilogin/accounts/mail"
	"github.com/unilogin/unilogin/accounts/mail/mailtest"
)

func TestMailQueueConformance(t *testing.T) {
	mailtest.Run(t, func(t *testing.T) mail.QueueStore {
		return newStore(t, openDB(t, filepath.Join(t.TempDir(), "unilogin.db"), 1))
	})
}

// TestMailQueueConnectionPool adds SQLite's locking between connections.
func TestMailQueueConnectionPool(t *testing.T) {
	mailtest.Run(t, func(t *testing.T) mail.QueueStore {
		return newStore(t, openDB(t, filepath.Join(t.TempDir(), "unilogin.db"), 0))
	})
}
