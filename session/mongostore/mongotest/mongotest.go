// Package mongotest gives tests a MongoDB-compatible server: FerretDB v1
// (SQLite handler, in a temporary directory) embedded in the test binary,
// and also a real MongoDB whenever UNILOGIN_TEST_MONGODB_URI is set.
//
// Only tests import this package, so FerretDB is never linked into the
// unilogin binary (check: go list -deps ./cmd/unilogin | grep -i ferret).
package mongotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// EnvURI names the variable with a real MongoDB URI to test against too.
const EnvURI = "UNILOGIN_TEST_MONGODB_URI"

// quietLogger drops FerretDB's chatter (including its warning about the
// driver's endSessions, which it does not implement) but keeps errors such
// as a recovered panic, which would otherwise only show as a closed connection.
var quietLogger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))

// StartFerretDB runs an embedded FerretDB until stop is called and returns
// its MongoDB URI.
func StartFerretDB(dir string) (uri string, stop func(), err error) {
	return StartFerretDBOn(dir, "127.0.0.1:0")
}

// StartFerretDBOn is StartFerretDB listening on addr (host:port). Fault
// tests stop it and start it again on the same directory and address: the
// data is kept, and clients reconnect to the same URI.
func StartFerretDBOn(dir, addr string) (uri string, stop func(), err error) {
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: addr},
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/", // must end in "/"; mode=memory deadlocks
		Logger:    quietLogger,
	})
	if err != nil {
		return "", nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(ctx)
	}()
	return f.MongoDBURI(), func() { cancel(); <-done }, nil
}

// Server is one server under test.
type Server struct {
	Name     string // "FerretDB" or "MongoDB"
	Client   *mongo.Client
	FerretDB bool
}

var (
	shared     []Server
	sharedErr  error
	sharedOnce sync.Once
	sharedStop []func()
)

// Servers returns the servers for this test binary, started once and shared
// by every test (each test takes its own database with FreshDB): the
// embedded FerretDB always, and a real MongoDB when UNILOGIN_TEST_MONGODB_URI
// is set. Call Stop from TestMain to shut them down.
func Servers(t testing.TB) []Server {
	t.Helper()
	ss, err := Start()
	if err != nil {
		t.Fatalf("mongotest: %v", err)
	}
	return ss
}

// Start is Servers for a TestMain: it starts the shared servers once.
func Start() ([]Server, error) {
	sharedOnce.Do(func() { shared, sharedErr = startShared() })
	return shared, sharedErr
}

func startShared() ([]Server, error) {
	dir, err := os.MkdirTemp("", "unilogin-ferretdb-")
	if err != nil {
		return nil, err
	}
	uri, stop, err := StartFerretDB(dir)
	if err != nil {
		return nil, err
	}
	sharedStop = append(sharedStop, stop, func() { os.RemoveAll(dir) })
	ferret, err := Connect(uri)
	if err != nil {
		return nil, err
	}
	if v, err := FerretDBVersion(ferret); err != nil || v == "" {
		return nil, fmt.Errorf("the embedded server does not report ferretdbVersion (%v)", err)
	}
	out := []Server{{Name: "FerretDB", Client: ferret, FerretDB: true}}
	if uri := os.Getenv(EnvURI); uri != "" {
		c, err := Connect(uri)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvURI, err)
		}
		out = append(out, Server{Name: "MongoDB", Client: c})
	}
	return out, nil
}

// Stop disconnects and stops the shared servers.
func Stop() {
	for _, s := range shared {
		_ = s.Client.Disconnect(context.Background())
	}
	for i := len(sharedStop) - 1; i >= 0; i-- {
		sharedStop[i]()
	}
}

// Connect returns a pinged client for uri.
func Connect(uri string) (*mongo.Client, error) {
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetTimeout(30 * time.Second))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := client.Ping(ctx, nil); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, err
	}
	return client, nil
}

// FerretDBVersion returns FerretDB's version, or "" for another server
// (FerretDB claims a MongoDB version but adds ferretdbVersion to buildInfo).
func FerretDBVersion(client *mongo.Client) (string, error) {
	var info struct {
		FerretDBVersion string `bson:"ferretdbVersion"`
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := client.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info)
	return info.FerretDBVersion, err
}

// FreshDB returns a database of its own for one test, dropped afterwards.
func FreshDB(t testing.TB, client *mongo.Client) *mongo.Database {
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
