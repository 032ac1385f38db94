package main

import (
	"context"
	"io"

	"github.com/unilogin/unilogin/accounts"
)

// usersRecoveryUsage is the usage text of the e-mail verbs (appended to
// usersUsage's command list).
const usersRecoveryUsage = `  resend-verification (--id ID | --email E)
                                      mail the user a new verification link
  mark-verified (--id ID | --email E) vouch for the user's current address (marks it verified)
  send-reset (--id ID | --email E)    mail the user a password-reset link
`

// The e-mail verbs (userActions): the messages go into the server's mail
// queue (in the database); the running server delivers them (SMTP or the
// outbox). A disabled user is refused (accounts.ErrDisabled).

func resendVerification(ctx context.Context, env *usersEnv, u *accounts.User, stdout io.Writer) error {
	sent, err := env.admin.ResendVerification(ctx, env.actor, u.ID)
	if !sent {
		return report(stdout, err, "%s (user %s) is verified already; nothing sent\n", u.Email, u.ID)
	}
	return report(stdout, err, "queued a verification link to %s (user %s); the server delivers it\n", u.Email, u.ID)
}

func markVerified(ctx context.Context, env *usersEnv, u *accounts.User, stdout io.Writer) error {
	_, err := env.admin.MarkVerified(ctx, env.actor, u.ID)
	return report(stdout, err, "marked %s (user %s) verified\n", u.Email, u.ID)
}

func sendReset(ctx context.Context, env *usersEnv, u *accounts.User, stdout io.Writer) error {
	err := env.admin.StartReset(ctx, env.actor, u.ID)
	return report(stdout, err, "queued a password-reset link to %s (user %s); the server delivers it\n", u.Email, u.ID)
}
