// Package i18n is the message catalog of everything unilogin says to a
// person: the hosted pages and the e-mails. It picks a language per request
// and hands out a Locale whose T method translates a message.
//
// # Messages
//
// The English text of a message is its key, written as a printf format
// (golang.org/x/text/message): "Sign in with %s". Templates call it as
// {{t "Sign in with %s" .Name}}, Go code as loc.T("Sign in with %s", name).
// A literal percent sign is written %%. A key without a translation in the
// chosen language is shown in English, so nothing ever breaks for want of
// a translation; a test in this package makes sure none is missing.
// Translations are plain text: the templates escape them, so they cannot
// carry markup; keep markup in the template around the message.
//
// # Adding strings
//
// Write the English text in the template ({{t "..."}}) or in Go (a string
// literal as the first argument of loc.T), then add its German translation
// to the catalog file of your area in this package (catalog_pages.go,
// catalog_mail.go, ...; a new area gets its own catalog_<area>.go whose
// init function calls add). TestEveryKeyTranslated scans every template
// (*.html, *.tmpl) and every non-test Go file of the module for these keys
// (and for fixed texts marked with M, see there)
// and fails, naming the key and its file, when a translation is missing;
// it also checks that a translation uses the same printf verbs as its key,
// and that no key is translated in two catalog files.
//
// # Adding a language
//
// Add its tag to supported in locale.go and write a catalog file per area
// with its translations (for example catalog_pages_fr.go, calling
// add(language.French, ...)), and name it in langName in keys_test.go:
// TestEveryKeyTranslated then holds it to the same standard.
//
// # Choosing the language
//
// Negotiate takes the OIDC ui_locales parameter (space-separated language
// tags, most preferred first) and the Accept-Language header: the first
// supported ui_locales entry wins, then the best Accept-Language match,
// then English. WithLocale and FromContext carry the choice through a
// request's context, so that mail queued by the request is written in the
// language of the person who asked for it.
package i18n
