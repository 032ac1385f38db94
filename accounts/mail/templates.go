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

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/i18n"
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
	// Locale is the language of the message: the layout's own words and
	// its lang attribute; nil: English. The constructors below write the
	// whole message in it.
	Locale *i18n.Locale
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
	l := c.Locale
	if l == nil {
		l = i18n.Default()
	}
	data := layoutData{Branding: b, Content: c, Lang: l.Lang(),
		ButtonHint: l.T("If the button does not work, open this address:")}
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
	Lang, ButtonHint string
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
<html lang="{{.Lang}}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{{.Subject}}</title></head>
<body style="margin:0;padding:24px;background:#f5f6f8;font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#1f2328;">
<div style="max-width:480px;margin:0 auto;background:#ffffff;border-radius:8px;padding:32px;">
<p style="margin:0 0 24px;font-size:20px;font-weight:600;color:{{.AccentColor}};">{{.ProductName}}</p>
{{range .Intro}}<p style="margin:0 0 16px;font-size:15px;line-height:1.5;">{{.}}</p>
{{end}}{{with .Action}}<p style="margin:24px 0;"><a href="{{.URL}}" style="display:inline-block;padding:12px 20px;border-radius:6px;background:{{$.AccentColor}};color:#ffffff;text-decoration:none;font-weight:600;">{{.Label}}</a></p>
<p style="margin:0 0 16px;font-size:13px;line-height:1.5;color:#59636e;">{{$.ButtonHint}}<br><a href="{{.URL}}" style="color:{{$.AccentColor}};word-break:break-all;">{{.URL}}</a></p>
{{end}}{{range .Outro}}<p style="margin:0 0 16px;font-size:13px;line-height:1.5;color:#59636e;">{{.}}</p>
{{end}}</div>
</body>
</html>
`))

// humanDuration says d in words in l's language: "30 minutes", "24
// hours", "7 days".
func humanDuration(l *i18n.Locale, d time.Duration) string {
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return l.T("%d days", int64(d/(24*time.Hour)))
	case d >= time.Hour && d%time.Hour == 0:
		if d == time.Hour {
			return l.T("1 hour")
		}
		return l.T("%d hours", int64(d/time.Hour))
	case d >= 2*time.Minute:
		return l.T("%d minutes", int64(d/time.Minute))
	case d >= time.Minute:
		return l.T("1 minute")
	case d >= 2*time.Second:
		return l.T("%d seconds", int64(d/time.Second))
	}
	return l.T("1 second")
}

// wording is what one kind of account message says, as catalog keys:
// subject and intro take the product name, expiry the lifetime of the
// link.
type wording struct {
	path           string // of the link under the issuer; "" in a notice without link
	subject, intro string
	label, expiry  string // the link's button and how long it works
	outro          string
}

// accountMessages are the messages of the account flows.
var accountMessages = map[accounts.MailKind]wording{
	accounts.MailVerifyEmail: {path: "/verify-email",
		subject: i18n.M("Verify your e-mail address for %s"),
		intro:   i18n.M("Please confirm that this address belongs to your %s account."),
		label:   i18n.M("Verify e-mail address"),
		expiry:  i18n.M("The link works once and expires in %s."),
		outro:   i18n.M("If you did not create an account, you can ignore this message.")},
	accounts.MailResetPassword: {path: "/reset-password",
		subject: i18n.M("Reset your %s password"),
		intro:   i18n.M("Someone asked to reset the password of the %s account with this address."),
		label:   i18n.M("Choose a new password"),
		expiry:  i18n.M("The link works once and expires in %s."),
		outro:   i18n.M("If you did not ask for this, ignore this message: your password stays as it is.")},
	accounts.MailConfirmEmailChange: {path: "/confirm-email",
		subject: i18n.M("Confirm your new e-mail address for %s"),
		intro:   i18n.M("Please confirm that your %s account should use this address from now on."),
		label:   i18n.M("Confirm new address"),
		expiry:  i18n.M("The link works once and expires in %s. Until then the account keeps its old address."),
		outro:   i18n.M("If you did not ask for this, you can ignore this message.")},
	// Goes to the old address when a change is requested; it does not name
	// the new address.
	accounts.MailEmailChangeNotice: {
		subject: i18n.M("Your %s e-mail address is being changed"),
		intro:   i18n.M("Someone signed in to your %s account asked to move it to another e-mail address. The change happens only when the link sent to the new address is opened."),
		outro:   i18n.M("If this was not you, sign in and change your password.")},
	// Tells the user that the password was reset or changed.
	accounts.MailPasswordChanged: {
		subject: i18n.M("Your %s password was changed"),
		intro:   i18n.M("The password of your %s account was just changed."),
		outro:   i18n.M("If this was not you, reset your password at once and check the account's sign-in methods.")},
}

// AccountMessage composes the message of kind for to in l's language.
// A kind with a link carries link as its button and expires ttl after now;
// a notice ignores link and ttl.
func AccountMessage(l *i18n.Locale, b Branding, to string, kind accounts.MailKind, link string, ttl time.Duration, now time.Time) (Message, error) {
	w, ok := accountMessages[kind]
	if !ok {
		return Message{}, fmt.Errorf("mail: unknown account message kind %d", kind)
	}
	name := b.withDefaults().ProductName
	c := Content{Locale: l, Subject: l.T(w.subject, name), Intro: []string{l.T(w.intro, name)}}
	if w.path != "" {
		c.Action = &Action{Label: l.Text(w.label), URL: link}
		c.Outro = append(c.Outro, l.T(w.expiry, humanDuration(l, ttl)))
	}
	c.Outro = append(c.Outro, l.Text(w.outro))
	m, err := Compose(b, to, c)
	if err != nil {
		return Message{}, err
	}
	if w.path != "" {
		m.Expires = now.Add(ttl)
	}
	return m, nil
}
