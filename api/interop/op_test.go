package interop_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/unilogin/unilogin/session/sessiontest/testkit"
)

// The example OP's user store (storage.NewUserStore) holds this user; its
// username is "test-user@" + the issuer's host name.
const (
	opUserSubject  = "id1"
	opUserEmail    = "test-user@zitadel.ch"
	opUserPassword = "verysecure"
	opUserName     = "Test User"
)

// The client unilogin is registered as at the OP.
const (
	opClientID     = "unilogin"
	opClientSecret = "unilogin-secret-0123456789"
)

// exampleOP is a running zitadel example OpenID Provider.
type exampleOP struct {
	issuer   string // equals the URL it is served on
	username string // of the example user
	logs     *testkit.SyncBuffer
}

// opOptions choose how the OP treats unilogin's client.
type opOptions struct {
	// userinfoInIDToken makes the OP put the claims of the profile and
	// email scopes into the ID token even though it also issues an access
	// token (ZITADEL's per-application "User Info inside ID Token"
	// setting). Off, the OP follows OpenID Connect Core §5.4 to the
	// letter: those claims are only served by the UserInfo endpoint.
	userinfoInIDToken bool
}

// startOP starts the example OP on a loopback listener with one web client
// (client_secret_basic, code flow) whose only redirect URI is callbackURL.
func startOP(t *testing.T, callbackURL string, o opOptions) *exampleOP {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()

	// A storage of our own with our client only, instead of the package's
	// global client registry (storage.RegisterClients).
	st := storage.NewStorageWithClients(storage.NewUserStore(issuer), map[string]*storage.Client{
		opClientID: storage.WebClient(opClientID, opClientSecret, callbackURL),
	})
	var backend exampleop.Storage = st
	if o.userinfoInIDToken {
		backend = userinfoInIDTokenStorage{st}
	}

	// SetupServer installs its logger as the process-wide slog default;
	// this test binary is ours, so point it at a buffer shown on failure.
	logs := &testkit.SyncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// The example's newOP passes op.WithAllowInsecure, which lets the
	// issuer be http://127.0.0.1:<port>.
	srv.Config.Handler = exampleop.SetupServer(issuer, backend, logger, false)
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("OpenID Provider log:\n%s", logs.String())
		}
	})
	u, err := url.Parse(issuer)
	if err != nil {
		t.Fatal(err)
	}
	return &exampleOP{issuer: issuer, username: "test-user@" + u.Hostname(), logs: logs}
}

// userinfoInIDTokenStorage is the example storage whose clients ask for
// the userinfo claims in the ID token.
type userinfoInIDTokenStorage struct{ *storage.Storage }

func (s userinfoInIDTokenStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return userinfoInIDTokenClient{c}, nil
}

type userinfoInIDTokenClient struct{ op.Client }

func (userinfoInIDTokenClient) IDTokenUserinfoClaimsAssertion() bool { return true }
