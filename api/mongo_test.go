package api_test

import (
	"context"
	"os"
	"testing"

	"github.com/unilogin/unilogin/accounts"
	accountsmongo "github.com/unilogin/unilogin/accounts/mongostore"
	"github.com/unilogin/unilogin/session"
	sessionmongo "github.com/unilogin/unilogin/session/mongostore"
	"github.com/unilogin/unilogin/session/mongostore/mongotest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	mongotest.Stop()
	os.Exit(code)
}

// mongoBackend runs the API over the MongoDB stores on the embedded
// FerretDB (and on the real MongoDB of UNILOGIN_TEST_MONGODB_URI instead,
// when it is set, since that is the stronger check).
func mongoBackend() backend {
	return backend{"mongodb", func(t testing.TB) (accounts.Store, session.Store) {
		servers := mongotest.Servers(t)
		srv := servers[len(servers)-1]
		db := mongotest.FreshDB(t, srv.Client)
		as, err := accountsmongo.New(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		ss, err := sessionmongo.New(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		return as, ss
	}}
}
