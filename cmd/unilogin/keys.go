package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/unilogin/unilogin/api/server"
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
	var asJSON bool
	path, code, ok := commonFlags("keys "+sub, args[1:], stdout, stderr, func(fs *flag.FlagSet) {
		if sub == "list" {
			fs.BoolVar(&asJSON, "json", false, "print the keys as a JSON array")
		}
	})
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
	if asJSON {
		out := make([]keyJSON, 0, len(keys))
		for _, k := range keys {
			out = append(out, keyJSON{ID: k.ID, Algorithm: k.Algorithm, State: keyState(k.ActiveAt, k.RetiredAt, k.Algorithm, cfg.Tokens.Algorithm, now),
				CreatedAt: jsonTime(k.CreatedAt), ActiveAt: jsonTime(k.ActiveAt), RetiredAt: jsonTime(k.RetiredAt), ExpiresAt: jsonTime(k.ExpiresAt)})
		}
		return writeJSON(stdout, stderr, out)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KID\tALG\tSTATE\tCREATED\tSIGNS FROM\tRETIRES\tUNPUBLISHED AFTER")
	for _, k := range keys {
		state := keyState(k.ActiveAt, k.RetiredAt, k.Algorithm, cfg.Tokens.Algorithm, now)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Algorithm, state, ts(k.CreatedAt), ts(k.ActiveAt), ts(k.RetiredAt), ts(k.ExpiresAt))
	}
	tw.Flush()
	return exitOK
}

func keyState(activeAt, retiredAt time.Time, alg, configured string, now time.Time) string {
	switch {
	case now.Before(activeAt):
		return "published, not yet signing"
	case !retiredAt.IsZero() && !now.Before(retiredAt):
		return "retired, still published"
	case alg != configured:
		return "other algorithm"
	}
	return "signing"
}

// keyJSON is one key in `keys list --json`; times are RFC 3339 in UTC,
// absent when not set.
type keyJSON struct {
	ID        string  `json:"kid"`
	Algorithm string  `json:"alg"`
	State     string  `json:"state"`
	CreatedAt *string `json:"created_at,omitempty"`
	ActiveAt  *string `json:"signs_from,omitempty"`
	RetiredAt *string `json:"retires_at,omitempty"`
	ExpiresAt *string `json:"unpublished_after,omitempty"`
}

func jsonTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}

// writeJSON prints v as indented JSON.
func writeJSON(stdout, stderr io.Writer, v any) int {
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(stderr, "unilogin: write JSON: %v\n", err)
		return exitError
	}
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
