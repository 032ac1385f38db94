// Command unilogin is the unilogin server and its operator CLI.
//
//	unilogin serve              run the server
//	unilogin config check       validate the configuration
//	unilogin keys list|rotate   inspect or rotate signing keys
//	unilogin users ...          create, list, change and delete users
//	unilogin bench              load-test the standard workloads
//	unilogin healthcheck        probe the local server's /healthz (container HEALTHCHECK)
//	unilogin version            print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/unilogin/unilogin/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// exit codes
const (
	exitOK     = 0
	exitError  = 1
	exitUsage  = 2
	exitConfig = 3
)

const usage = `unilogin: federated login service

Usage:
  unilogin serve [--config FILE]          run the server
  unilogin config check [--config FILE]   validate the configuration and print every problem
  unilogin keys list [--config FILE] [--json]
                                          list the signing keys in the store
  unilogin keys rotate [--config FILE]    add a new signing key (published now, signs after keys.pre_publish)
  unilogin keys new-encryption-key        print a fresh key for UNILOGIN_KEY_ENCRYPTION_KEY
  unilogin users create|list|set-roles|disable|enable|delete [flags]
                                          manage users ("unilogin users --help"; docs/admin.md)
  unilogin bench [--duration 10s] [--concurrency N] [--bcrypt-cost 10] [--url URL] [--json]
                                          load-test the standard workloads (docs/operations.md)
  unilogin healthcheck [--url URL]        exit 0 when the local server's /healthz answers 200
  unilogin version (or --version, -v)     print the version, VCS revision and Go version

The configuration file may also be given with UNILOGIN_CONFIG; environment
variables override it (see docs/configuration.md). Run "unilogin COMMAND --help"
for a command's flags.
`

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches a command line and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	help := helpCommand(usage)
	printVersion := func(_ context.Context, _ []string, stdout, _ io.Writer) int { return cmdVersion(stdout) }
	return dispatch(ctx, "unilogin", usage, map[string]command{
		"serve":       cmdServe,
		"config":      cmdConfig,
		"keys":        cmdKeys,
		"users":       cmdUsers,
		"bench":       cmdBench,
		"healthcheck": cmdHealthcheck,
		"version":     printVersion, "--version": printVersion, "-v": printVersion,
		"help": help, "-h": help, "--help": help,
	}, args, stdout, stderr)
}

// command is one (sub)command: it gets the arguments after its name and
// returns the exit code.
type command func(ctx context.Context, args []string, stdout, stderr io.Writer) int

// dispatch runs the command of cmds that args[0] names. Without arguments
// it prints usage to stderr; an unknown name is an error naming it, then
// usage. Both exit with exitUsage. name prefixes the error.
func dispatch(ctx context.Context, name, usage string, cmds map[string]command, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		io.WriteString(stderr, usage)
		return exitUsage
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "%s: unknown command %q\n\n%s", name, args[0], usage)
		return exitUsage
	}
	return cmd(ctx, args[1:], stdout, stderr)
}

// helpCommand is a command that prints usage to stdout.
func helpCommand(usage string) command {
	return func(_ context.Context, _ []string, stdout, _ io.Writer) int {
		io.WriteString(stdout, usage)
		return exitOK
	}
}

// commonFlags parses --config for a command; it returns ok=false (and the
// exit code) when parsing ended the command (error or --help).
func commonFlags(name string, args []string, stdout, stderr io.Writer, extra func(*flag.FlagSet)) (path string, code int, ok bool) {
	return parseFlags(name, "[flags]", args, stdout, stderr, extra, false)
}

// parseFlags parses the flags define adds plus --config for the command
// name. The usage (synopsis, then the flags) goes to stdout for --help and
// to stderr after a bad flag, and also after unexpected arguments when
// usageOnArgs.
func parseFlags(name, synopsis string, args []string, stdout, stderr io.Writer, define func(*flag.FlagSet), usageOnArgs bool) (path string, code int, ok bool) {
	fs := flag.NewFlagSet("unilogin "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {} // printed once below: to stdout for --help, else to stderr
	fs.StringVar(&path, "config", "", "configuration file (YAML); default $UNILOGIN_CONFIG")
	if define != nil {
		define(fs)
	}
	usage := func(w io.Writer) {
		fmt.Fprintf(w, "usage: unilogin %s %s\n\nFlags:\n", name, synopsis)
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout)
			return "", exitOK, false
		}
		usage(stderr) // after the flag package's own message
		return "", exitUsage, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unilogin %s: unexpected arguments: %s\n", name, strings.Join(fs.Args(), " "))
		if usageOnArgs {
			usage(stderr)
		}
		return "", exitUsage, false
	}
	return config.PathFromEnv(path, os.Getenv), exitOK, true
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.Log.SlogLevel()}
	if cfg.Log.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// loadConfig loads and validates; every problem (file, environment,
// values) is printed to stderr at once.
func loadConfig(path string, stderr io.Writer) (*config.Config, bool) {
	cfg, problems := config.Check(path, os.Getenv, os.ReadFile)
	if len(problems) > 0 {
		fmt.Fprintf(stderr, "unilogin: the configuration has %d problem(s):\n", len(problems))
		for _, p := range problems {
			fmt.Fprintf(stderr, "  %s\n", p)
		}
		return nil, false
	}
	return cfg, true
}

// cmdConfig dispatches "unilogin config check".
func cmdConfig(_ context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprintln(stderr, "usage: unilogin config check [--config FILE]")
		return exitUsage
	}
	return cmdConfigCheck(args[1:], stdout, stderr)
}

func cmdConfigCheck(args []string, stdout, stderr io.Writer) int {
	path, code, ok := commonFlags("config check", args, stdout, stderr, nil)
	if !ok {
		return code
	}
	if _, ok := loadConfig(path, stderr); !ok {
		return exitConfig
	}
	src := "built-in defaults and environment"
	if path != "" {
		src = path
	}
	fmt.Fprintf(stdout, "configuration OK (%s)\n", src)
	return exitOK
}
