package sqlitedb

import (
	"context"
	"encoding/json"
	"strings"
)

// Helpers for the hot paths of the stores (bearer checks, refreshes).

// PointReadContext is the context of a hot point read on a store's reader.
// On a separate read pool (OpenRead) such a read waits for no lock (WAL
// mode) and takes microseconds, so there is nothing for a cancellation to
// interrupt, while a cancellable context costs the driver a watcher
// goroutine per query: with separate true the read runs without one (the
// caller's deadline still bounds the wait for a connection slot in the
// server's database guard). On the single writer connection a read may
// wait for a transaction and keeps ctx.
func PointReadContext(ctx context.Context, separate bool) context.Context {
	if separate {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// DecodeStrings decodes a JSON array of strings as the stores keep lists
// in a TEXT column (roles, authentication methods): nil for an empty
// array. Such a list is read on every bearer check and refresh, so the
// common form, plain strings without escapes, is split directly; anything
// else goes through encoding/json.
func DecodeStrings(s string) ([]string, error) {
	if s == "[]" {
		return nil, nil
	}
	if v, ok := splitPlain(s); ok {
		return v, nil
	}
	var v []string
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, err
	}
	if len(v) == 0 {
		return nil, nil
	}
	return v, nil
}

// splitPlain decodes `["a","b"]` exactly as encoding/json.Marshal writes
// it, when no element holds a backslash or a control character; ok false
// for any other input.
func splitPlain(s string) (_ []string, ok bool) {
	if len(s) < 4 || s[0] != '[' || s[1] != '"' || s[len(s)-2] != '"' || s[len(s)-1] != ']' {
		return nil, false
	}
	body := s[2 : len(s)-2]
	for i := 0; i < len(body); i++ {
		if c := body[i]; c == '\\' || c < 0x20 {
			return nil, false
		}
	}
	v := strings.Split(body, `","`)
	for _, e := range v {
		if strings.IndexByte(e, '"') >= 0 {
			return nil, false // e.g. `["a", "b"]` with a space: not Marshal's form
		}
	}
	return v, true
}
