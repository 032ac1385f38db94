package i18n

import (
	"context"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// supported lists the languages of the catalog, the default first.
var supported = []language.Tag{language.English, language.German}

var (
	matcher = language.NewMatcher(supported)
	locales = func() map[language.Tag]*Locale {
		m := make(map[language.Tag]*Locale, len(supported))
		for _, tag := range supported {
			m[tag] = &Locale{tag: tag, p: message.NewPrinter(tag, message.Catalog(builder))}
		}
		return m
	}()
)

// Locale translates messages into one supported language. It is safe for
// concurrent use.
type Locale struct {
	tag language.Tag
	p   *message.Printer
}

// Supported returns the languages the catalog speaks, English first.
func Supported() []language.Tag { return append([]language.Tag(nil), supported...) }

// Default is the English locale.
func Default() *Locale { return locales[language.English] }

// For returns the locale of tag, which must be one of Supported; any other
// tag gets English.
func For(tag language.Tag) *Locale {
	if l, ok := locales[tag]; ok {
		return l
	}
	return Default()
}

// Tag is the language of l.
func (l *Locale) Tag() language.Tag { return l.tag }

// Lang is the BCP 47 tag of l for an HTML lang attribute or a
// Content-Language header: "en", "de".
func (l *Locale) Lang() string { return l.tag.String() }

// T translates the printf-style English message key into l's language and
// formats args into it (numbers the way the language writes them). A key
// without a translation is formatted in English.
func (l *Locale) T(key string, args ...any) string { return l.p.Sprintf(key, args...) }

// Text translates a message that is already complete, without
// formatting: a fixed text marked with M, or a text that may be in the
// catalog (an error description). Anything the catalog does not know,
// already translated text included, comes back unchanged.
func (l *Locale) Text(s string) string {
	if _, ok := messages[l.tag][s]; ok {
		return l.p.Sprintf(s)
	}
	return s
}

// M marks key as a message where it cannot be translated yet (a table of
// fixed texts built before any request): it returns key unchanged, and
// the catalog test finds it like a T key. Translate it with Text or T
// where the locale is known.
func M(key string) string { return key }

// Time writes t (in UTC) as a date and time the way l's language does.
func (l *Locale) Time(t time.Time) string {
	return t.UTC().Format(l.T("2 Jan 2006, 15:04 UTC"))
}

// Negotiate picks the locale of a request: the first entry of uiLocales
// (the OIDC parameter: space-separated BCP 47 tags, most preferred first)
// that the catalog speaks, else the best match for acceptLanguage (an
// Accept-Language header), else English. Malformed input is ignored.
func Negotiate(uiLocales, acceptLanguage string) *Locale {
	if l, ok := UILocale(uiLocales); ok {
		return l
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err == nil && len(tags) > 0 {
		if _, i, c := matcher.Match(tags...); c != language.No {
			return locales[supported[i]]
		}
	}
	return Default()
}

// UILocale returns the locale of the first entry of uiLocales (the OIDC
// parameter) that the catalog speaks, and false when none is.
func UILocale(uiLocales string) (*Locale, bool) {
	for _, s := range strings.Fields(uiLocales) {
		if l, ok := Match(s); ok {
			return l, true
		}
	}
	return nil, false
}

// Match returns the supported locale for one language tag ("de",
// "de-CH"), and false when the catalog does not speak it.
func Match(s string) (*Locale, bool) {
	tag, err := language.Parse(s)
	if err != nil {
		return nil, false
	}
	_, i, c := matcher.Match(tag)
	if c == language.No {
		return nil, false
	}
	return locales[supported[i]], true
}

type ctxKey struct{}

// WithLocale returns ctx carrying l.
func WithLocale(ctx context.Context, l *Locale) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// FromContext returns the locale carried by ctx, or English.
func FromContext(ctx context.Context) *Locale {
	if l, ok := ctx.Value(ctxKey{}).(*Locale); ok && l != nil {
		return l
	}
	return Default()
}
