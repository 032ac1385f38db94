package mongostore_test

import (
	"errors"
	"os"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/unilogin/unilogin/session"
	"github.com/unilogin/unilogin/session/mongostore"
	"github.com/unilogin/unilogin/session/mongostore/mongotest"
	"github.com/unilogin/unilogin/session/sessiontest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	mongotest.Stop()
	os.Exit(code)
}

func newStore(t *testing.T, client *mongo.Client) *mongostore.Store {
	t.Helper()
	s, err := mongostore.New(t.Context(), mongotest.FreshDB(t, client))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// servers returns the servers to test against: the embedded FerretDB
// always, and a real MongoDB when UNILOGIN_TEST_MONGODB_URI is set.
func servers(t *testing.T) map[string]*mongo.Client {
	m := map[string]*mongo.Client{}
	for _, srv := range mongotest.Servers(t) {
		m[srv.Name] = srv.Client
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
			db := mongotest.FreshDB(t, client)
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
	client := mongotest.Servers(t)[0].Client
	db := mongotest.FreshDB(t, client)
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
