package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"
)

func cmdKeys(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "new-encryption-key" {
		return cmdNewEncryptionKey(args[1:], stdout, stderr)
	}
	if len(args) == 0 || (args[0] != "list" && args[0] != "rotate") {
		fmt.Fprintln(stderr, "usage: unilogin keys list|rotate [--config FILE] | unilogin keys new-encryption-key")
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
	c, err := openCore(ctx, cfg, newLogger(cfg, os.Stderr))
	if err != nil {
		fmt.Fprintf(stderr, "unilogin keys: %v\n", err)
		return exitError
	}
	defer c.Close(context.Background())
	if sub == "rotate" {
		*c.rotatedBy = cliActor()
		k, err := c.keyring.Rotate(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "unilogin keys rotate: %v\n", err)
			return exitError
		}
		fmt.Fprintf(stdout, "new key %s (%s) published now; it signs from %s\n", k.ID, k.Algorithm, k.ActiveAt.Format(time.RFC3339))
	}
	keys, err := c.keyring.Keys(ctx)
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

// cmdNewEncryptionKey prints a fresh key-encryption key: 32 random bytes
// in standard base64, the form keys.encryption_key and
// UNILOGIN_KEY_ENCRYPTION_KEY take. It reads no configuration and writes
// nothing else.
func cmdNewEncryptionKey(args []string, stdout, stderr io.Writer) int {
	if len(args) != 0 {
		fmt.Fprintln(stderr, "usage: unilogin keys new-encryption-key (prints a key for UNILOGIN_KEY_ENCRYPTION_KEY)")
		return exitUsage
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		fmt.Fprintf(stderr, "unilogin keys new-encryption-key: %v\n", err)
		return exitError
	}
	fmt.Fprintln(stdout, base64.StdEncoding.EncodeToString(key))
	return exitOK
}

func ts(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
