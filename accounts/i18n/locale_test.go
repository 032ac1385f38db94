package i18n

import (
	"context"
	"testing"
	"time"

	"golang.org/x/text/language"
)

func TestNegotiate(t *testing.T) {
	for _, tc := range []struct{ ui, accept, want string }{
		{"", "", "en"},
		{"de", "", "de"},
		{"de-CH", "en", "de"},                 // ui_locales wins over Accept-Language
		{"fr de en", "", "de"},                // the first supported entry
		{"en de", "de", "en"},                 // in the order given
		{"fr", "de-AT;q=0.9, en;q=0.8", "de"}, // nothing supported: Accept-Language
		{"", "fr, de;q=0.5, en;q=0.4", "de"},
		{"", "en-GB, de;q=0.9", "en"},
		{"", "fr, ja", "en"},
		{"x!x", "a;b;;q=x", "en"}, // malformed: ignored
		{"", "*", "en"},
	} {
		if got := Negotiate(tc.ui, tc.accept).Lang(); got != tc.want {
			t.Errorf("Negotiate(%q, %q) = %s, want %s", tc.ui, tc.accept, got, tc.want)
		}
	}
	if l, ok := Match("de-DE"); !ok || l.Tag() != language.German {
		t.Errorf("Match(de-DE) = %v, %v", l, ok)
	}
	if _, ok := UILocale("fr ja"); ok {
		t.Error("UILocale(fr ja) found a locale")
	}
	if l, ok := UILocale("fr en"); !ok || l != Default() {
		t.Errorf("UILocale(fr en) = %v, %v", l, ok)
	}
	if _, ok := Match("fr"); ok {
		t.Error("Match(fr) found a locale")
	}
}

func TestTranslate(t *testing.T) {
	de, en := For(language.German), Default()
	if got := de.T("Sign in with %s", "Google"); got != "Mit Google anmelden" {
		t.Errorf("de: %q", got)
	}
	if got := en.T("Sign in with %s", "Google"); got != "Sign in with Google" {
		t.Errorf("en: %q", got)
	}
	// A key without translation is shown in English, formatted.
	if got := de.T("No such message %d", 7); got != "No such message 7" {
		t.Errorf("untranslated: %q", got)
	}
	if got := de.Text(M("Sign out")); got != "Abmelden" {
		t.Errorf("de.Text: %q", got)
	}
	for _, s := range []string{"Abmelden", "not in the catalog: 100% sure"} {
		if got := de.Text(s); got != s {
			t.Errorf("de.Text(%q) = %q, want it unchanged", s, got)
		}
	}
	if got := en.Text("Sign out"); got != "Sign out" {
		t.Errorf("en.Text: %q", got)
	}
	if For(language.French) != en {
		t.Error("an unsupported language did not get English")
	}
	when := time.Date(2026, 12, 1, 13, 5, 0, 0, time.FixedZone("CET", 3600))
	if got := de.Time(when); got != "1.12.2026, 12:05 UTC" {
		t.Errorf("de.Time = %q", got)
	}
	if got := en.Time(when); got != "1 Dec 2026, 12:05 UTC" {
		t.Errorf("en.Time = %q", got)
	}
}

func TestContext(t *testing.T) {
	if FromContext(context.Background()) != Default() {
		t.Error("an empty context is not English")
	}
	de := For(language.German)
	if FromContext(WithLocale(context.Background(), de)) != de {
		t.Error("the context lost its locale")
	}
}

// The scan finds keys of both shapes, in both kinds of file, and reports a
// key that has no translation.
func TestScanFindsKeys(t *testing.T) {
	for _, tc := range []struct {
		re   string
		src  string
		want string
	}{
		{"tmpl", `<p>{{t "Sign in with %s" .Name}}</p>`, `"Sign in with %s"`},
		{"tmpl", `aria-label="{{- t "Revoke" }}"`, `"Revoke"`},
		{"tmpl", `{{template "x" (t "Say \"hi\"")}}`, `"Say \"hi\""`},
		{"go", `msg := loc.T("Reset your %s password", name)`, `"Reset your %s password"`},
		{"go", "l.T(`raw`)", "`raw`"},
		{"go", `"linked": i18n.M("The identity was linked."),`, `"The identity was linked."`},
	} {
		re := goKey
		if tc.re == "tmpl" {
			re = templateKey
		}
		m := re.FindStringSubmatch(tc.src)
		if m == nil || m[1] != tc.want {
			t.Errorf("%s scan of %s = %q, want %s", tc.re, tc.src, m, tc.want)
		}
	}
	found := map[string]bool{}
	for _, k := range moduleKeys(t) {
		found[k.key] = true
	}
	for _, key := range []string{"Sign in with %s", "Reset your %s password", "2 Jan 2006, 15:04 UTC"} {
		if !found[key] {
			t.Errorf("the scan missed %q", key)
		}
	}
	if _, ok := messages[language.German]["No such message %d"]; ok {
		t.Error("an unknown key counts as translated")
	}
}

func TestCatalogChecks(t *testing.T) {
	if verbs("%s has %d") != verbs("%[2]d bei %[1]s") || verbs("%s") == verbs("%d") || verbs("100%%") == verbs("100") {
		t.Error("verbs does not compare printf verbs")
	}
	before := len(duplicates)
	add(language.German, map[string]string{"Sign in": "Einloggen"})
	if len(duplicates) != before+1 || For(language.German).T("Sign in") != "Anmelden" {
		t.Error("a key translated twice was not recorded, or replaced the first translation")
	}
	duplicates = duplicates[:before]
}
