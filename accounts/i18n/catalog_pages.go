package i18n

import "golang.org/x/text/language"

// German for the hosted pages (sign-in, sign-up, account, sign-out, error).
func init() {
	add(language.German, map[string]string{
		"2 Jan 2006, 15:04 UTC": "2.1.2006, 15:04 UTC",

		// sign-in and sign-up
		"Sign in":                  "Anmelden",
		"to continue to":           "weiter zu",
		"Email address":            "E-Mail-Adresse",
		"Password":                 "Passwort",
		"or":                       "oder",
		"Sign in with %s":          "Mit %s anmelden",
		"New here?":                "Neu hier?",
		"Create an account":        "Konto erstellen",
		"Create your account":      "Erstellen Sie Ihr Konto",
		"Name":                     "Name",
		"(optional)":               "(optional)",
		"Create account":           "Konto erstellen",
		"Already have an account?": "Sie haben bereits ein Konto?",
		"At least 8 characters. Spaces are fine; very common passwords are refused.": "Mindestens 8 Zeichen. Leerzeichen sind erlaubt; sehr verbreitete Passwörter werden abgelehnt.",

		// sign-out and errors
		"You are signed out":                              "Sie sind abgemeldet",
		"You have been signed out of %s in this browser.": "Sie wurden in diesem Browser von %s abgemeldet.",
		"Sign in again":                                   "Erneut anmelden",
		"You can try again in %s seconds.":                "Sie können es in %s Sekunden erneut versuchen.",
		"Go to the sign-in page":                          "Zur Anmeldeseite",

		// account
		"Your account":          "Ihr Konto",
		"Sign in again with %s": "Erneut mit %s anmelden",
		"Profile":               "Profil",
		"not set":               "nicht festgelegt",
		"Email":                 "E-Mail",
		"(not verified)":        "(nicht bestätigt)",
		"none":                  "keine",
		"Member since":          "Mitglied seit",
		"Sign-in methods":       "Anmeldemethoden",
		"You can always sign in with any method listed here. The last remaining method cannot be removed: set a password or link another provider first, so that you never lock yourself out.": "Sie können sich jederzeit mit jeder hier aufgeführten Methode anmelden. Die letzte verbleibende Methode lässt sich nicht entfernen: Legen Sie zuerst ein Passwort fest oder verknüpfen Sie einen weiteren Anbieter, damit Sie sich nie selbst aussperren.",
		"set":                             "festgelegt",
		"linked %s":                       "verknüpft am %s",
		"Unlink":                          "Trennen",
		"Your only sign-in method":        "Ihre einzige Anmeldemethode",
		"Link %s":                         "%s verknüpfen",
		"Current password":                "Aktuelles Passwort",
		"Enter your password to link %s.": "Geben Sie Ihr Passwort ein, um %s zu verknüpfen.",
		"Change password":                 "Passwort ändern",
		"Set a password":                  "Passwort festlegen",
		"New password":                    "Neues Passwort",
		"At least 8 characters. Saving signs out your other sessions.": "Mindestens 8 Zeichen. Beim Speichern werden Ihre anderen Sitzungen abgemeldet.",
		"Save password":                    "Passwort speichern",
		"Where you are signed in":          "Wo Sie angemeldet sind",
		"this browser":                     "dieser Browser",
		"signed in %s":                     "angemeldet am %s",
		"last active %s":                   "zuletzt aktiv am %s",
		"Revoke session: %s, signed in %s": "Sitzung beenden: %s, angemeldet am %s",
		"Revoke":                           "Beenden",
		"Sign out":                         "Abmelden",
	})
}
