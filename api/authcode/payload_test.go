package authcode

import (
	"encoding/json"
	"testing"

	"github.com/unilogin/unilogin/accounts"
)

// The payload is stored with the code and read by whichever instance
// redeems it, possibly one of another version during a rolling upgrade:
// its JSON must stay what every version writes and reads.
func TestPayloadWireFormat(t *testing.T) {
	p := payload{
		Link:     &accounts.ExternalIdentity{Provider: "github", Subject: "42", Email: "kim@example.com", EmailVerified: true, Name: "Kim"},
		AuthTime: 1700000000, Scope: "openid profile", Nonce: "n-0S6", UserAgent: "Firefox on Linux",
	}
	link, err := json.Marshal(p.Link)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"link":` + string(link) + `,"at":1700000000,"sc":"openid profile","n":"n-0S6","ua":"Firefox on Linux"}`
	got, err := json.Marshal(p)
	if err != nil || string(got) != want {
		t.Fatalf("payload JSON\n got %s (%v)\nwant %s", got, err, want)
	}
	var back payload
	if err := json.Unmarshal([]byte(want), &back); err != nil || back.AuthTime != p.AuthTime || back.Scope != p.Scope ||
		back.Nonce != p.Nonce || back.UserAgent != p.UserAgent || back.Link == nil || *back.Link != *p.Link {
		t.Fatalf("decoded %+v (%v), want %+v", back, err, p)
	}
	if got, _ := json.Marshal(payload{}); string(got) != `{}` {
		t.Fatalf("empty payload JSON %s, want {}", got)
	}
}
