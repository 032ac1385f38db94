package sqlitestore_test

import (
	"testing"

	"github.com/unilogin/unilogin/accounts/mail"
	"github.com/unilogin/unilogin/accounts/mail/mailtest"
)

func TestMailQueueConformance(t *testing.T) { mailtest.Run(t, fresh[mail.QueueStore](1)) }

// TestMailQueueConnectionPool adds SQLite's locking between connections.
func TestMailQueueConnectionPool(t *testing.T) { mailtest.Run(t, fresh[mail.QueueStore](0)) }
