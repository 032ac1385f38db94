package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/api/server"
	"github.com/unilogin/unilogin/config"
)

// exitNotFound: the user named on the command line does not exist.
const exitNotFound = 4

// stdin is where --password-stdin reads; tests replace it.
var stdin io.Reader = os.Stdin

const usersUsage = `usage: unilogin users COMMAND [flags]

Commands (each also takes --config FILE, and --help):
  create --email E [--password-stdin] [--name N] [--role R]... [--email-verified]
                                      create a user (without --role: the default roles)
  list [--email SUBSTRING] [--limit N] [--json]
                                      list users, oldest first
  set-roles (--id ID | --email E) (--role R... | --no-roles)
                                      replace a user's roles (tokens change at their next refresh)
  disable (--id ID | --email E)       disable a user and end all its sessions
  enable (--id ID | --email E)        enable a disabled user
  delete (--id ID | --email E)        delete a user with its identities and sessions
  reset-mfa (--id ID | --email E)     remove a user's second factors: TOTP, recovery codes, passkeys
` + usersRecoveryUsage + `
They work on the server's store (the same configuration), also while it runs,
and each change is recorded in the audit log with actor "cli:<os user>".
Exit codes: 0 ok, 1 error, 2 usage, 3 configuration, 4 user not found.

Bootstrap the first administrator:
  printf '%s\n' "$PASSWORD" | unilogin users create --email admin@example.com --password-stdin --role admin
`

// cmdUsers dispatches "unilogin users ...".
func cmdUsers(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	help := helpCommand(usersUsage)
	cmds := map[string]command{
		"create":    usersCreate,
		"list":      usersList,
		"set-roles": usersSetRoles,
		"help":      help, "-h": help, "--help": help, "-help": help,
	}
	for sub, act := range userActions {
		cmds[sub] = func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
			return usersChange(ctx, sub, act, args, stdout, stderr)
		}
	}
	return dispatch(ctx, "unilogin users", usersUsage, cmds, args, stdout, stderr)
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// usersFlags parses a users subcommand's flags plus --config. ok=false
// means the command is over (help printed: exitOK; bad flags: exitUsage).
func usersFlags(sub, synopsis string, args []string, stdout, stderr io.Writer, define func(*flag.FlagSet)) (path string, code int, ok bool) {
	return parseFlags("users "+sub, synopsis, args, stdout, stderr, define, true)
}

// usersEnv is what every users command works with.
type usersEnv struct {
	cfg   *config.Config
	core  *server.Core
	admin *accounts.Admin
	actor accounts.Actor
}

// openUsers loads the configuration and opens the store; on failure it
// prints why and returns the exit code.
func openUsers(ctx context.Context, name, path string, stderr io.Writer) (*usersEnv, int) {
	cfg, ok := loadConfig(path, stderr)
	if !ok {
		return nil, exitConfig
	}
	c, err := server.Open(ctx, cfg, server.Options{Logger: newLogger(cfg, os.Stderr)})
	if err != nil {
		fmt.Fprintf(stderr, "unilogin users %s: %v\n", name, err)
		return nil, exitError
	}
	return &usersEnv{cfg: cfg, core: c, admin: c.Admin, actor: accounts.Actor{ID: cliActor()}}, exitOK
}

func (u *usersEnv) Close() { _ = u.core.Close(context.Background()) }

// fail prints err for command name and returns its exit code: 4 for an
// unknown user, else 1.
func fail(stderr io.Writer, name string, err error) int {
	fmt.Fprintf(stderr, "unilogin users %s: %s\n", name, describe(err))
	if errors.Is(err, accounts.ErrNotFound) {
		return exitNotFound
	}
	return exitError
}

func describe(err error) string {
	var ve *accounts.ValidationError
	switch {
	case errors.As(err, &ve):
		return ve.Error()
	case errors.Is(err, accounts.ErrEmailTaken):
		return "a user with this e-mail already exists"
	case errors.Is(err, accounts.ErrNotFound):
		return "no such user"
	case errors.Is(err, accounts.ErrDisabled): // the e-mail verbs
		return "the user is disabled: enable it first"
	}
	return err.Error()
}

// cliActor names the operator in the audit log: "cli:" + $USER, else the
// account name, else the numeric uid.
func cliActor() string {
	name := os.Getenv("USER")
	if name == "" {
		if u, err := user.Current(); err == nil {
			name = u.Username
		}
	}
	if name == "" {
		name = strconv.Itoa(os.Getuid())
	}
	return "cli:" + name
}

// readPassword reads the password from stdin: everything up to EOF minus
// one trailing newline ("\n" or "\r\n"), like docker login --password-stdin.
func readPassword() (string, error) {
	b, err := io.ReadAll(io.LimitReader(stdin, 64<<10))
	if err != nil {
		return "", fmt.Errorf("read the password from stdin: %w", err)
	}
	pw := string(b)
	if s, ok := strings.CutSuffix(pw, "\n"); ok {
		pw = strings.TrimSuffix(s, "\r")
	}
	if pw == "" {
		return "", errors.New("--password-stdin: stdin is empty")
	}
	return pw, nil
}

func usersCreate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var (
		email, name           string
		passwordStdin, verify bool
		roles                 stringList
	)
	path, code, ok := usersFlags("create", "--email E [--password-stdin] [--name N] [--role R]... [--email-verified]", args, stdout, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "e-mail address (required)")
		fs.BoolVar(&passwordStdin, "password-stdin", false, "read the password from stdin (one trailing newline is dropped); without it the user has no password")
		fs.StringVar(&name, "name", "", "display name")
		fs.Var(&roles, "role", "a `ROLE` to give (repeatable); default: the configured default_roles")
		fs.BoolVar(&verify, "email-verified", false, "vouch for the e-mail address: a provider sign-in with the same verified e-mail then links to this user")
	})
	if !ok {
		return code
	}
	if email == "" {
		fmt.Fprintln(stderr, "unilogin users create: --email is required")
		return exitUsage
	}
	password := ""
	if passwordStdin {
		var err error
		if password, err = readPassword(); err != nil {
			fmt.Fprintf(stderr, "unilogin users create: %v\n", err)
			return exitError
		}
	}
	env, code := openUsers(ctx, "create", path, stderr)
	if env == nil {
		return code
	}
	defer env.Close()
	req := accounts.CreateUserRequest{Email: email, Password: password, Name: name, EmailVerified: verify}
	if len(roles) > 0 {
		req.Roles = roles
	}
	u, err := env.admin.CreateUser(ctx, env.actor, req)
	if err != nil {
		return fail(stderr, "create", err)
	}
	fmt.Fprintf(stdout, "created user %s (%s) with roles: %s\n", u.ID, u.Email, rolesText(u.Roles))
	if !u.HasPassword() && !u.EmailVerified {
		fmt.Fprintln(stderr, "note: this user has no password and an unverified e-mail, so it cannot sign in yet: "+
			"provider sign-ins link only to verified addresses (use --email-verified to vouch for it)")
	}
	return exitOK
}

func usersList(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var (
		email  string
		limit  int
		asJSON bool
	)
	path, code, ok := usersFlags("list", "[--email SUBSTRING] [--limit N] [--json]", args, stdout, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "only users whose e-mail contains this (case-insensitive)")
		fs.IntVar(&limit, "limit", 100, "list at most this many users")
		fs.BoolVar(&asJSON, "json", false, "print the users as a JSON array")
	})
	if !ok {
		return code
	}
	if limit < 1 {
		fmt.Fprintln(stderr, "unilogin users list: --limit must be at least 1")
		return exitUsage
	}
	env, code := openUsers(ctx, "list", path, stderr)
	if env == nil {
		return code
	}
	defer env.Close()

	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	if !asJSON {
		fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tROLES\tSTATUS\tPASSWORD\tCREATED")
	}
	list := []userJSON{}
	cursor, listed := "", 0
	for listed < limit {
		users, next, err := env.admin.ListUsers(ctx, cursor, min(limit-listed, 200), email)
		if err != nil {
			return fail(stderr, "list", err)
		}
		for _, u := range users {
			if asJSON {
				list = append(list, userJSON{ID: u.ID, Email: u.Email, EmailVerified: u.EmailVerified, Name: u.Name,
					Roles: append([]string{}, u.Roles...), Disabled: u.Disabled, HasPassword: u.HasPassword(), CreatedAt: *jsonTime(u.CreatedAt)})
				continue
			}
			status := "active"
			if u.Disabled {
				status = "disabled"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.ID, dash(u.Email), dash(u.Name), rolesText(u.Roles),
				status, yesNo(u.HasPassword()), ts(u.CreatedAt))
		}
		listed += len(users)
		if cursor = next; cursor == "" {
			break
		}
	}
	tw.Flush()
	if cursor != "" {
		fmt.Fprintf(stderr, "(more users follow: raise --limit above %d)\n", limit)
	}
	if asJSON {
		return writeJSON(stdout, stderr, list)
	}
	return exitOK
}

// userJSON is one user in `users list --json`.
type userJSON struct {
	ID            string   `json:"id"`
	Email         string   `json:"email,omitempty"`
	EmailVerified bool     `json:"email_verified"`
	Name          string   `json:"name,omitempty"`
	Roles         []string `json:"roles"`
	Disabled      bool     `json:"disabled"`
	HasPassword   bool     `json:"has_password"`
	CreatedAt     string   `json:"created_at"`
}

// target reads --id or --email: exactly one.
func target(fs *flag.FlagSet, id, email *string) {
	fs.StringVar(id, "id", "", "the user's id")
	fs.StringVar(email, "email", "", "the user's e-mail address (case-insensitive)")
}

// findUser resolves --id or --email; it prints usage problems itself.
func (u *usersEnv) findUser(ctx context.Context, id, email string) (*accounts.User, error) {
	if id != "" {
		return u.core.Accounts.Get(ctx, id)
	}
	return u.core.Accounts.GetByEmail(ctx, email)
}

func oneTarget(name, id, email string, stderr io.Writer) bool {
	if (id == "") == (email == "") {
		fmt.Fprintf(stderr, "unilogin users %s: give exactly one of --id and --email\n", name)
		return false
	}
	return true
}

func usersSetRoles(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var (
		roles stringList
		none  bool
	)
	env, u, code := targetUser(ctx, "set-roles", args, stdout, stderr, "(--role R... | --no-roles)", func(fs *flag.FlagSet) {
		fs.Var(&roles, "role", "a `ROLE` (repeatable); the user's roles become exactly these")
		fs.BoolVar(&none, "no-roles", false, "remove every role")
	}, func() bool {
		if (len(roles) == 0) == !none {
			fmt.Fprintln(stderr, "unilogin users set-roles: give --role (one or more) or --no-roles")
			return false
		}
		return true
	})
	if env == nil {
		return code
	}
	defer env.Close()
	u, err := env.admin.SetRoles(ctx, env.actor, u.ID, []string(roles))
	if err != nil {
		return fail(stderr, "set-roles", err)
	}
	fmt.Fprintf(stdout, "user %s (%s) now has roles: %s (tokens carry them from their next refresh)\n", u.ID, dash(u.Email), rolesText(u.Roles))
	return exitOK
}

// targetUser parses a subcommand that names one user (--id or --email),
// opens the stores and finds the user. A nil env means it has answered:
// code is the exit code. The caller closes env. A subcommand with more
// flags passes their synopsis and define, and check (after the flags are
// parsed: false means it has printed why they are wrong); both may be nil.
func targetUser(ctx context.Context, sub string, args []string, stdout, stderr io.Writer,
	synopsis string, define func(*flag.FlagSet), check func() bool) (*usersEnv, *accounts.User, int) {
	var id, email string
	path, code, ok := usersFlags(sub, strings.TrimSpace("(--id ID | --email E) "+synopsis), args, stdout, stderr, func(fs *flag.FlagSet) {
		target(fs, &id, &email)
		if define != nil {
			define(fs)
		}
	})
	if !ok {
		return nil, nil, code
	}
	if !oneTarget(sub, id, email, stderr) || (check != nil && !check()) {
		return nil, nil, exitUsage
	}
	env, code := openUsers(ctx, sub, path, stderr)
	if env == nil {
		return nil, nil, code
	}
	u, err := env.findUser(ctx, id, email)
	if err != nil {
		env.Close()
		return nil, nil, fail(stderr, sub, err)
	}
	return env, u, exitOK
}

// userAction changes the user a subcommand names and says on stdout what
// it did.
type userAction func(ctx context.Context, env *usersEnv, u *accounts.User, stdout io.Writer) error

// userActions are the subcommands that change one user (--id or --email);
// the e-mail verbs are in users_recovery.go.
var userActions = map[string]userAction{
	"disable": func(ctx context.Context, env *usersEnv, u *accounts.User, stdout io.Writer) error {
		_, n, err := env.admin.Disable(ctx, env.actor, u.ID)
		return report(stdout, err, "disabled user %s (%s); ended %d session(s)\n", u.ID, dash(u.Email), n)
	},
	"enable": func(ctx context.Context, env *usersEnv, u *accounts.User, stdout io.Writer) error {
		_, err := env.admin.Enable(ctx, env.actor, u.ID)
		return report(stdout, err, "enabled user %s (%s)\n", u.ID, dash(u.Email))
	},
	"delete": func(ctx context.Context, env *usersEnv, u *accounts.User, stdout io.Writer) error {
		err := env.admin.Delete(ctx, env.actor, u.ID)
		return report(stdout, err, "deleted user %s (%s) with its identities and sessions\n", u.ID, dash(u.Email))
	},
	"reset-mfa": func(ctx context.Context, env *usersEnv, u *accounts.User, stdout io.Writer) error {
		err := env.core.MFA.Reset(ctx, env.actor, u.ID)
		return report(stdout, err, "removed the second factors of user %s (%s); it signs in with its password or provider alone\n", u.ID, dash(u.Email))
	},
	"resend-verification": resendVerification,
	"mark-verified":       markVerified,
	"send-reset":          sendReset,
}

// report prints what an action did unless it failed, and returns err.
func report(stdout io.Writer, err error, format string, args ...any) error {
	if err == nil {
		fmt.Fprintf(stdout, format, args...)
	}
	return err
}

// usersChange runs act, the userActions entry of sub, on the user args
// name.
func usersChange(ctx context.Context, sub string, act userAction, args []string, stdout, stderr io.Writer) int {
	env, u, code := targetUser(ctx, sub, args, stdout, stderr, "", nil, nil)
	if env == nil {
		return code
	}
	defer env.Close()
	if err := act(ctx, env, u, stdout); err != nil {
		return fail(stderr, sub, err)
	}
	return exitOK
}

func rolesText(roles []string) string {
	if len(roles) == 0 {
		return "-"
	}
	return strings.Join(roles, ",")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
