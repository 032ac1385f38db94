package i18n

import "golang.org/x/text/language"

// German for the reasons the accounts package gives for a field it
// refuses; the hosted pages show them next to the field (Text), the JSON
// API in English.
func init() {
	add(language.German, map[string]string{
		"is required":                                  "ist erforderlich",
		"is not a valid e-mail address":                "ist keine gültige E-Mail-Adresse",
		"must be valid UTF-8 text":                     "muss gültiger UTF-8-Text sein",
		"must be at least 8 characters long":           "muss mindestens 8 Zeichen lang sein",
		"must be at most 256 characters long":          "darf höchstens 256 Zeichen lang sein",
		"must be valid text of at most 200 characters": "muss gültiger Text mit höchstens 200 Zeichen sein",
		"is one of the most commonly used passwords and easy to guess; choose another": "gehört zu den am häufigsten verwendeten Passwörtern und ist leicht zu erraten; wählen Sie ein anderes",
		"must be an address at one of the domains this service accepts":                "muss eine Adresse bei einer der Domains sein, die dieser Dienst annimmt",
		"is already the account's address":                                             "ist bereits die Adresse des Kontos",
	})
}
