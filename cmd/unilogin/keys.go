package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/unilogin/unilogin/api/server"
)

func cmdKeys(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "list" && args[0] != "rotate") {
		fmt.Fprintln(stderr, "usage: unilogin keys list|rotate [--config FILE]")
		return exitUsage
	}
	sub := args[0]
	path, code, ok := commonFlags("keys "+sub, args[1:], stdout, stderr, nil)
	if !ok {
		return code
	}
	cfg, ok := loadConfig(path, stderr)
	if !ok {
		return exitConfig
	}
	c, err := server.Open(ctx, cfg, server.Options{Logger: newLogger(cfg, os.Stderr)})
	if err != nil {
		fmt.Fprintf(stderr, "unilogin keys: %v\n", err)
		return exitError
	}
	defer c.Close(context.Background())
	if sub == "rotate" {
		k, err := c.Rotate(ctx, cliActor())
		if err != nil {
			fmt.Fprintf(stderr, "unilogin keys rotate: %v\n", err)
			return exitError
		}
		fmt.Fprintf(stdout, "new key %s (%s) published now; it signs from %s\n", k.ID, k.Algorithm, k.ActiveAt.Format(time.RFC3339))
	}
	keys, err := c.Keyring.Keys(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "unilogin keys: %v\n", err)
		return exitError
	}
	now := time.Now()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KID\tALG\tSTATE\tCREATED\tSIGNS FROM\tRETIRES\tUNPUBLISHED AFTER")
	for _, k := range keys {
		state := "signing"
		switch {
		case now.Before(k.ActiveAt):
			state = "published, not yet signing"
		case !k.RetiredAt.IsZero() && !now.Before(k.RetiredAt):
			state = "retired, still published"
		case k.Algorithm != cfg.Tokens.Algorithm:
			state = "other algorithm"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Algorithm, state, ts(k.CreatedAt), ts(k.ActiveAt), ts(k.RetiredAt), ts(k.ExpiresAt))
	}
	tw.Flush()
	return exitOK
}

func ts(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
