package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// benchClient speaks to the target as the bench user.
type benchClient struct {
	base            string
	http            *http.Client
	email, password string
}

// pair is one session's tokens; n counts the refreshes of its chain.
type pair struct {
	access, refresh string
	n               int
}

func (c *benchClient) do(ctx context.Context, method, path, contentType, bearer string, body io.Reader) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return 0, nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

// get expects a 200 and drains the body.
func (c *benchClient) get(ctx context.Context, path, bearer string) error {
	status, body, err := c.do(ctx, http.MethodGet, path, "", bearer, nil)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return statusError("GET "+path, status, body)
	}
	return nil
}

func (c *benchClient) signup(ctx context.Context) error {
	b, _ := json.Marshal(map[string]string{"email": c.email, "password": c.password, "name": "unilogin bench"})
	status, body, err := c.do(ctx, http.MethodPost, "/signup", "application/json", "", bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("signup: %w", err)
	}
	if status != http.StatusCreated {
		return statusError("signup", status, body)
	}
	return nil
}

func (c *benchClient) token(ctx context.Context, form url.Values) (pair, error) {
	status, body, err := c.do(ctx, http.MethodPost, "/token", "application/x-www-form-urlencoded", "", strings.NewReader(form.Encode()))
	if err != nil {
		return pair{}, err
	}
	if status != http.StatusOK {
		return pair{}, statusError("POST /token "+form.Get("grant_type"), status, body)
	}
	var tr struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" || tr.RefreshToken == "" {
		return pair{}, fmt.Errorf("POST /token: incomplete token response")
	}
	return pair{access: tr.AccessToken, refresh: tr.RefreshToken}, nil
}

func (c *benchClient) login(ctx context.Context) (pair, error) {
	return c.token(ctx, url.Values{"grant_type": {"password"}, "username": {c.email}, "password": {c.password}})
}

// pairs signs in n times (untimed set-up of a workload).
func (c *benchClient) pairs(ctx context.Context, n int) ([]pair, error) {
	out := make([]pair, n)
	for i := range out {
		p, err := c.login(ctx)
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}

// refreshStep advances the chain p by one refresh grant; a broken chain is
// restarted with a new sign-in (untimed; the failure is recorded).
func (c *benchClient) refreshStep(ctx context.Context, p *pair, r *benchRecorder) {
	start := time.Now()
	next, err := c.token(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {p.refresh}})
	r.record("refresh", start, err)
	if err == nil {
		next.n = p.n + 1
		*p = next
		return
	}
	if fresh, lerr := c.login(ctx); lerr == nil {
		*p = fresh
	}
}

func statusError(what string, status int, body []byte) error {
	var e struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	return fmt.Errorf("%s: HTTP %d %s", what, status, e.Error)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
