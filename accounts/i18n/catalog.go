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
)

// add registers translations of English keys in lang. A key registered
// twice for one language is a mistake (two catalog files disagree) and
// panics at start-up, which every test of the module notices.
func add(lang language.Tag, m map[string]string) {
	have := messages[lang]
	if have == nil {
		have = map[string]string{}
		messages[lang] = have
	}
	for key, text := range m {
		if _, dup := have[key]; dup {
			panic(fmt.Sprintf("i18n: %q translated twice for %s", key, lang))
		}
		have[key] = text
		if err := builder.SetString(lang, key, text); err != nil {
			panic(fmt.Sprintf("i18n: %q for %s: %v", key, lang, err))
		}
	}
}
