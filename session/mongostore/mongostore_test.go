package mongostore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/unilogin/unilogin/session"
	"github.com/unilogin/unilogin/session/mongostore"
	"github.com/unilogin/unilogin/session/sessiontest"
)

// quietLogger drops FerretDB's chatter (including its warning about the
// driver's endSessions, which it does not implement) but keeps errors such as
// a recovered panic, which would otherwise only show up as a closed
// connection.
var quietLogger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))

// startFerretDB runs an embedded FerretDB (SQLite handler, in a temp dir)
// for the duration of the test and returns its MongoDB URI.
func startFerretDB(t *testing.T) string {
	t.Helper()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: "file:" + t.TempDir() + "/", // must end in "/"; mode=memory deadlocks
		Logger:    quietLogger,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return f.MongoDBURI() // waits until it listens
}

// connect returns a client for uri, disconnected when the test ends.
func connect(t *testing.T, uri string) *mongo.Client {
	t.Helper()
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetTimeout(30 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	if err := client.Ping(t.Context(), nil); err != nil {
		t.Fatalf("ping %s: %v", uri, err)
	}
	return client
}

// ferretDBVersion returns FerretDB's version, or "" for another server
// (FerretDB claims a MongoDB version but adds ferretdbVersion to buildInfo).
func ferretDBVersion(t *testing.T, client *mongo.Client) string {
	t.Helper()
	var info struct {
		Version         string `bson:"version"`
		FerretDBVersion string `bson:"ferretdbVersion"`
	}
	if err := client.Database("admin").RunCommand(t.Context(), bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		t.Fatal(err)
	}
	if info.FerretDBVersion != "" {
		t.Logf("server: FerretDB %s (claims MongoDB %s)", info.FerretDBVersion, info.Version)
	} else {
		t.Logf("server: MongoDB %s", info.Version)
	}
	return info.FerretDBVersion
}

// freshDB returns a database of its own for one test, dropped afterwards.
func freshDB(t *testing.T, client *mongo.Client) *mongo.Database {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	db := client.Database("unilogin_test_" + hex.EncodeToString(b))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := db.Drop(ctx); err != nil {
			t.Errorf("drop %s: %v", db.Name(), err)
		}
	})
	return db
}

func newStore(t *testing.T, client *mongo.Client) *mongostore.Store {
	t.Helper()
	s, err := mongostore.New(t.Context(), freshDB(t, client))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// servers returns the servers to test against: the embedded FerretDB
// always, and a real MongoDB when UNILOGIN_TEST_MONGODB_URI is set.
func servers(t *testing.T) map[string]*mongo.Client {
	m := map[string]*mongo.Client{}
	ferret := connect(t, startFerretDB(t))
	if ferretDBVersion(t, ferret) == "" {
		t.Fatal("the embedded server does not report ferretdbVersion")
	}
	m["FerretDB"] = ferret
	if uri := os.Getenv("UNILOGIN_TEST_MONGODB_URI"); uri != "" {
		mdb := connect(t, uri)
		ferretDBVersion(t, mdb)
		m["MongoDB"] = mdb
	}
	return m
}

func TestConformance(t *testing.T) {
	for name, client := range servers(t) {
		t.Run(name, func(t *testing.T) {
			sessiontest.Run(t, func(t *testing.T) session.Store { return newStore(t, client) })
		})
	}
}

// New can run again on an existing database (every start-up does), and the
// helper indexes exist.
func TestNewIdempotent(t *testing.T) {
	for name, client := range servers(t) {
		t.Run(name, func(t *testing.T) {
			db := freshDB(t, client)
			for range 2 {
				if _, err := mongostore.New(t.Context(), db); err != nil {
					t.Fatal(err)
				}
			}
			for coll, want := range map[string][]string{
				"sessions":       {"user_id_created_at", "expires_at"},
				"refresh_tokens": {"session_id", "expires_at"},
				"auth_codes":     {"expires_at"},
				"claims":         {"expires_at"},
			} {
				specs, err := db.Collection(coll).Indexes().ListSpecifications(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				have := map[string]bool{}
				for _, s := range specs {
					have[s.Name] = true
				}
				for _, name := range want {
					if !have[name] {
						t.Errorf("%s: index %q missing (have %v)", coll, name, have)
					}
				}
			}
		})
	}
}

// Hashes are stored as binary _id, so the hot lookups are by _id (the only
// index FerretDB v1 uses).
func TestRefreshStoredByBinaryID(t *testing.T) {
	client := connect(t, startFerretDB(t))
	db := freshDB(t, client)
	s, err := mongostore.New(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	hash := []byte{0xde, 0xad, 0xbe, 0xef}
	if err := s.CreateRefresh(t.Context(), &session.RefreshToken{
		Hash: hash, SessionID: "s", UserID: "u", CreatedAt: now, ExpiresAt: now.Add(time.Hour),
	}); err != nil {
		t.Fatal(err)
	}
	var raw bson.Raw
	if err := db.Collection("refresh_tokens").FindOne(t.Context(), bson.D{}).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	subtype, data, ok := raw.Lookup("_id").BinaryOK()
	if !ok || subtype != 0 || string(data) != string(hash) {
		t.Errorf("_id = %v, want binary %x", raw.Lookup("_id"), hash)
	}
	if _, err := s.GetRefresh(t.Context(), hash); err != nil {
		t.Error(err)
	}
	if _, err := s.GetRefresh(t.Context(), hash[:2]); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("GetRefresh(prefix) = %v, want ErrNotFound", err)
	}
}
