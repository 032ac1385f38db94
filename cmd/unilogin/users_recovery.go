package main

import (
	"context"
	"errors"
	//REMOVE
	"fmt"
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

// usersRecovery runs resend-verification, mark-verified and send-reset.
// The messages go into the server's mail queue (in the database); the
// running server delivers them (SMTP or the outbox).
func usersRecovery(ctx context.Context, sub string, args []string, stdout, stderr io.Writer) int {
	env, u, code := targetUser(ctx, sub, args, stdout, stderr)
	if env == nil {
		return code
	}
	defer env.Close()
	var err error
	switch sub {
	case "resend-verification":
		var sent bool
		if sent, err = env.admin.ResendVerification(ctx, env.actor, u.ID); err == nil {
			if sent {
				fmt.Fprintf(stdout, "queued a verification link to %s (user %s); the server delivers it\n", u.Email, u.ID)
			} else {
				fmt.Fprintf(stdout, "%s (user %s) is verified already; nothing sent\n", u.Email, u.ID)
			}
		}
	case "mark-verified":
		if _, err = env.admin.MarkVerified(ctx, env.actor, u.ID); err == nil {
			fmt.Fprintf(stdout, "marked %s (user %s) verified\n", u.Email, u.ID)
		}
	case "send-reset":
		if err = env.admin.StartReset(ctx, env.actor, u.ID); err == nil {
			fmt.Fprintf(stdout, "queued a password-reset link to %s (user %s); the server delivers it\n", u.Email, u.ID)
		}
	}
	if errors.Is(err, accounts.ErrDisabled) {
		fmt.Fprintf(stderr, "unilogin users %s: the user is disabled: enable it first\n", sub)
		return exitError
	}
	if err != nil {
		return fail(stderr, sub, err)
	}
	return exitOK
}
