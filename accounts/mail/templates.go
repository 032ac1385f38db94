package mail

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"regexp"
	"strings"
	"text/template"
	"time"
	"unicode"
)

// Branding is what messages share with the hosted pages: the product name
// (header, signature, sender name) and the accent colour of the button.
type Branding struct {
	ProductName string // default "unilogin"
	AccentColor string // CSS hex colour, #rgb or #rrggbb; default #2557d6
}

const (
	defaultProductName = "unilogin"
	defaultAccent      = "#2557d6"
)

var accentRE = regexp.MustCompile(`^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

func (b Branding) withDefaults() Branding {
	if strings.TrimSpace(b.ProductName) == "" {
		b.ProductName = defaultProductName
	}
	if !accentRE.MatchString(b.AccentColor) {
		b.AccentColor = defaultAccent
	}
	return b
}

// Content is what a message says; Compose lays it out in both parts.
type Content struct {
	Subject string
	// Intro paragraphs come before the action, Outro paragraphs after it.
	Intro, Outro []string
	// Action is the link the message is about; nil: a notice without link.
	Action *Action
}

// Action is a link with the label of its button.
type Action struct {
	Label string
	URL   string // absolute http(s) URL, no spaces
}

// Compose builds the message for to from c with the branding: a text/plain
// part (paragraphs wrapped at 72 columns, the link alone on a line) and an
// HTML part with the link as a button in the accent colour (and spelled
// out, for clients that hide buttons).
func Compose(b Branding, to string, c Content) (Message, error) {
	b = b.withDefaults()
	if c.Action != nil {
		if err := checkLink(c.Action.URL); err != nil {
			return Message{}, err
		}
	}
	data := layoutData{Branding: b, Content: c}
	var text, html bytes.Buffer
	if err := textLayout.Execute(&text, data); err != nil {
		return Message{}, fmt.Errorf("mail: compose text: %w", err)
	}
	if err := htmlLayout.Execute(&html, data); err != nil {
		return Message{}, fmt.Errorf("mail: compose html: %w", err)
	}
	m := Message{To: to, Subject: c.Subject, Text: text.String(), HTML: html.String()}
	return m, m.check()
}

// checkLink accepts an absolute http(s) URL that fits on one line.
func checkLink(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		strings.ContainsFunc(raw, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) ||
		len(raw) > maxLine {
		return fmt.Errorf("%w: the link must be an absolute http(s) URL without spaces", ErrInvalidMessage)
	}
	return nil
}

type layoutData struct {
	Branding
	Content
}

// wrap breaks s into lines of at most width columns at spaces; a word
// longer than width stays whole on its own line.
func wrap(s string, width int) string {
	var out, line strings.Builder
	n := 0
	for _, w := range strings.Fields(s) {
		wl := len([]rune(w))
		if n > 0 && n+1+wl > width {
			out.WriteString(line.String() + "\n")
			line.Reset()
			n = 0
		}
		if n > 0 {
			line.WriteByte(' ')
			n++
		}
		line.WriteString(w)
		n += wl
	}
	out.WriteString(line.String())
	return out.String()
}

// The text layout puts the URL on a line of its own, with nothing else on
// it, so that it can be copied whole and found by tests.
var textLayout = template.Must(template.New("text").Funcs(template.FuncMap{"wrap": wrap}).Parse(
	`{{.ProductName}}

{{range .Intro}}{{wrap . 72}}

{{end}}{{with .Action}}{{.Label}}:

{{.URL}}

{{end}}{{range .Outro}}{{wrap . 72}}

{{end}}-- 
{{.ProductName}}
`))

var htmlLayout = htmltemplate.Must(htmltemplate.New("html").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{{.Subject}}</title></head>
<body style="margin:0;padding:24px;background:#f5f6f8;font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#1f2328;">
<div style="max-width:480px;margin:0 auto;background:#ffffff;border-radius:8px;padding:32px;">
<p style="margin:0 0 24px;font-size:20px;font-weight:600;color:{{.AccentColor}};">{{.ProductName}}</p>
{{range .Intro}}<p style="margin:0 0 16px;font-size:15px;line-height:1.5;">{{.}}</p>
{{end}}{{with .Action}}<p style="margin:24px 0;"><a href="{{.URL}}" style="display:inline-block;padding:12px 20px;border-radius:6px;background:{{$.AccentColor}};color:#ffffff;text-decoration:none;font-weight:600;">{{.Label}}</a></p>
<p style="margin:0 0 16px;font-size:13px;line-height:1.5;color:#59636e;">If the button does not work, open this address:<br><a href="{{.URL}}" style="color:{{$.AccentColor}};word-break:break-all;">{{.URL}}</a></p>
{{end}}{{range .Outro}}<p style="margin:0 0 16px;font-size:13px;line-height:1.5;color:#59636e;">{{.}}</p>
{{end}}</div>
</body>
</html>
`))

// humanDuration says d in words: "30 minutes", "24 hours", "7 days".
func humanDuration(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return plural(int64(d/(24*time.Hour)), "day")
	case d >= time.Hour && d%time.Hour == 0:
		return plural(int64(d/time.Hour), "hour")
	case d >= time.Minute:
		return plural(int64(d/time.Minute), "minute")
	}
	return plural(max(int64(d/time.Second), 1), "second")
}

// linkMessage composes a message whose link expires after ttl from now.
func linkMessage(b Branding, to string, c Content, ttl time.Duration, now time.Time) (Message, error) {
	m, err := Compose(b, to, c)
	if err != nil {
		return Message{}, err
	}
	m.Expires = now.Add(ttl)
	return m, nil
}

// VerifyEmail is the message that confirms an address belongs to its user.
func VerifyEmail(b Branding, to, link string, ttl time.Duration, now time.Time) (Message, error) {
	name := b.withDefaults().ProductName
	return linkMessage(b, to, Content{
		Subject: "Verify your e-mail address for " + name,
		Intro:   []string{"Please confirm that this address belongs to your " + name + " account."},
		Action:  &Action{Label: "Verify e-mail address", URL: link},
		Outro: []string{"The link works once and expires in " + humanDuration(ttl) + ".",
			"If you did not create an account, you can ignore this message."},
	}, ttl, now)
}

// ResetPassword is the message with a link that sets a new password.
func ResetPassword(b Branding, to, link string, ttl time.Duration, now time.Time) (Message, error) {
	name := b.withDefaults().ProductName
	return linkMessage(b, to, Content{
		Subject: "Reset your " + name + " password",
		Intro:   []string{"Someone asked to reset the password of the " + name + " account with this address."},
		Action:  &Action{Label: "Choose a new password", URL: link},
		Outro: []string{"The link works once and expires in " + humanDuration(ttl) + ".",
			"If you did not ask for this, ignore this message: your password stays as it is."},
	}, ttl, now)
}

// ConfirmEmailChange goes to the new address of an address change.
func ConfirmEmailChange(b Branding, to, link string, ttl time.Duration, now time.Time) (Message, error) {
	name := b.withDefaults().ProductName
	return linkMessage(b, to, Content{
		Subject: "Confirm your new e-mail address for " + name,
		Intro:   []string{"Please confirm that your " + name + " account should use this address from now on."},
		Action:  &Action{Label: "Confirm new address", URL: link},
		Outro: []string{"The link works once and expires in " + humanDuration(ttl) + ". Until then the account keeps its old address.",
			"If you did not ask for this, you can ignore this message."},
	}, ttl, now)
}

// EmailChangeNotice goes to the old address when a change is requested.
// It does not name the new address.
func EmailChangeNotice(b Branding, to string) (Message, error) {
	name := b.withDefaults().ProductName
	return Compose(b, to, Content{
		Subject: "Your " + name + " e-mail address is being changed",
		Intro: []string{"Someone signed in to your " + name + " account asked to move it to another e-mail address. " +
			"The change happens only when the link sent to the new address is opened."},
		Outro: []string{"If this was not you, sign in and change your password."},
	})
}

// PasswordChangedNotice tells the user that the password was reset or
// changed.
func PasswordChangedNotice(b Branding, to string) (Message, error) {
	name := b.withDefaults().ProductName
	return Compose(b, to, Content{
		Subject: "Your " + name + " password was changed",
		Intro:   []string{"The password of your " + name + " account was just changed."},
		Outro:   []string{"If this was not you, reset your password at once and check the account's sign-in methods."},
	})
}
