package i18n

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/text/language"
)

// A message key in a template, {{t "..."}} or (t "..."), and in Go code,
// .T("...") or i18n.M("..."); quoted or raw string literals.
var (
	templateKey = regexp.MustCompile("(?:\\{\\{-?|\\()\\s*t\\s+(\"(?:[^\"\\\\\\n]|\\\\.)*\"|`[^`]*`)")
	goKey       = regexp.MustCompile("(?:\\.T|\\bi18n\\.M)\\(\\s*(\"(?:[^\"\\\\\\n]|\\\\.)*\"|`[^`]*`)")
	printfVerb  = regexp.MustCompile(`%[-+# 0]*(?:\[\d+\])?[0-9*]*(?:\.[0-9*]+)?[a-zA-Z%]`)
	argIndex    = regexp.MustCompile(`\[\d+\]`)
)

type usedKey struct{ key, where string }

// moduleKeys collects every message key of the module: templates (*.html,
// *.tmpl) and non-test Go files.
func moduleKeys(t *testing.T) []usedKey {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s: %v", root, err)
	}
	var keys []usedKey
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		var re *regexp.Regexp
		switch name := d.Name(); {
		case strings.HasSuffix(name, ".html"), strings.HasSuffix(name, ".tmpl"):
			re = templateKey
		case strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go"):
			re = goKey
		default:
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		for _, m := range re.FindAllSubmatchIndex(b, -1) {
			lit := string(b[m[2]:m[3]])
			key, err := strconv.Unquote(lit)
			if err != nil {
				t.Errorf("%s: cannot read the message key %s: %v", rel, lit, err)
				continue
			}
			line := 1 + strings.Count(string(b[:m[0]]), "\n")
			keys = append(keys, usedKey{key, rel + ":" + strconv.Itoa(line)})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// Every message the pages and e-mails use has a translation in every
// supported language, with the same printf verbs as its English key.
func TestEveryKeyTranslated(t *testing.T) {
	for _, d := range duplicates {
		t.Errorf("%s is translated in two catalog files: keep one", d)
	}
	keys := moduleKeys(t)
	if len(keys) < 50 {
		t.Fatalf("found only %d message keys: is the scan still looking in the right places?", len(keys))
	}
	for _, lang := range Supported()[1:] {
		if langName[lang] == "" {
			t.Fatalf("%s is supported but not in langName: add it there", lang)
		}
		for _, k := range keys {
			if _, ok := messages[lang][k.key]; !ok {
				t.Errorf("%s: %q has no %s translation: add it to the catalog file of its area in accounts/i18n "+
					"(catalog_<area>.go, whose init calls add(language.%s, map[string]string{...})) as\n\t%q: \"...\",",
					k.where, k.key, langName[lang], langName[lang], k.key)
			}
		}
		for key, text := range messages[lang] {
			if kv, tv := verbs(key), verbs(text); kv != tv {
				t.Errorf("%s translation of %q uses the verbs %q, the key %q", langName[lang], key, tv, kv)
			}
		}
	}
}

// langName names each supported language other than English as its
// variable in golang.org/x/text/language; a new language is added here.
var langName = map[language.Tag]string{language.German: "German"}

// verbs lists the printf verbs of a message, sorted, so that a translation
// may reorder them with explicit indexes.
func verbs(s string) string {
	vs := printfVerb.FindAllString(s, -1)
	for i, v := range vs {
		vs[i] = argIndex.ReplaceAllString(v, "")
	}
	slices.Sort(vs)
	return strings.Join(vs, " ")
}
