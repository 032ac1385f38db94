package mongostore_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/accountstest"
	"github.com/unilogin/unilogin/accounts/mongostore"
	"github.com/unilogin/unilogin/session/mongostore/mongotest"
)

// server is a MongoDB-compatible server that the tests run against: always
// FerretDB embedded in this test binary, and a real MongoDB as well when
// UNILOGIN_TEST_MONGODB_URI is set.
type server struct {
	name   string // subtest name
	client *mongo.Client
	ferret bool // answers buildInfo with ferretdbVersion
}

var servers []*server

func TestMain(m *testing.M) { os.Exit(runTests(m)) }

func runTests(m *testing.M) int {
	defer mongotest.Stop()
	started, err := mongotest.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mongostore tests:", err)
		return 1
	}
	for _, s := range started {
		servers = append(servers, &server{name: s.Name, client: s.Client, ferret: s.FerretDB})
	}
	return m.Run()
}

// newDB returns a database of its own for one test (a random name, so that
// runs sharing a server never meet), dropped at its end.
func (srv *server) newDB(t *testing.T) *mongo.Database { return mongotest.FreshDB(t, srv.client) }

func (srv *server) newStore(t *testing.T) (*mongostore.Store, *mongo.Database) {
	t.Helper()
	db := srv.newDB(t)
	s, err := mongostore.New(t.Context(), db)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s, db
}

// fresh is a factory of stores on new databases of srv for the
// conformance suites.
func fresh[S any](srv *server) func(t *testing.T) S {
	return func(t *testing.T) S {
		s, _ := srv.newStore(t)
		return any(s).(S)
	}
}

// eachServer runs f as a subtest per server.
func eachServer(t *testing.T, f func(t *testing.T, srv *server)) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) { f(t, srv) })
	}
}

func TestConformance(t *testing.T) {
	// Every subtest, the concurrent ones included, holds on FerretDB v1 as
	// well: the atomic steps are unique-key inserts and counted deleteOnes.
	eachServer(t, func(t *testing.T, srv *server) { accountstest.Run(t, fresh[accounts.Store](srv)) })
}

// TestEmbeddedServerIsFerretDB guards the premise of the tests above: the
// embedded server is FerretDB, the stricter of the two targets.
func TestEmbeddedServerIsFerretDB(t *testing.T) {
	if !servers[0].ferret {
		t.Fatal("the embedded server does not answer buildInfo with ferretdbVersion")
	}
	info, err := servers[0].client.Database("admin").RunCommand(t.Context(), bson.D{{Key: "buildInfo", Value: 1}}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	// The module zip lacks FerretDB's version file, so it reports "unknown".
	t.Logf("embedded server: FerretDB, ferretdbVersion %s", info.Lookup("ferretdbVersion"))
}

func TestNewIsIdempotent(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *server) {
		_, db := srv.newStore(t)
		if _, err := mongostore.New(t.Context(), db); err != nil {
			t.Fatalf("second New: %v", err)
		}
	})
}

// TestDocumentLayout checks the stored shape that the indexes and other
// tools rely on: no email_key without an e-mail (the sparse unique index),
// one claim per e-mail keyed by the normalized address, identities keyed
// by provider|subject.
func TestDocumentLayout(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *server) {
		ctx := t.Context()
		s, db := srv.newStore(t)
		for _, u := range []*accounts.User{{ID: "u1", Email: "Zoe@Example.com"}, {ID: "u2"}, {ID: "u3"}} {
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatalf("CreateUser(%s): %v", u.ID, err)
			}
		}
		if err := s.LinkIdentity(ctx, &accounts.Identity{Provider: "corp", Subject: "a|b", UserID: "u1"}); err != nil {
			t.Fatalf("LinkIdentity: %v", err)
		}

		raw, err := db.Collection("users").FindOne(ctx, bson.D{{Key: "_id", Value: "u2"}}).Raw()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.LookupErr("email_key"); err == nil {
			t.Errorf("user without e-mail has an email_key field: %s", raw)
		}
		raw, err = db.Collection("users").FindOne(ctx, bson.D{{Key: "_id", Value: "u1"}}).Raw()
		if err != nil {
			t.Fatal(err)
		}
		if got := raw.Lookup("email_key").StringValue(); got != "zoe@example.com" {
			t.Errorf("email_key = %q, want the normalized e-mail", got)
		}
		raw, err = db.Collection("user_emails").FindOne(ctx, bson.D{{Key: "_id", Value: "zoe@example.com"}}).Raw()
		if err != nil {
			t.Fatalf("e-mail claim: %v", err)
		}
		if got := raw.Lookup("user_id").StringValue(); got != "u1" {
			t.Errorf("claim's user_id = %q, want u1", got)
		}
		if err := db.Collection("identities").FindOne(ctx, bson.D{{Key: "_id", Value: "corp|a|b"}}).Err(); err != nil {
			t.Errorf("identity by _id corp|a|b: %v", err)
		}
	})
}

func TestStaleEmailClaim(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *server) {
		ctx := t.Context()
		s, db := srv.newStore(t)
		// Left by a CreateUser that died between its two inserts.
		insertClaim(t, db, "ghost@example.com", "ghost", time.Now().Add(-2*time.Minute))

		if _, err := s.GetUserByEmail(ctx, "Ghost@Example.com"); !errors.Is(err, accounts.ErrNotFound) {
			t.Errorf("GetUserByEmail(stale claim): err = %v, want ErrNotFound", err)
		}
		u := &accounts.User{ID: "real", Email: "GHOST@example.com"}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatalf("CreateUser over a stale claim: %v", err)
		}
		got, err := s.GetUserByEmail(ctx, "ghost@example.com")
		if err != nil || got.ID != "real" {
			t.Errorf("GetUserByEmail after reclaiming = %v, %v; want user real", got, err)
		}
	})
}

func TestPendingEmailClaim(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *server) {
		ctx := t.Context()
		s, db := srv.newStore(t)
		// A CreateUser in flight between its two inserts: the claim is young.
		insertClaim(t, db, "pending@example.com", "pending", time.Now())

		if _, err := s.GetUserByEmail(ctx, "pending@example.com"); !errors.Is(err, accounts.ErrNotFound) {
			t.Errorf("GetUserByEmail(pending claim): err = %v, want ErrNotFound", err)
		}
		if err := s.CreateUser(ctx, &accounts.User{ID: "other", Email: "pending@example.com"}); !errors.Is(err, accounts.ErrEmailTaken) {
			t.Errorf("CreateUser against a pending claim: err = %v, want ErrEmailTaken", err)
		}
		// The claim's owner completes.
		if _, err := db.Collection("users").InsertOne(ctx, bson.D{
			{Key: "_id", Value: "pending"}, {Key: "email", Value: "pending@example.com"}, {Key: "email_key", Value: "pending@example.com"},
			{Key: "roles", Value: bson.A{}}, {Key: "created_at", Value: time.Now()}, {Key: "updated_at", Value: time.Now()},
		}); err != nil {
			t.Fatal(err)
		}
		if got, err := s.GetUserByEmail(ctx, "pending@example.com"); err != nil || got.ID != "pending" {
			t.Errorf("GetUserByEmail after completion = %v, %v; want user pending", got, err)
		}
	})
}

// TestOldClaimOfLiveUser checks that age alone does not make a claim stale.
func TestOldClaimOfLiveUser(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *server) {
		ctx := t.Context()
		s, db := srv.newStore(t)
		if err := s.CreateUser(ctx, &accounts.User{ID: "old", Email: "old@example.com"}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Collection("user_emails").UpdateOne(ctx, bson.D{{Key: "_id", Value: "old@example.com"}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "created_at", Value: time.Now().Add(-24 * time.Hour)}}}}); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateUser(ctx, &accounts.User{ID: "new", Email: "old@example.com"}); !errors.Is(err, accounts.ErrEmailTaken) {
			t.Errorf("CreateUser against an old claim of a live user: err = %v, want ErrEmailTaken", err)
		}
	})
}

// TestOrphanIdentity: an identity whose user is gone (a crash inside
// DeleteUser or LinkIdentity) does not block linking it again.
func TestOrphanIdentity(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *server) {
		ctx := t.Context()
		s, db := srv.newStore(t)
		if _, err := db.Collection("identities").InsertOne(ctx, bson.D{
			{Key: "_id", Value: "google|42"}, {Key: "provider", Value: "google"}, {Key: "subject", Value: "42"},
			{Key: "user_id", Value: "gone"}, {Key: "email", Value: ""}, {Key: "linked_at", Value: time.Now()},
		}); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateUser(ctx, &accounts.User{ID: "alive"}); err != nil {
			t.Fatal(err)
		}
		if err := s.LinkIdentity(ctx, &accounts.Identity{Provider: "google", Subject: "42", UserID: "alive"}); err != nil {
			t.Fatalf("LinkIdentity over an orphan: %v", err)
		}
		if id, err := s.GetIdentity(ctx, "google", "42"); err != nil || id.UserID != "alive" {
			t.Errorf("GetIdentity = %v, %v; want user alive", id, err)
		}
	})
}

func TestProviderWithSeparator(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *server) {
		ctx := t.Context()
		s, _ := srv.newStore(t)
		if err := s.CreateUser(ctx, &accounts.User{ID: "u"}); err != nil {
			t.Fatal(err)
		}
		err := s.LinkIdentity(ctx, &accounts.Identity{Provider: "a|b", Subject: "c", UserID: "u"})
		if err == nil || !strings.Contains(err.Error(), "|") {
			t.Errorf("LinkIdentity(provider with |): err = %v, want a refusal", err)
		}
		if _, err := s.GetIdentity(ctx, "a|b", "c"); !errors.Is(err, accounts.ErrNotFound) {
			t.Errorf("GetIdentity(provider with |): err = %v, want ErrNotFound", err)
		}
	})
}

func insertClaim(t *testing.T, db *mongo.Database, key, userID string, created time.Time) {
	t.Helper()
	if _, err := db.Collection("user_emails").InsertOne(t.Context(), bson.D{
		{Key: "_id", Value: key}, {Key: "user_id", Value: userID}, {Key: "created_at", Value: created},
	}); err != nil {
		t.Fatalf("insert claim: %v", err)
	}
}

// TestUpgradeDuplicateIdentities: identities of an older version in which a
// race gave a user two at one provider do not stop New from creating the
// unique (user_id, provider) index: the earliest linked stays.
func TestUpgradeDuplicateIdentities(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *server) {
		ctx := t.Context()
		db := srv.newDB(t)
		if _, err := db.Collection("users").InsertOne(ctx, bson.D{{Key: "_id", Value: "u1"}, {Key: "roles", Value: bson.A{}}}); err != nil {
			t.Fatal(err)
		}
		for i, sub := range []string{"late", "early", "other"} {
			provider, at := "github", time.UnixMilli(int64(2000-1000*i))
			if sub == "other" {
				provider = "google"
			}
			if _, err := db.Collection("identities").InsertOne(ctx, bson.D{
				{Key: "_id", Value: provider + "|" + sub}, {Key: "provider", Value: provider}, {Key: "subject", Value: sub},
				{Key: "user_id", Value: "u1"}, {Key: "email", Value: ""}, {Key: "linked_at", Value: at},
			}); err != nil {
				t.Fatal(err)
			}
		}
		s, err := mongostore.New(ctx, db)
		if err != nil {
			t.Fatalf("New over duplicates: %v", err)
		}
		ids, err := s.ListIdentities(ctx, "u1")
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) != 2 || ids[0].Subject != "early" || ids[1].Provider != "google" {
			t.Errorf("identities after New = %+v, want github/early and google/other", ids)
		}
		if err := s.LinkIdentity(ctx, &accounts.Identity{Provider: "github", Subject: "third", UserID: "u1"}); !errors.Is(err, accounts.ErrAccountExists) {
			t.Errorf("LinkIdentity(second github): err = %v, want ErrAccountExists", err)
		}
	})
}

// TestUpgradeEmailKeys: keys that older versions wrote with
// strings.ToLower are moved to the new format by New, so every stored
// address still matches itself, and the Unicode-folded form no longer does.
func TestUpgradeEmailKeys(t *testing.T) {
	eachServer(t, func(t *testing.T, srv *server) {
		ctx := t.Context()
		db := srv.newDB(t)
		for id, email := range map[string]string{"ascii": "Bob@Example.com", "idn": "\u00c9lodie@B\u00fccher.example", "kelvin": "\u212Akelvin@example.com"} {
			old := strings.ToLower(email)
			if _, err := db.Collection("users").InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "email", Value: email},
				{Key: "email_key", Value: old}, {Key: "roles", Value: bson.A{}}}); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Collection("user_emails").InsertOne(ctx, bson.D{{Key: "_id", Value: old}, {Key: "user_id", Value: id},
				{Key: "created_at", Value: time.Now()}}); err != nil {
				t.Fatal(err)
			}
		}
		s, err := mongostore.New(ctx, db)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		if _, err := mongostore.New(ctx, db); err != nil {
			t.Fatalf("New again: %v", err)
		}
		for email, want := range map[string]string{
			"bob@example.com":                   "ascii",
			"\u00c9lodie@B\u00fccher.example":   "idn",
			"\u00c9lodie@xn--bcher-kva.example": "idn",
			"\u212Akelvin@example.com":          "kelvin",
			"\u00e9lodie@b\u00fccher.example":   "",
			"kkelvin@example.com":               "",
		} {
			u, err := s.GetUserByEmail(ctx, email)
			switch {
			case want == "" && !errors.Is(err, accounts.ErrNotFound):
				t.Errorf("GetUserByEmail(%q) = %v, %v; want ErrNotFound", email, u, err)
			case want != "" && (err != nil || u.ID != want):
				t.Errorf("GetUserByEmail(%q) = %v, %v; want %s", email, u, err, want)
			}
		}
		// The old claims are gone: the folded form is free to sign up with.
		if err := s.CreateUser(ctx, &accounts.User{ID: "new", Email: "kkelvin@example.com"}); err != nil {
			t.Errorf("CreateUser(kkelvin@example.com) after the upgrade: %v", err)
		}
	})
}
