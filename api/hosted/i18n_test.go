package hosted_test

import (
	"bytes"
	"mime"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/unilogin/unilogin/accounts/mail/mailtest"
	"github.com/unilogin/unilogin/api/apitest"
)

var germanDate = regexp.MustCompile(`<dd>\d{1,2}\.\d{1,2}\.\d{4}, \d\d:\d\d UTC</dd>`)

// pageLang checks a page's language: the lang attribute, Content-Language
// and some of its text.
func pageLang(t *testing.T, r apitest.Response, status int, lang string, contains ...string) {
	t.Helper()
	apitest.IsPage(t, r, status, append([]string{`<html lang="` + lang + `">`}, contains...)...)
	if cl := r.Header.Get("Content-Language"); cl != lang {
		t.Fatalf("Content-Language %q, want %q", cl, lang)
	}
}

func TestHostedPageLanguage(t *testing.T) {
	fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{})
	e := fe.Env
	a := apitest.PublicApp()

	// English by default, and for a language the pages do not speak.
	b := apitest.NewBrowser(t, e)
	pageLang(t, b.Get("/signin"), 200, "en", "<h1>Sign in</h1>", "Email address", "Create an account")
	b.Hdr = []string{"Accept-Language", "fr-FR, ja;q=0.8"}
	pageLang(t, b.Get("/signin"), 200, "en", "<h1>Sign in</h1>")

	// Accept-Language: German pages, errors included.
	b.Hdr = []string{"Accept-Language", "de-DE,de;q=0.9,en;q=0.5"}
	pageLang(t, b.Get("/signin"), 200, "de", "<h1>Anmelden</h1>", "E-Mail-Adresse", "Mit GitHub anmelden", "Konto erstellen")
	form := url.Values{"email": {"nobody@example.com"}, "password": {"wrong password!"}}
	pageLang(t, b.Post("/signin", form), 400, "de", "Die E-Mail-Adresse oder das Passwort ist falsch.")
	q := apitest.AuthorizeQuery(a)
	q.Set("redirect_uri", "https://evil.example/cb")
	pageLang(t, b.Get("/authorize?"+q.Encode()), 400, "de", "Dieser Anmeldelink ist ungültig")

	// ui_locales at /authorize wins over Accept-Language (the first entry
	// the pages speak) and is kept for the rest of the flow: the form's
	// POST and the sign-up page it links to.
	b = apitest.NewBrowser(t, e)
	b.Hdr = []string{"Accept-Language", "en"}
	q = apitest.AuthorizeQuery(a)
	q.Set("ui_locales", "fr-CA de-CH en")
	pageLang(t, b.Get("/authorize?"+q.Encode()), 200, "de", "<h1>Anmelden</h1>")
	form = apitest.HiddenFields(a)
	form.Set("email", "nobody@example.com")
	form.Set("password", "wrong password!")
	pageLang(t, b.Post("/signin", form), 400, "de", "Die E-Mail-Adresse oder das Passwort ist falsch.")
	pageLang(t, b.Get("/register?"+apitest.HiddenFields(a).Encode()), 200, "de", "Erstellen Sie Ihr Konto")
	// A new sign-in without ui_locales starts afresh.
	pageLang(t, b.Get("/authorize?"+apitest.AuthorizeQuery(a).Encode()), 200, "en", "<h1>Sign in</h1>")
	pageLang(t, b.Get("/signin"), 200, "en")
	q.Set("ui_locales", "en")
	b.Hdr = []string{"Accept-Language", "de"}
	pageLang(t, b.Get("/authorize?"+q.Encode()), 200, "en", "<h1>Sign in</h1>")

	// Sign-up in German: the field reasons of accounts, then the account
	// page with its dates.
	b = apitest.NewBrowser(t, e)
	b.Hdr = []string{"Accept-Language", "de"}
	b.Get("/register")
	form = url.Values{"email": {"dora@example.com"}, "password": {"kurz"}}
	pageLang(t, b.Post("/register", form), 400, "de", "Bitte korrigieren Sie die markierten Felder.",
		"muss mindestens 8 Zeichen lang sein")
	form.Set("password", "password")
	pageLang(t, b.Post("/register", form), 400, "de", "gehört zu den am häufigsten verwendeten Passwörtern")
	form.Set("password", "ein langes und gutes Passwort")
	if r := b.Post("/register", form); r.Status != http.StatusSeeOther && r.Status != http.StatusFound {
		t.Fatalf("sign-up: status %d: %s", r.Status, r.Body)
	}
	box := e.Outbox()
	box.Link("dora@example.com", "/verify-email")
	if subject, text := mailTo(t, e, "dora@example.com", "/verify-email"); subject != "Bestätigen Sie Ihre E-Mail-Adresse für unilogin" ||
		!strings.Contains(text, "Der Link funktioniert einmal und läuft in 24 Stunden ab.") {
		t.Errorf("the sign-up's verification message is not in German: %q\n%s", subject, text)
	}
	r := b.Get("/account")
	pageLang(t, r, 200, "de", "<h1>Ihr Konto</h1>", "Mitglied seit", "Wo Sie angemeldet sind", "dieser Browser")
	if !germanDate.Match(r.Body) {
		t.Fatalf("the dates are not written the German way:\n%s", r.Body)
	}
}

// The mail a JSON request sends is in the language of its
// Accept-Language: subject and text.
func TestMailLanguage(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	e.Signup("de@example.com", "password-123")
	e.Signup("en@example.com", "password-123")
	box := e.Outbox()
	apitest.WantStatus(t, "forgot de", e.PostJSON("/password/forgot", map[string]string{"email": "de@example.com"},
		"Accept-Language", "de-AT, en;q=0.5"), http.StatusAccepted)
	apitest.WantStatus(t, "forgot en", e.PostJSON("/password/forgot", map[string]string{"email": "en@example.com"}), http.StatusAccepted)
	box.Link("de@example.com", "/reset-password")
	box.Link("en@example.com", "/reset-password")
	for to, want := range map[string][]string{
		"de@example.com": {"Setzen Sie Ihr unilogin-Passwort zurück", "Der Link funktioniert einmal und läuft in 30 Minuten ab."},
		"en@example.com": {"Reset your unilogin password", "The link works once and expires in 30 minutes."},
	} {
		if subject, text := mailTo(t, e, to, "/reset-password"); subject != want[0] || !strings.Contains(text, want[1]) {
			t.Errorf("message to %s: subject %q, text:\n%s", to, subject, text)
		}
	}
}

// mailTo returns the subject and text of the message in the outbox to
// `to` with a link to path (the outbox's link has waited for it).
func mailTo(t *testing.T, e *apitest.Env, to, path string) (subject, text string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(e.Cfg.DataDir, "outbox", "*.eml"))
	for _, f := range files {
		rcpt, subject, text := readEMLSubject(t, f)
		if strings.EqualFold(rcpt, to) && strings.Contains(text, path+"?token=") {
			return subject, text
		}
	}
	t.Fatalf("no message to %s with a %s link", to, path)
	return "", ""
}

// readEMLSubject is readEML with the message's decoded subject.
func readEMLSubject(t *testing.T, path string) (rcpt, subject, text string) {
	t.Helper()
	rcpt, text = mailtest.ReadEML(path)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	return rcpt, subject, text
}
