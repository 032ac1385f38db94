package sqlitestore_test

import (
	"path/filepath"
	"testing"

	"github.com/unilogin/unilogin/accounts"
)

// v2Schema is the accounts schema at version 2, as files written by
// earlier releases have it.
var v2Schema = []string{
	`CREATE TABLE schema_migrations (component TEXT NOT NULL PRIMARY KEY, version INTEGER NOT NULL)`,
	`INSERT INTO schema_migrations VALUES ('accounts', 2)`,
	`CREATE TABLE users (
		id TEXT NOT NULL PRIMARY KEY, email TEXT NOT NULL DEFAULT '', email_key TEXT UNIQUE,
		email_verified INTEGER NOT NULL DEFAULT 0, name TEXT NOT NULL DEFAULT '',
		password_hash TEXT NOT NULL DEFAULT '', roles TEXT NOT NULL DEFAULT '[]',
		disabled INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)`,
	`CREATE TABLE identities (
		provider TEXT NOT NULL, subject TEXT NOT NULL,
		user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
		email TEXT NOT NULL DEFAULT '', linked_at INTEGER NOT NULL, PRIMARY KEY (provider, subject))`,
	`CREATE INDEX identities_user_id ON identities (user_id)`,
	`CREATE TABLE audit_events (id TEXT NOT NULL PRIMARY KEY, time INTEGER NOT NULL, actor TEXT NOT NULL,
		action TEXT NOT NULL, target TEXT NOT NULL DEFAULT '', details TEXT NOT NULL DEFAULT '{}', ip TEXT NOT NULL DEFAULT '')`,
}

// TestUpgradeDuplicateIdentities: a version-2 file in which a race gave a
// user two identities at one provider opens; the earliest linked stays, and
// from then on the user cannot get a second one.
func TestUpgradeDuplicateIdentities(t *testing.T) {
	ctx := t.Context()
	db := openDB(t, filepath.Join(t.TempDir(), "unilogin.db"), 1)
	for _, stmt := range append(v2Schema,
		`INSERT INTO users (id, created_at, updated_at) VALUES ('u1', 1, 1)`,
		`INSERT INTO identities VALUES ('github', 'late', 'u1', '', 2000)`,
		`INSERT INTO identities VALUES ('github', 'early', 'u1', '', 1000)`,
		`INSERT INTO identities VALUES ('google', 'g', 'u1', '', 3000)`,
	) {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	s := newStore(t, db)
	ids, err := s.ListIdentities(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, id := range ids {
		got = append(got, id.Provider+"/"+id.Subject)
	}
	if len(got) != 2 || got[0] != "github/early" || got[1] != "google/g" {
		t.Errorf("identities after the upgrade = %v, want [github/early google/g]", got)
	}
	if err := s.LinkIdentity(ctx, &accounts.Identity{Provider: "github", Subject: "third", UserID: "u1"}); err != accounts.ErrAccountExists {
		t.Errorf("LinkIdentity(second github) after the upgrade: err = %v, want ErrAccountExists", err)
	}
}

// TestUpgradeEmailKeys: keys written by strings.ToLower before version 4
// are recomputed, so every stored address still matches itself (and its
// ASCII-case and A-label variants), and the Unicode-folded form no longer
// matches.
func TestUpgradeEmailKeys(t *testing.T) {
	ctx := t.Context()
	db := openDB(t, filepath.Join(t.TempDir(), "unilogin.db"), 1)
	for _, stmt := range append(v2Schema,
		`INSERT INTO users (id, email, email_key, created_at, updated_at) VALUES ('ascii', 'Bob@Example.com', 'bob@example.com', 1, 1)`,
		`INSERT INTO users (id, email, email_key, created_at, updated_at) VALUES ('idn', 'Élodie@Bücher.example', 'élodie@bücher.example', 1, 1)`,
		`INSERT INTO users (id, email, email_key, created_at, updated_at) VALUES ('kelvin', char(8490) || 'kelvin@example.com', 'kkelvin@example.com', 1, 1)`, // U+212A KELVIN SIGN
	) {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	s := newStore(t, db)
	for email, want := range map[string]string{
		"bob@example.com":              "ascii",
		"Élodie@Bücher.example":        "idn",
		"Élodie@xn--bcher-kva.example": "idn",
		"\u212Akelvin@example.com":     "kelvin",
		"élodie@bücher.example":        "",
		"kkelvin@example.com":          "",
	} {
		u, err := s.GetUserByEmail(ctx, email)
		switch {
		case want == "" && err != accounts.ErrNotFound:
			t.Errorf("GetUserByEmail(%q) = %v, %v; want ErrNotFound", email, u, err)
		case want != "" && (err != nil || u.ID != want):
			t.Errorf("GetUserByEmail(%q) = %v, %v; want %s", email, u, err, want)
		}
	}
}
