package mongostore_test

import (
	"testing"

	"github.com/unilogin/unilogin/accounts/mail"
	"github.com/unilogin/unilogin/accounts/mail/mailtest"
)

func TestMailQueueConformance(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *server) { mailtest.Run(t, fresh[mail.QueueStore](srv)) })
}
