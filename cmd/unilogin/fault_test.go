package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unilogin/unilogin/config"
	"github.com/unilogin/unilogin/providers/providertest"
	"github.com/unilogin/unilogin/session/mongostore/mongotest"
	"github.com/unilogin/unilogin/session/sqlitestore/sqlitedb"
)

// Fault tests: the database goes away under load and comes back. The
// server must answer every request (2xx, or 503 temporarily_unavailable),
// never 500 or an empty reply, and lose nothing it acknowledged.

// faultTimeout is database.timeout in these tests: short, so an outage
// test takes seconds.
const faultTimeout = time.Second

// answerBound is the generous bound within which every request must be
// answered at all (the client gives up after it): the deadline plus a
// margin for a loaded, shared machine. The measured worst case is logged.
const answerBound = 10 * time.Second

// ferret is an embedded FerretDB that can be stopped and started again on
// the same directory and port.
type ferret struct {
	t         *testing.T
	dir, addr string
	uri       string
	stop      func()
}

func newFerret(t *testing.T) *ferret {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &ferret{t: t, dir: t.TempDir(), addr: ln.Addr().String()}
	ln.Close()
	f.up()
	t.Cleanup(f.down)
	return f
}

func (f *ferret) up() {
	f.t.Helper()
	uri, stop, err := mongotest.StartFerretDBOn(f.dir, f.addr)
	if err != nil {
		f.t.Fatalf("start FerretDB: %v", err)
	}
	f.uri, f.stop = uri, stop
}

func (f *ferret) down() {
	if f.stop != nil {
		f.stop()
		f.stop = nil
	}
}

func newKEK(t *testing.T) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// mongoConfig is testConfig on MongoDB (uri), database db, with key kek.
func mongoConfig(t *testing.T, uri, db, kek string) *config.Config {
	cfg := testConfig(t)
	cfg.MongoDB.URI = uri
	cfg.MongoDB.Database = db
	cfg.Keys.EncryptionKey = kek
	cfg.Database.Timeout = faultTimeout
	if p := cfg.Validate(); len(p) > 0 {
		t.Fatal(p)
	}
	return cfg
}

// reply is one answered (or not) request.
type reply struct {
	status int
	body   []byte
	header http.Header
	err    error
	took   time.Duration
}

func (r reply) String() string {
	if r.err != nil {
		return "no answer: " + r.err.Error()
	}
	return fmt.Sprintf("%d %s", r.status, r.body)
}

// errorCode is the "error" member of a JSON error body.
func (r reply) errorCode() string {
	var m struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(r.body, &m)
	return m.Error
}

var faultClient = &http.Client{
	Timeout:       answerBound,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func send(c *http.Client, req *http.Request) reply {
	start := time.Now()
	res, err := c.Do(req)
	if err != nil {
		return reply{err: err, took: time.Since(start)}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return reply{status: res.StatusCode, body: b, header: res.Header, err: err, took: time.Since(start)}
}

func form(u string, v url.Values) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

func jsonPost(u, body string) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return req
}

func bearer(u, token string) *http.Request {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	return req
}

func tokens(t *testing.T, r reply) (access, refresh string) {
	t.Helper()
	var m struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if r.status != 200 || json.Unmarshal(r.body, &m) != nil || m.AccessToken == "" || m.RefreshToken == "" {
		t.Fatalf("want a token response: %v", r)
	}
	return m.AccessToken, m.RefreshToken
}

// hostedForm opens the hosted sign-in form (GET /authorize) and returns
// the browser and the form's fields, ready for POST /signin.
func hostedForm(t *testing.T, base string) (*http.Client, url.Values) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &http.Client{Jar: jar, Timeout: answerBound,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	q := appQuery()
	q.Set("response_type", "code")
	req, _ := http.NewRequest(http.MethodGet, base+"/authorize?"+q.Encode(), nil)
	r := send(b, req)
	if r.status != 200 {
		t.Fatalf("GET /authorize: %v", r)
	}
	fields := url.Values{}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`).FindAllSubmatch(r.body, -1) {
		fields.Set(string(m[1]), htmlUnescape(string(m[2])))
	}
	if fields.Get("csrf") == "" {
		t.Fatalf("no CSRF token in the sign-in form:\n%s", r.body)
	}
	return b, fields
}

// appQuery is the app's side of a browser sign-in: client, redirect, state
// and PKCE challenge.
// startWithCorp starts a server on cfg with the client "app" and the
// required OIDC provider "corp" at idp.
func startWithCorp(t *testing.T, cfg *config.Config, idp *providertest.OIDCServer) (base string, stop func()) {
	t.Helper()
	cfg.Clients = []config.Client{{ID: "app", RedirectURIs: []string{"https://app.example/cb"}}}
	cfg.Providers.OIDC = []config.Provider{{ID: "corp", Name: "Corp", Issuer: idp.URL, ClientID: idp.ClientID, ClientSecret: idp.ClientSecret}}
	if p := cfg.Validate(); len(p) > 0 {
		t.Fatal(p)
	}
	return startServer(t, cfg)
}

func appQuery() url.Values {
	sum := sha256.Sum256([]byte("fault-test-verifier-0123456789-0123456789-abcdef"))
	return url.Values{"client_id": {"app"}, "redirect_uri": {"https://app.example/cb"},
		"state": {"s1"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'", "&quot;", `"`).Replace(s)
}

// TestDatabaseDownAnswers503: with MongoDB (FerretDB) stopped, every
// endpoint that needs it answers 503 temporarily_unavailable with
// Retry-After, the hosted sign-in an HTML page; what needs no database
// (JWKS, metadata, /healthz) answers 200; /readyz is 503 and says why.
// Once the database is back, the same requests succeed again by themselves.
func TestDatabaseDownAnswers503(t *testing.T) {
	db := newFerret(t)
	idp := providertest.NewOIDC(t)
	base, stop := startWithCorp(t, mongoConfig(t, db.uri, "unilogin", newKEK(t)), idp)
	defer stop()

	signup := func(email string) *http.Request {
		return jsonPost(base+"/signup", `{"email":"`+email+`","password":"correct horse battery"}`)
	}
	if r := send(faultClient, signup("ann@example.com")); r.status != 201 {
		t.Fatalf("signup: %v", r)
	}
	password := func() *http.Request {
		return form(base+"/token", url.Values{"grant_type": {"password"}, "username": {"ann@example.com"}, "password": {"correct horse battery"}})
	}
	access, refresh := tokens(t, send(faultClient, password()))
	_, revokeMe := tokens(t, send(faultClient, password()))
	browser, fields := hostedForm(t, base)
	fields.Set("email", "ann@example.com")
	fields.Set("password", "correct horse battery")

	requests := []struct {
		name string
		c    *http.Client
		req  func() *http.Request
		ok   func(reply) bool // the answer once the database is back
	}{
		{"POST /token password", faultClient, password, func(r reply) bool { return r.status == 200 }},
		{"POST /token refresh_token", faultClient, func() *http.Request {
			return form(base+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
		}, func(r reply) bool { return r.status == 200 }},
		{"POST /signup", faultClient, func() *http.Request { return signup("bob@example.com") }, func(r reply) bool { return r.status == 201 }},
		{"GET /users/me", faultClient, func() *http.Request { return bearer(base+"/users/me", access) }, func(r reply) bool { return r.status == 200 }},
		{"POST /revoke", faultClient, func() *http.Request { return form(base+"/revoke", url.Values{"token": {revokeMe}}) },
			func(r reply) bool { return r.status == 200 }},
		{"POST /signin (hosted)", browser, func() *http.Request { return form(base+"/signin", fields) },
			func(r reply) bool { return r.status == 302 || r.status == 303 }},
		{"GET /auth/corp/login", faultClient, func() *http.Request {
			req, _ := http.NewRequest(http.MethodGet, base+"/auth/corp/login?"+appQuery().Encode(), nil)
			return req
		}, func(r reply) bool { return r.status == 302 || r.status == 303 }},
	}

	db.down()
	downAt := time.Now()
	var worst time.Duration
	for _, rq := range requests {
		r := send(rq.c, rq.req())
		worst = max(worst, r.took)
		t.Logf("%s with the database down: %d in %s", rq.name, r.status, r.took.Round(time.Millisecond))
		if r.err != nil || r.status != http.StatusServiceUnavailable {
			t.Errorf("%s with the database down: %v, want 503", rq.name, r)
			continue
		}
		if r.header.Get("Retry-After") == "" {
			t.Errorf("%s: 503 without Retry-After", rq.name)
		}
		if strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
			if !strings.Contains(rq.name, "hosted") {
				t.Errorf("%s: an HTML error page, want JSON: %s", rq.name, r.body)
			}
		} else if r.errorCode() != "temporarily_unavailable" {
			t.Errorf("%s: error %q, want temporarily_unavailable: %s", rq.name, r.errorCode(), r.body)
		} else if strings.Contains(rq.name, "hosted") {
			t.Errorf("%s: JSON, want an HTML error page: %s", rq.name, r.body)
		}
	}
	t.Logf("database down: slowest 503 took %s (database.timeout %s)", worst, faultTimeout)
	for _, path := range []string{"/.well-known/jwks.json", "/.well-known/openid-configuration", "/healthz"} {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		r := send(faultClient, req)
		if r.status != 200 {
			t.Errorf("GET %s with the database down: %v, want 200", path, r)
		}
		t.Logf("GET %s with the database down: %d in %s", path, r.status, r.took.Round(time.Millisecond))
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/readyz", nil)
	r := send(faultClient, req)
	if r.status != 503 || !strings.Contains(string(r.body), "database") {
		t.Errorf("GET /readyz with the database down: %v, want 503 naming the database", r)
	}
	t.Logf("GET /readyz with the database down: %d in %s", r.status, r.took.Round(time.Millisecond))
	t.Logf("database down for %s", time.Since(downAt).Round(time.Millisecond))

	db.up()
	upAt := time.Now()
	for _, rq := range requests {
		var last reply
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if last = send(rq.c, rq.req()); rq.ok(last) {
				break
			}
		}
		if !rq.ok(last) {
			t.Errorf("%s: no success within 10 s of the database's return; last: %v", rq.name, last)
		}
	}
	t.Logf("database back: every request succeeded again %s after the restart", time.Since(upAt).Round(time.Millisecond))
}

// loadResult is what one load worker saw.
type loadResult struct {
	bad      []string // answers that are neither 2xx nor 503
	counts   map[int]int
	worst    time.Duration
	email    string
	unused   []string // acknowledged refresh tokens not yet presented
	spentOK  []string // tokens presented and answered 200
	signedUp bool
}

// runLoad runs workers doing sign-ins, refreshes and /users/me against
// base until stop is closed. With reuse grace 0, a refresh token works
// exactly once; after a 503 on a refresh its outcome is unknown (it may
// have been spent), so the worker starts a new session with a sign-in.
func runLoad(base string, workers int, stop <-chan struct{}) []*loadResult {
	out := make([]*loadResult, workers)
	var wg sync.WaitGroup
	for w := range workers {
		res := &loadResult{counts: map[int]int{}, email: fmt.Sprintf("load%d@example.com", w)}
		out[w] = res
		wg.Add(1)
		go func() {
			defer wg.Done()
			note := func(what string, r reply, ok ...int) bool {
				res.worst = max(res.worst, r.took)
				if r.err == nil {
					res.counts[r.status]++
				}
				if r.err == nil && (r.status/100 == 2 || r.status == 503 && r.errorCode() == "temporarily_unavailable") {
					return r.status/100 == 2
				}
				res.bad = append(res.bad, what+": "+r.String())
				return false
			}
			var access, refresh string
			for i := 0; ; i++ {
				select {
				case <-stop:
					if refresh != "" {
						res.unused = append(res.unused, refresh)
					}
					return
				default:
				}
				switch {
				case !res.signedUp:
					r := send(faultClient, jsonPost(base+"/signup", `{"email":"`+res.email+`","password":"correct horse battery"}`))
					if note("signup", r) {
						res.signedUp = true
					} else if r.status == 409 {
						res.bad = res.bad[:len(res.bad)-1] // acknowledged before a lost reply
						res.signedUp = true
					}
				case refresh == "" || i%10 == 0:
					r := send(faultClient, form(base+"/token", url.Values{"grant_type": {"password"}, "username": {res.email}, "password": {"correct horse battery"}}))
					if note("password grant", r) {
						if refresh != "" {
							res.unused = append(res.unused, refresh)
						}
						var m map[string]string
						_ = json.Unmarshal(r.body, &m)
						access, refresh = m["access_token"], m["refresh_token"]
					}
				case i%2 == 0:
					r := send(faultClient, form(base+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}))
					if note("refresh", r) {
						var m map[string]string
						_ = json.Unmarshal(r.body, &m)
						res.spentOK = append(res.spentOK, refresh)
						access, refresh = m["access_token"], m["refresh_token"]
					} else {
						refresh = "" // outcome unknown: sign in again
					}
				default:
					note("users/me", send(faultClient, bearer(base+"/users/me", access)))
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	go func() { <-stop }()
	wg.Wait()
	return out
}

// checkLoad asserts the promises after the outage: no bad answer, every
// acknowledged unused refresh token works exactly once, every spent one is
// refused, and every acknowledged sign-up can sign in.
func checkLoad(t *testing.T, base string, results []*loadResult) {
	t.Helper()
	total := map[int]int{}
	var worst time.Duration
	for _, res := range results {
		for _, b := range res.bad {
			t.Errorf("%s: %s", res.email, b)
		}
		for s, n := range res.counts {
			total[s] += n
		}
		worst = max(worst, res.worst)
		for _, tok := range res.unused {
			refreshTwice(t, base, tok)
		}
		for _, tok := range res.spentOK {
			r := send(faultClient, form(base+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok}}))
			if r.status != 400 {
				t.Errorf("a spent refresh token: %v, want 400", r)
				break
			}
		}
		if res.signedUp {
			r := send(faultClient, form(base+"/token", url.Values{"grant_type": {"password"}, "username": {res.email}, "password": {"correct horse battery"}}))
			if r.status != 200 {
				t.Errorf("%s signed up but cannot sign in: %v", res.email, r)
			}
		}
	}
	if total[503] == 0 || total[200] == 0 {
		t.Errorf("the load saw no outage or no success: %v", total)
	}
	t.Logf("answers by status: %v; slowest answer %s (database.timeout %s)", total, worst, faultTimeout)
}

// refreshTwice: an acknowledged refresh token works once, then never.
func refreshTwice(t *testing.T, base, tok string) {
	t.Helper()
	var first reply
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if first = send(faultClient, form(base+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok}})); first.status != 503 {
			break
		}
	}
	if first.status != 200 {
		t.Errorf("an acknowledged refresh token was lost: %v", first)
		return
	}
	if r := send(faultClient, form(base+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok}})); r.status != 400 {
		t.Errorf("a refresh token worked twice: %v", r)
	}
}

func loadTestConfig(cfg *config.Config) {
	off := false
	cfg.RateLimits.Enabled = &off
	cfg.Tokens.RefreshReuseGrace = 0
}

// TestFaultUnderLoadFerretDB: under a mixed load the MongoDB server
// (FerretDB) stops for a few seconds and comes back.
func TestFaultUnderLoadFerretDB(t *testing.T) {
	db := newFerret(t)
	cfg := mongoConfig(t, db.uri, "unilogin", newKEK(t))
	loadTestConfig(cfg)
	base, stopServer := startServer(t, cfg)
	defer stopServer()

	stop := make(chan struct{})
	done := make(chan []*loadResult)
	go func() { done <- runLoad(base, 4, stop) }()
	time.Sleep(1500 * time.Millisecond)
	db.down()
	time.Sleep(3 * time.Second)
	db.up()
	time.Sleep(3 * time.Second)
	close(stop)
	checkLoad(t, base, <-done)
}

// TestFaultUnderLoadSQLite: the embedded store cannot stop, but another
// process can hold its write lock (a backup, the CLI in a long
// transaction): for a few seconds every write waits and fails at the
// deadline; the same promises hold.
func TestFaultUnderLoadSQLite(t *testing.T) {
	cfg := testConfig(t)
	cfg.Database.Timeout = faultTimeout
	loadTestConfig(cfg)
	base, stopServer := startServer(t, cfg)
	defer stopServer()

	other, err := sqlitedb.Open(filepath.Join(cfg.DataDir, "unilogin.db"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	stop := make(chan struct{})
	done := make(chan []*loadResult)
	go func() { done <- runLoad(base, 4, stop) }()
	time.Sleep(1500 * time.Millisecond)
	if err := holdWriteLock(other, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	close(stop)
	checkLoad(t, base, <-done)
}

// holdWriteLock takes SQLite's write lock on db and keeps it for d.
func holdWriteLock(db *sql.DB, d time.Duration) error {
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		return fmt.Errorf("take the write lock: %w", err)
	}
	time.Sleep(d)
	_, err = conn.ExecContext(ctx, "ROLLBACK")
	return err
}

// TestMongoDBWithoutKEKIsRefused: MONGODB_URI without a key-encryption
// key is refused by config check and by serve, with a message naming the
// variable and how to make a key; nothing is written to the data dir.
func TestMongoDBWithoutKEKIsRefused(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("UNILOGIN_DATA_DIR", dir)
	t.Setenv("MONGODB_URI", "mongodb://127.0.0.1:1")
	t.Setenv("UNILOGIN_KEY_ENCRYPTION_KEY", "")
	for _, args := range [][]string{{"config", "check"}, {"serve"}} {
		var out, errb strings.Builder
		code := run(context.Background(), args, &out, &errb)
		msg := out.String() + errb.String()
		if code == exitOK || !strings.Contains(msg, "UNILOGIN_KEY_ENCRYPTION_KEY") || !strings.Contains(msg, "unilogin keys new-encryption-key") {
			t.Errorf("%v without a key-encryption key: exit %d\n%s", args, code, msg)
		}
	}
	if entries, _ := filepath.Glob(filepath.Join(dir, "*")); len(entries) != 0 {
		t.Errorf("written to the data directory: %v", entries)
	}
	var out, errb strings.Builder
	if code := run(context.Background(), []string{"keys", "new-encryption-key"}, &out, &errb); code != exitOK {
		t.Fatalf("keys new-encryption-key: %d %s", code, errb.String())
	}
	cfg := config.Default()
	cfg.Keys.EncryptionKey = strings.TrimSpace(out.String())
	if k, err := cfg.Keys.DecodeEncryptionKey(); err != nil || len(k) != 32 {
		t.Fatalf("keys new-encryption-key printed %q: %v", out.String(), err)
	}
}

// TestInstancesStartTogetherShareOneKey: three instances started at once
// on one empty database publish one signing key, and each accepts the
// others' tokens from the first one on.
func TestInstancesStartTogetherShareOneKey(t *testing.T) {
	db := newFerret(t)
	kek := newKEK(t)
	var bases [3]string
	var wg sync.WaitGroup
	for i := range bases {
		cfg := mongoConfig(t, db.uri, "unilogin", kek)
		wg.Add(1)
		go func() {
			defer wg.Done()
			base, stop := startServer(t, cfg)
			t.Cleanup(stop)
			bases[i] = base
		}()
	}
	wg.Wait()
	var kids []string
	for _, base := range bases {
		var set struct {
			Keys []struct {
				Kid string `json:"kid"`
			} `json:"keys"`
		}
		if err := json.Unmarshal([]byte(get(t, base+"/.well-known/jwks.json")), &set); err != nil {
			t.Fatal(err)
		}
		if len(set.Keys) != 1 {
			t.Fatalf("%s publishes %d keys, want 1", base, len(set.Keys))
		}
		kids = append(kids, set.Keys[0].Kid)
	}
	if kids[0] != kids[1] || kids[1] != kids[2] {
		t.Fatalf("the instances publish different keys: %v", kids)
	}
	if r := send(faultClient, jsonPost(bases[0]+"/signup", `{"email":"cy@example.com","password":"correct horse battery"}`)); r.status != 201 {
		t.Fatalf("signup: %v", r)
	}
	for i, base := range bases {
		access, _ := tokens(t, send(faultClient, form(base+"/token", url.Values{"grant_type": {"password"}, "username": {"cy@example.com"}, "password": {"correct horse battery"}})))
		for j, other := range bases {
			if r := send(faultClient, bearer(other+"/users/me", access)); r.status != 200 {
				t.Errorf("instance %d refuses a token of instance %d: %v", j, i, r)
			}
		}
	}
}

// TestProviderComingUpLaterIsUsable: an OIDC provider whose discovery fails
// at start-up does not stop unilogin; it is not listed while pending
// (/readyz and the metrics say so), and becomes usable without a restart
// as soon as it answers.
func TestProviderComingUpLaterIsUsable(t *testing.T) {
	idp := providertest.NewOIDC(t)
	idp.SetBehavior(providertest.OIDCBehavior{DiscoveryStatus: http.StatusServiceUnavailable})
	// Not optional: even a required provider no longer decides start-up.
	base, stop := startWithCorp(t, testConfig(t), idp)
	defer stop()

	listed := func() bool { return strings.Contains(get(t, base+"/auth/providers"), `"corp"`) }
	if listed() {
		t.Fatal("a provider whose discovery failed is listed")
	}
	if body := get(t, base+"/readyz"); !strings.Contains(body, `"id":"corp","usable":false`) {
		t.Errorf("/readyz does not show the pending provider: %s", body)
	}
	if m := get(t, base+"/metrics"); !strings.Contains(m, `unilogin_provider_up{provider="corp"} 0`) {
		t.Errorf("metrics lack unilogin_provider_up 0 for the pending provider")
	}
	login := func() reply {
		req, _ := http.NewRequest(http.MethodGet, base+"/auth/corp/login?"+appQuery().Encode(), nil)
		return send(faultClient, req)
	}
	if r := login(); r.status/100 == 3 {
		t.Fatalf("a pending provider started a sign-in: %v", r)
	}

	idp.SetBehavior(providertest.OIDCBehavior{})
	deadline := time.Now().Add(15 * time.Second)
	for !listed() && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if !listed() {
		t.Fatal("the provider is not listed 15 s after it came up")
	}
	if r := login(); r.status != http.StatusFound || !strings.HasPrefix(r.header.Get("Location"), idp.URL) {
		t.Fatalf("sign-in with the provider after it came up: %v", r)
	}
	if m := get(t, base+"/metrics"); !strings.Contains(m, `unilogin_provider_up{provider="corp"} 1`) {
		t.Errorf("metrics lack unilogin_provider_up 1 for the usable provider")
	}
}
