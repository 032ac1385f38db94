package api

// Unit tests of unexported helpers; every HTTP-level test is in package
// api_test and runs the production assembly (api/apitest).

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/unilogin/unilogin/session"
)

// FuzzFlowCookie: the flow cookie's opener never panics and accepts only
// what the server sealed (for the same purpose).
func FuzzFlowCookie(f *testing.F) {
	key := make([]byte, 32)
	rand.Read(key)
	sealer, err := session.NewSealer(key)
	if err != nil {
		f.Fatal(err)
	}
	flow := &FlowCodec{sealer: sealer}
	genuine := flow.Seal(LinkTicket{UserID: "u1", Provider: "google", Expires: time.Now().Add(time.Minute)}, "flow-cookie")
	ticket := flow.Seal(LinkTicket{UserID: "u1", Provider: "google"}, "link-ticket")
	raw, _ := base64.RawURLEncoding.DecodeString(genuine)
	for _, s := range []string{
		genuine,
		ticket, // sealed for another purpose
		genuine[:len(genuine)-1],
		genuine + "A",
		strings.ToUpper(genuine),
		base64.StdEncoding.EncodeToString(raw),
		base64.RawURLEncoding.EncodeToString(append(bytes.Clone(raw[:len(raw)-1]), raw[len(raw)-1]^1)),
		"",
		"!!!!",
		strings.Repeat("A", 9000),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		var fs LinkTicket
		err := flow.Open(value, "flow-cookie", &fs)
		if err != nil {
			return
		}
		b, derr := base64.RawURLEncoding.DecodeString(value)
		if derr != nil || !bytes.Equal(b, raw) {
			t.Fatalf("open accepted a cookie the server never sealed: %q", value)
		}
	})
}

func TestLoneSurrogate(t *testing.T) {
	for in, want := range map[string]bool{
		`{"p":"\ud83d\ude00"}`:           false, // a pair: 😀
		`{"p":"\uD83D\uDE00"}`:           false,
		`{"p":"\\ud800"}`:                false, // an escaped backslash, then text
		`{"p":"\\\ud800"}`:               true,
		`{"p":"\u00e9\n\t\"\/"}`:         false,
		`{"p":"\ud800"}`:                 true,
		`{"p":"\ud800x"}`:                true,
		`{"p":"\ude00"}`:                 true,
		`{"p":"\ud83d\u0041"}`:           true,
		`{"p":"\ud83d\ud83d\ude00"}`:     true,
		`{"p":"\ud83d\ude00\ud83d"}`:     true,
		`{"p":"\ud83`:                    false, // truncated: the JSON decoder refuses it
		`{"p":"plain text, no escapes"}`: false,
	} {
		if got := loneSurrogate([]byte(in)); got != want {
			t.Errorf("loneSurrogate(%s) = %v, want %v", in, got, want)
		}
	}
}

// FuzzCheckRedirect: checkRedirect lets through exactly the registered
// strings of the registered client, nothing that merely looks alike.
func FuzzCheckRedirect(f *testing.F) {
	const app = "https://app.example.com/callback"
	s := &Server{clients: map[string]*Client{
		"web": {ID: "web", Secret: "s", RedirectURIs: []string{app}},
		"spa": {ID: "spa", RedirectURIs: []string{app, "http://127.0.0.1:9999/cb"}},
	}}
	for _, seed := range [][2]string{ // the seeds of FuzzRedirectURI (api_test)
		{"spa", app},
		{"spa", "http://127.0.0.1:9999/cb"},
		{"spa", app + "/"},
		{"spa", app + "?x=1"},
		{"spa", app + "#f"},
		{"spa", "HTTPS://app.example.com/callback"},
		{"spa", "https://app.example.com/callback/../callback"},
		{"spa", "https://app.example.com%2fcallback"},
		{"spa", "https://app.example.com.evil.example/callback"},
		{"spa", "https://evil.example@app.example.com/callback"},
		{"spa", " " + app},
		{"spa", "http://127.0.0.1:9998/cb"},
		{"web", app},
		{"", app},
		{"nope", app},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, clientID, redirectURI string) {
		_, err := s.CheckRedirect(clientID, redirectURI)
		cl, known := s.clients[clientID]
		exact := known && clientID != "" && slices.Contains(cl.RedirectURIs, redirectURI)
		if (err == nil) != exact {
			t.Fatalf("CheckRedirect(%q, %q) = %v; registered exactly: %v", clientID, redirectURI, err, exact)
		}
	})
}
