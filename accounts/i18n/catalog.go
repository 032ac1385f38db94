package i18n

import (
	"fmt"

	"golang.org/x/text/language"
	"golang.org/x/text/message/catalog"
)

// The catalog: the catalog files' init functions fill it through add
// before any Locale is used.
var (
	builder = catalog.NewBuilder(catalog.Fallback(language.English))
	// messages holds the translations by language and key, for the tests.
	messages = map[language.Tag]map[string]string{}
	// duplicates lists the keys that two catalog files translate.
	duplicates []string
)

// add registers translations of English keys in lang. A key translated
// twice for one language (by two catalog files) keeps its first
// translation and is recorded in duplicates, which the catalog test
// reports: a mistake there must not stop the service.
func add(lang language.Tag, m map[string]string) {
	have := messages[lang]
	if have == nil {
		have = map[string]string{}
		messages[lang] = have
	}
	for key, text := range m {
		if _, dup := have[key]; dup {
			duplicates = append(duplicates, fmt.Sprintf("%s: %q", lang, key))
			continue
		}
		have[key] = text
		if err := builder.SetString(lang, key, text); err != nil {
			panic(fmt.Sprintf("i18n: %q for %s: %v", key, lang, err))
		}
	}
}
