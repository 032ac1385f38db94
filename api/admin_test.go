package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/api/apitest"
	"github.com/unilogin/unilogin/config"
	"github.com/unilogin/unilogin/providers/providertest"
)

// withRoles configures the roles the harness's Permissions knows.
func withRoles(c *config.Config) {
	c.Roles = map[string][]string{"admin": {"users:admin"}, "member": {"profile:read"}}
}

func newAdminEnv(t testing.TB, b apitest.Backend) *apitest.Env {
	t.Helper()
	return apitest.NewEnv(t, apitest.EnvOptions{Backend: b, Mutate: withRoles})
}

// promote gives a user roles directly in the store, as the CLI does.
func promote(t testing.TB, s accounts.Store, id string, roles ...string) {
	t.Helper()
	if err := s.SetRoles(context.Background(), id, roles); err != nil {
		t.Fatal(err)
	}
}

// makeAdmin signs up a user, gives it the admin role and signs it in.
func makeAdmin(e *apitest.Env, email string) (string, apitest.Tokens) {
	e.T.Helper()
	id := e.Signup(email, apitest.Password)
	promote(e.T, e.Store, id, "admin")
	return id, e.Login(email, apitest.Password)
}

// adminCall sends an authenticated request; body, when not nil, as JSON.
func adminCall(e *apitest.Env, method, path, token string, body any) apitest.Response {
	e.T.Helper()
	if body == nil {
		return e.Do(method, path, "", nil, apitest.Bearer(token)...)
	}
	b, err := json.Marshal(body)
	if err != nil {
		e.T.Fatal(err)
	}
	return e.Do(method, path, "application/json", bytes.NewReader(b), apitest.Bearer(token)...)
}

// adminRoute is one admin endpoint with a body that is valid for it.
type adminRoute struct {
	method, path string // path with {id}
	Body         any
	ok           int // status on success
}

func adminRoutes() []adminRoute {
	return []adminRoute{
		{"GET", "/admin/users", nil, 200},
		{"GET", "/admin/users?email=example&limit=10", nil, 200},
		{"GET", "/admin/users/{id}", nil, 200},
		{"PUT", "/admin/users/{id}/roles", map[string]any{"roles": []string{"member"}}, 200},
		{"POST", "/admin/users/{id}/disable", nil, 200},
		{"POST", "/admin/users/{id}/enable", nil, 200},
		{"DELETE", "/admin/users/{id}/sessions", nil, 204},
		{"DELETE", "/admin/users/{id}/mfa", nil, 204},
		{"POST", "/admin/users/{id}/verify-email", nil, 202},   // admin_recovery_test.go
		{"POST", "/admin/users/{id}/password-reset", nil, 202}, // admin_recovery_test.go
		{"POST", "/admin/users/{id}/email-verified", nil, 200}, // admin_recovery_test.go
		{"GET", "/admin/audit", nil, 200},
		{"DELETE", "/admin/users/{id}", nil, 204}, // last: the target is gone after it
	}
}

func (r adminRoute) URL(id string) string { return strings.ReplaceAll(r.path, "{id}", id) }

func TestAdminRoutesRefuseMembers(t *testing.T) {
	for _, b := range apitest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			e := newAdminEnv(t, b)
			target := e.Signup("target@example.com", apitest.Password)
			_, member := e.NewUser("member@example.com")
			for _, rt := range adminRoutes() {
				r := adminCall(e, rt.method, rt.URL(target), member.AccessToken, rt.Body)
				if r.Status != http.StatusForbidden || r.ErrCode(t) != "insufficient_scope" {
					t.Errorf("%s %s as a member: %d %s, want 403 insufficient_scope", rt.method, rt.path, r.Status, r.Body)
					continue
				}
				ch := r.Header.Get("WWW-Authenticate")
				if !strings.HasPrefix(ch, "Bearer ") || !strings.Contains(ch, `error="insufficient_scope"`) || !strings.Contains(ch, `scope="users:admin"`) {
					t.Errorf("%s %s: WWW-Authenticate = %q", rt.method, rt.path, ch)
				}
				// Without a token: 401, with a bare challenge.
				if r := e.Do(rt.method, rt.URL(target), "", nil); r.Status != http.StatusUnauthorized || r.ErrCode(t) != "invalid_token" {
					t.Errorf("%s %s without a token: %d %s", rt.method, rt.path, r.Status, r.Body)
				}
			}
			// Nothing happened to the target, and nothing was audited.
			u, err := e.Accounts.Get(context.Background(), target)
			if err != nil || u.Disabled || !slices.Equal(u.Roles, []string{"member"}) {
				t.Errorf("target after refused calls: %+v, %v", u, err)
			}
			evs, _ := e.Store.ListAudit(context.Background(), "", 50)
			for _, ev := range evs {
				if !strings.HasPrefix(ev.Action, "auth.") { // the member's own sign-in is a security event
					t.Errorf("refused call audited: %+v", ev)
				}
			}
		})
	}
}

func TestAdminRoutesSucceedForAdmins(t *testing.T) {
	for _, b := range apitest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			e := newAdminEnv(t, b)
			adminID, admin := makeAdmin(e, "root@example.com")
			target := e.Signup("target@example.com", apitest.Password)
			e.Login("target@example.com", apitest.Password)
			for _, rt := range adminRoutes() {
				r := adminCall(e, rt.method, rt.URL(target), admin.AccessToken, rt.Body)
				if r.Status != rt.ok {
					t.Errorf("%s %s as an admin: %d %s, want %d", rt.method, rt.path, r.Status, r.Body, rt.ok)
				}
			}
			// Every per-user route: 404 not_found for an unknown id.
			unknown := accounts.NewID()
			for _, rt := range adminRoutes() {
				if !strings.Contains(rt.path, "{id}") {
					continue
				}
				r := adminCall(e, rt.method, rt.URL(unknown), admin.AccessToken, rt.Body)
				if r.Status != http.StatusNotFound || r.ErrCode(t) != "not_found" {
					t.Errorf("%s %s (unknown user): %d %s, want 404 not_found", rt.method, rt.path, r.Status, r.Body)
				}
			}
			// The admin's own view: identities and sessions.
			r := adminCall(e, "GET", "/admin/users/"+adminID, admin.AccessToken, nil)
			var v struct {
				ID         string           `json:"id"`
				Email      string           `json:"email"`
				Roles      []string         `json:"roles"`
				Perms      []string         `json:"permissions"`
				Disabled   *bool            `json:"disabled"`
				Identities []map[string]any `json:"identities"`
				Sessions   []struct {
					ID      string `json:"id"`
					Current bool   `json:"current"`
				} `json:"sessions"`
			}
			if err := json.Unmarshal(r.Body, &v); err != nil || r.Status != 200 {
				t.Fatalf("GET /admin/users/{admin}: %d %s", r.Status, r.Body)
			}
			if v.ID != adminID || v.Email != "root@example.com" || !slices.Equal(v.Roles, []string{"admin"}) ||
				!slices.Equal(v.Perms, []string{"users:admin"}) || v.Disabled == nil || *v.Disabled ||
				v.Identities == nil || len(v.Sessions) != 1 || !v.Sessions[0].Current {
				t.Errorf("admin view = %s", r.Body)
			}
		})
	}
}

func TestAdminBadRequests(t *testing.T) {
	e := newAdminEnv(t, apitest.SQLiteBackend())
	_, admin := makeAdmin(e, "root@example.com")
	target := e.Signup("target@example.com", apitest.Password)
	for _, tc := range []struct {
		method, path string
		Body         string
	}{
		{"GET", "/admin/users?limit=0", ""},
		{"GET", "/admin/users?limit=-3", ""},
		{"GET", "/admin/users?limit=201", ""},
		{"GET", "/admin/users?limit=ten", ""},
		{"GET", "/admin/users?cursor=" + strings.Repeat("x", 200), ""},
		{"GET", "/admin/audit?limit=1000", ""},
		{"PUT", "/admin/users/" + target + "/roles", `{"roles":["root"]}`},
		{"PUT", "/admin/users/" + target + "/roles", `{"roles":["admin","Admin"]}`},
		{"PUT", "/admin/users/" + target + "/roles", `{}`},
		{"PUT", "/admin/users/" + target + "/roles", `{"roles":"admin"}`},
		{"PUT", "/admin/users/" + target + "/roles", `{"roles":[`},
	} {
		ct := ""
		if tc.Body != "" {
			ct = "application/json"
		}
		r := e.Do(tc.method, tc.path, ct, strings.NewReader(tc.Body), apitest.Bearer(admin.AccessToken)...)
		if r.Status != http.StatusBadRequest || r.ErrCode(t) != "invalid_request" {
			t.Errorf("%s %s %s: %d %s, want 400 invalid_request", tc.method, tc.path, tc.Body, r.Status, r.Body)
		}
	}
	if r := adminCall(e, "GET", "/admin/users?limit=200", admin.AccessToken, nil); r.Status != 200 {
		t.Errorf("limit=200: %d", r.Status)
	}
	// Unknown roles are named in the description; the user keeps its roles.
	r := adminCall(e, "PUT", "/admin/users/"+target+"/roles", admin.AccessToken, map[string]any{"roles": []string{"root"}})
	if desc := r.JSON(t)["error_description"].(string); !strings.Contains(desc, `"root"`) {
		t.Errorf("description %q does not name the unknown role", desc)
	}
	// An empty list removes every role.
	r = adminCall(e, "PUT", "/admin/users/"+target+"/roles", admin.AccessToken, map[string]any{"roles": []string{}})
	if r.Status != 200 || fmt.Sprint(r.JSON(t)["roles"]) != "[]" {
		t.Errorf("empty roles: %d %s", r.Status, r.Body)
	}
}

func TestAdminDisableEndsSessionsAndEnableRestoresLogin(t *testing.T) {
	for _, b := range apitest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			e := newAdminEnv(t, b)
			_, admin := makeAdmin(e, "root@example.com")
			id, first := e.NewUser("ivy@example.com")
			second := e.Login("ivy@example.com", apitest.Password)

			r := adminCall(e, "POST", "/admin/users/"+id+"/disable", admin.AccessToken, nil)
			if r.Status != 200 || r.JSON(t)["disabled"] != true {
				t.Fatalf("disable: %d %s", r.Status, r.Body)
			}
			if list, _ := e.Sessions.List(context.Background(), id); len(list) != 0 {
				t.Errorf("%d sessions left after disabling", len(list))
			}
			for _, tk := range []apitest.Tokens{first, second} {
				e.WantEnded("after disable", tk)
			}
			login := url.Values{"grant_type": {"password"}, "username": {"ivy@example.com"}, "password": {apitest.Password}}
			if r := e.PostForm("/token", login); r.Status != http.StatusBadRequest || r.ErrCode(t) != "invalid_grant" {
				t.Errorf("password login while disabled: %d %s", r.Status, r.Body)
			}

			r = adminCall(e, "POST", "/admin/users/"+id+"/enable", admin.AccessToken, nil)
			if r.Status != 200 || r.JSON(t)["disabled"] != false {
				t.Fatalf("enable: %d %s", r.Status, r.Body)
			}
			tk := e.Login("ivy@example.com", apitest.Password)
			if r := e.Get("/users/me", apitest.Bearer(tk.AccessToken)...); r.Status != 200 {
				t.Errorf("/users/me after enable: %d", r.Status)
			}
			// Sessions ended by the disable stay ended.
			if r := e.Refresh(second.RefreshToken); r.Status != http.StatusBadRequest {
				t.Errorf("an old refresh token works again after enable: %d", r.Status)
			}

			// DELETE /admin/users/{id}/sessions ends the new one too.
			apitest.WantStatus(t, "end sessions", adminCall(e, "DELETE", "/admin/users/"+id+"/sessions", admin.AccessToken, nil), 204)
			if r := e.Refresh(tk.RefreshToken); r.Status != http.StatusBadRequest {
				t.Errorf("refresh after the admin ended the sessions: %d", r.Status)
			}
		})
	}
}

func TestAdminDeleteFreesTheIdentity(t *testing.T) {
	for _, b := range apitest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{Backend: b, Mutate: withRoles})
			_, admin := makeAdmin(fe.Env, "root@example.com")
			fe.Google.SetUser(providertest.OIDCUser{Subject: "g-del", Email: "del@example.com", EmailVerified: new(true)})
			tk := fe.SignIn("google", apitest.PublicApp())
			first := fe.Claims(tk).Subject
			if ids := fe.IdentitiesOf(first); !slices.Equal(ids, []string{"google:g-del"}) {
				t.Fatalf("identities %v", ids)
			}

			apitest.WantStatus(t, "delete", adminCall(fe.Env, "DELETE", "/admin/users/"+first, admin.AccessToken, nil), http.StatusNoContent)
			if r := adminCall(fe.Env, "GET", "/admin/users/"+first, admin.AccessToken, nil); r.Status != http.StatusNotFound {
				t.Errorf("GET deleted user: %d", r.Status)
			}
			if _, err := fe.Store.GetIdentity(context.Background(), "google", "g-del"); err == nil {
				t.Error("the identity survived its user")
			}
			if r := fe.Refresh(tk.RefreshToken); r.Status != http.StatusBadRequest {
				t.Errorf("refresh of a deleted user: %d", r.Status)
			}
			if r := fe.Get("/users/me", apitest.Bearer(tk.AccessToken)...); r.Status != http.StatusUnauthorized {
				t.Errorf("/users/me of a deleted user: %d", r.Status)
			}

			// The same provider identity signs up afresh, as a new user.
			again := fe.Claims(fe.SignIn("google", apitest.PublicApp())).Subject
			if again == first {
				t.Fatal("the deleted user came back")
			}
			fe.WantIdentities("the new user", again, "google:g-del")
		})
	}
}

// TestAdminDeleteLinkedIdentityDirectly covers a password user with an
// identity linked through the store.
func TestAdminDeleteLinkedIdentityDirectly(t *testing.T) {
	e := newAdminEnv(t, apitest.SQLiteBackend())
	_, admin := makeAdmin(e, "root@example.com")
	id := e.Signup("pat@example.com", apitest.Password)
	if err := e.Store.LinkIdentity(context.Background(), &accounts.Identity{Provider: "github", Subject: "77", UserID: id}); err != nil {
		t.Fatal(err)
	}
	apitest.WantStatus(t, "delete", adminCall(e, "DELETE", "/admin/users/"+id, admin.AccessToken, nil), http.StatusNoContent)
	if _, err := e.Store.GetIdentity(context.Background(), "github", "77"); err == nil {
		t.Error("identity survived")
	}
	if r := e.PostJSON("/signup", map[string]string{"email": "pat@example.com", "password": apitest.Password}); r.Status != http.StatusCreated {
		t.Errorf("signup with the deleted user's e-mail: %d %s", r.Status, r.Body)
	}
}

func TestAdminListPagesWhileUsersAreAdded(t *testing.T) {
	for _, b := range apitest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			e := newAdminEnv(t, b)
			ctx := context.Background()
			_, admin := makeAdmin(e, "root@example.com")
			initial := map[string]int{}
			for i := range 30 {
				u := &accounts.User{ID: accounts.NewID(), Email: fmt.Sprintf("u%02d@example.com", i), Roles: []string{"member"}}
				if err := e.Store.CreateUser(ctx, u); err != nil {
					t.Fatal(err)
				}
				initial[u.ID] = 0
			}

			stop := make(chan struct{})
			var wg sync.WaitGroup
			for w := range 2 {
				wg.Go(func() {
					for i := 0; i < 100; i++ {
						select {
						case <-stop:
							return
						default:
						}
						u := &accounts.User{ID: accounts.NewID(), Email: fmt.Sprintf("w%d-%d@example.com", w, i)}
						if err := e.Store.CreateUser(ctx, u); err != nil {
							t.Errorf("writer: %v", err)
							return
						}
					}
				})
			}

			var seen []string
			cursor := ""
			for pages := 0; ; pages++ {
				if pages > 500 {
					t.Fatal("paging did not end")
				}
				path := "/admin/users?limit=4"
				if cursor != "" {
					path += "&cursor=" + url.QueryEscape(cursor)
				}
				r := adminCall(e, "GET", path, admin.AccessToken, nil)
				var page struct {
					Users []struct {
						ID string `json:"id"`
					} `json:"users"`
					NextCursor *string `json:"next_cursor"`
				}
				if r.Status != 200 || json.Unmarshal(r.Body, &page) != nil {
					close(stop)
					wg.Wait()
					t.Fatalf("page %d: %d %s", pages, r.Status, r.Body)
				}
				if len(page.Users) > 4 {
					t.Fatalf("page of %d users with limit 4", len(page.Users))
				}
				for _, u := range page.Users {
					seen = append(seen, u.ID)
				}
				if page.NextCursor == nil {
					break
				}
				if *page.NextCursor != page.Users[len(page.Users)-1].ID {
					t.Fatalf("next_cursor %q is not the page's last id", *page.NextCursor)
				}
				cursor = *page.NextCursor
			}
			close(stop)
			wg.Wait()

			for i := 1; i < len(seen); i++ {
				if seen[i-1] >= seen[i] {
					t.Fatalf("ids not strictly increasing at %d: a user listed twice or out of order", i)
				}
			}
			for _, id := range seen {
				if _, ok := initial[id]; ok {
					initial[id]++
				}
			}
			for id, n := range initial {
				if n != 1 {
					t.Errorf("user %s listed %d times, want once", id, n)
				}
			}

			// The e-mail filter.
			r := adminCall(e, "GET", "/admin/users?email=U0&limit=200", admin.AccessToken, nil)
			var filtered struct {
				Users []struct {
					Email string `json:"email"`
				} `json:"users"`
			}
			json.Unmarshal(r.Body, &filtered)
			if len(filtered.Users) != 10 {
				t.Errorf("email=U0 matched %d users, want u00..u09", len(filtered.Users))
			}
		})
	}
}

func TestAdminActionsAreAudited(t *testing.T) {
	for _, b := range apitest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			e := newAdminEnv(t, b)
			adminID, admin := makeAdmin(e, "root@example.com")
			id := e.Signup("kim@example.com", apitest.Password)
			calls := []struct{ method, path, action string }{
				{"PUT", "/admin/users/" + id + "/roles", accounts.ActionUserRolesSet},
				{"POST", "/admin/users/" + id + "/disable", accounts.ActionUserDisable},
				{"POST", "/admin/users/" + id + "/enable", accounts.ActionUserEnable},
				{"DELETE", "/admin/users/" + id + "/sessions", accounts.ActionUserSessionsEnd},
				{"DELETE", "/admin/users/" + id, accounts.ActionUserDelete},
			}
			for _, c := range calls {
				var body any
				if c.method == "PUT" {
					body = map[string]any{"roles": []string{"admin", "member"}}
				}
				if r := adminCall(e, c.method, c.path, admin.AccessToken, body); r.Status >= 300 {
					t.Fatalf("%s %s: %d %s", c.method, c.path, r.Status, r.Body)
				}
			}
			// Reads are not audited; a failed action is not either.
			adminCall(e, "GET", "/admin/users", admin.AccessToken, nil)
			adminCall(e, "POST", "/admin/users/"+id+"/disable", admin.AccessToken, nil)

			type event struct {
				ID      string            `json:"id"`
				Time    time.Time         `json:"time"`
				Actor   string            `json:"actor"`
				Action  string            `json:"action"`
				Target  string            `json:"target"`
				Details map[string]string `json:"details"`
				IP      string            `json:"ip"`
			}
			var all []event
			cursor := ""
			for {
				path := "/admin/audit?limit=2"
				if cursor != "" {
					path += "&cursor=" + url.QueryEscape(cursor)
				}
				r := adminCall(e, "GET", path, admin.AccessToken, nil)
				var page struct {
					Events     []event `json:"events"`
					NextCursor string  `json:"next_cursor"`
				}
				if r.Status != 200 || json.Unmarshal(r.Body, &page) != nil {
					t.Fatalf("audit: %d %s", r.Status, r.Body)
				}
				for _, ev := range page.Events {
					if !strings.HasPrefix(ev.Action, "auth.") { // sign-ins are security events, not admin actions
						all = append(all, ev)
					}
				}
				if cursor = page.NextCursor; cursor == "" {
					break
				}
			}
			if len(all) != len(calls) {
				t.Fatalf("%d events, want %d: %+v", len(all), len(calls), all)
			}
			for i, ev := range all {
				want := calls[len(calls)-1-i] // newest first
				if ev.Action != want.action || ev.Actor != adminID || ev.Target != id || ev.IP != "127.0.0.1" || ev.Time.IsZero() || ev.Details == nil {
					t.Errorf("event %d = %+v, want action %s by %s on %s from 127.0.0.1", i, ev, want.action, adminID, id)
				}
			}
			if d := all[len(all)-1].Details; d["roles"] != "admin,member" || d["previous_roles"] != "member" {
				t.Errorf("roles.set details = %v", d)
			}
			if d := all[0].Details; d["email"] != "kim@example.com" {
				t.Errorf("delete details = %v", d)
			}
		})
	}
}

// jwtRolesAndScope reads the roles and scope claims of an access token.
func jwtRolesAndScope(e *apitest.Env, tk apitest.Tokens) ([]string, string) {
	e.T.Helper()
	c, err := e.Sessions.ParseAccess(context.Background(), tk.AccessToken)
	if err != nil {
		e.T.Fatal(err)
	}
	return c.Roles, c.Scope
}

func TestAdminRoleChangesTakeEffectAtRefresh(t *testing.T) {
	for _, b := range apitest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			e := newAdminEnv(t, b)
			_, root := makeAdmin(e, "root@example.com")
			id, old := e.NewUser("max@example.com")
			if roles, scope := jwtRolesAndScope(e, old); !slices.Equal(roles, []string{"member"}) || scope != "profile:read" {
				t.Fatalf("member token: roles %q scope %q", roles, scope)
			}

			// Promote.
			apitest.WantStatus(t, "set roles", adminCall(e, "PUT", "/admin/users/"+id+"/roles", root.AccessToken, map[string]any{"roles": []string{"member", "admin"}}), 200)
			// The token issued before keeps its roles and scope until it expires.
			if r := adminCall(e, "GET", "/admin/users", old.AccessToken, nil); r.Status != http.StatusForbidden {
				t.Errorf("admin route with the pre-promotion token: %d, want 403 until refresh", r.Status)
			}
			next := e.MustTokens(e.Refresh(old.RefreshToken))
			roles, scope := jwtRolesAndScope(e, next)
			if !slices.Equal(roles, []string{"member", "admin"}) || !slices.Contains(strings.Fields(scope), "users:admin") {
				t.Fatalf("refreshed token: roles %q scope %q, want the admin role and users:admin", roles, scope)
			}
			if next.Scope != scope {
				t.Errorf("token response scope %q, token scope %q", next.Scope, scope)
			}
			if r := adminCall(e, "GET", "/admin/users", next.AccessToken, nil); r.Status != 200 {
				t.Errorf("admin route after refresh: %d %s", r.Status, r.Body)
			}

			// Demote: unilogin's own admin routes refuse at once, even the
			// token that still says admin; the next refresh drops the role.
			apitest.WantStatus(t, "set roles", adminCall(e, "PUT", "/admin/users/"+id+"/roles", root.AccessToken, map[string]any{"roles": []string{"member"}}), 200)
			if roles, _ := jwtRolesAndScope(e, next); !slices.Contains(roles, "admin") {
				t.Fatal("test premise: the token still claims admin")
			}
			if r := adminCall(e, "GET", "/admin/users", next.AccessToken, nil); r.Status != http.StatusForbidden || r.ErrCode(t) != "insufficient_scope" {
				t.Errorf("admin route after demotion: %d %s, want 403 at once", r.Status, r.Body)
			}
			last := e.MustTokens(e.Refresh(next.RefreshToken))
			if roles, scope := jwtRolesAndScope(e, last); !slices.Equal(roles, []string{"member"}) || strings.Contains(scope, "users:admin") {
				t.Errorf("token after demotion and refresh: roles %q scope %q", roles, scope)
			}
			var me struct {
				Roles       []string `json:"roles"`
				Permissions []string `json:"permissions"`
			}
			json.Unmarshal(e.Get("/users/me", apitest.Bearer(last.AccessToken)...).Body, &me)
			if !slices.Equal(me.Roles, []string{"member"}) || !slices.Equal(me.Permissions, []string{"profile:read"}) {
				t.Errorf("/users/me = %+v", me)
			}
		})
	}
}

// TestAdminNarrowedTokenIsRefused: a token whose scope was narrowed at
// sign-in (scope=profile:read) has no users:admin, whatever the roles.
func TestAdminNarrowedTokenIsRefused(t *testing.T) {
	e := newAdminEnv(t, apitest.SQLiteBackend())
	makeAdmin(e, "root@example.com")
	narrow := e.MustTokens(e.PostForm("/token", url.Values{"grant_type": {"password"}, "username": {"root@example.com"}, "password": {apitest.Password}, "scope": {"profile:read"}}))
	if r := adminCall(e, "GET", "/admin/users", narrow.AccessToken, nil); r.Status != http.StatusForbidden {
		t.Errorf("narrowed token: %d", r.Status)
	}
}
