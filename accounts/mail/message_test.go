package mail

import (
	"io"
	"mime"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/language"

	"github.com/unilogin/unilogin/accounts/i18n"
)

func TestRenderHeadersAndEncodings(t *testing.T) {
	from := &netmail.Address{Name: "Zoë's ID", Address: "no-reply@example.com"}
	m := Message{To: "ann@example.org", Subject: "Grüße, bitte bestätigen", Text: "Hallo Zoë\n\nhttps://x.example/a?b=c\n"}
	raw, err := render(from, m, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "abc@example.com")
	if err != nil {
		t.Fatal(err)
	}
	msg, err := netmail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	dec := new(mimeDecoder)
	if got, _ := dec.DecodeHeader(msg.Header.Get("Subject")); got != m.Subject {
		t.Errorf("Subject decodes to %q", got)
	}
	if got := msg.Header.Get("Subject"); !strings.HasPrefix(got, "=?utf-8?q?") {
		t.Errorf("non-ASCII subject not RFC 2047 encoded: %q", got)
	}
	if a, err := msg.Header.AddressList("From"); err != nil || a[0].Name != from.Name {
		t.Errorf("From = %v, %v", a, err)
	}
	if got := msg.Header.Get("Content-Transfer-Encoding"); got != "8bit" {
		t.Errorf("UTF-8 text part: CTE %q, want 8bit", got)
	}
	if got := msg.Header.Get("Message-Id"); got != "<abc@example.com>" {
		t.Errorf("Message-ID %q", got)
	}
	body, _ := io.ReadAll(msg.Body)
	if !strings.Contains(string(body), "\r\nhttps://x.example/a?b=c\r\n") {
		t.Errorf("body lost the CRLF-delimited link line: %q", body)
	}
	for _, line := range strings.Split(string(raw), "\r\n") {
		if strings.Contains(line, "\n") || len(line) > maxLine {
			t.Errorf("bad line %q", line)
		}
	}
}

func TestEncodeBodyLongLinesQuotedPrintable(t *testing.T) {
	cte, _ := encodeBody(strings.Repeat("a", 1200), true)
	if cte != "quoted-printable" {
		t.Errorf("a 1200-octet line: CTE %q, want quoted-printable", cte)
	}
	if cte, _ := encodeBody("plain ascii\n", true); cte != "7bit" {
		t.Errorf("ASCII: CTE %q, want 7bit", cte)
	}
}

func TestWrapKeepsWordsAndWidth(t *testing.T) {
	s := strings.Repeat("word ", 40) + "https://example.com/" + strings.Repeat("x", 90)
	for _, l := range strings.Split(wrap(s, 72), "\n") {
		if len(l) > 72 && strings.Contains(l, " ") {
			t.Errorf("line of %d columns with a space: %q", len(l), l)
		}
	}
	if got := humanDuration(i18n.Default(), 30*time.Minute); got != "30 minutes" {
		t.Errorf("humanDuration(30m) = %q", got)
	}
	if got := humanDuration(i18n.Default(), 24*time.Hour); got != "24 hours" {
		t.Errorf("humanDuration(24h) = %q", got)
	}
	if got := humanDuration(i18n.For(language.German), time.Minute); got != "1 Minute" {
		t.Errorf("humanDuration(de, 1m) = %q", got)
	}
}

func TestHTMLEscapesContent(t *testing.T) {
	m, err := Compose(Branding{ProductName: "<b>Evil</b>", AccentColor: "red;background:url(x)"}, "ann@example.org",
		Content{Subject: "s", Intro: []string{"<script>alert(1)</script>"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.HTML, "<script>") || strings.Contains(m.HTML, "<b>Evil") || strings.Contains(m.HTML, "url(x)") {
		t.Errorf("HTML part not escaped:\n%s", m.HTML)
	}
	if !strings.Contains(m.HTML, defaultAccent) {
		t.Error("an invalid accent colour did not fall back to the default")
	}
}

type mimeDecoder = mime.WordDecoder
