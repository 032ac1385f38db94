package i18n

import "golang.org/x/text/language"

// German for the OpenID Provider's pages: consent, account choice,
// RP-initiated logout and "Apps with access" on the account page.
func init() {
	add(language.German, map[string]string{
		// consent
		"Allow access":                     "Zugriff erlauben",
		"Allow %s to access your account?": "%s Zugriff auf Ihr Konto erlauben?",
		"Signed in as %s.":                 "Angemeldet als %s.",
		"%s asks to:":                      "%s möchte:",
		"Allow":                            "Erlauben",
		"Deny":                             "Ablehnen",
		"You can withdraw this access at any time on your account page, under Apps with access.": "Sie können diesen Zugriff jederzeit auf Ihrer Kontoseite unter „Apps mit Zugriff“ widerrufen.",
		"Know who you are (your account id)":                                                     "Wissen, wer Sie sind (Ihre Konto-ID)",
		"See your name":                                                                          "Ihren Namen sehen",
		"See your email address":                                                                 "Ihre E-Mail-Adresse sehen",
		"Keep access while you are not using it":                                                 "Zugriff behalten, während Sie es nicht verwenden",
		"Use the permission %s":                                                                  "Die Berechtigung %s verwenden",
		"This page is not valid":                                                                 "Diese Seite ist ungültig",
		"The app's sign-in request is missing. Start again from the app.":                        "Die Anmeldeanfrage der App fehlt. Beginnen Sie erneut in der App.",
		"Your sign-in has ended. Sign in again to continue.":                                     "Ihre Anmeldung ist abgelaufen. Melden Sie sich erneut an, um fortzufahren.",
		"Choose Allow or Deny.":                                                                  "Wählen Sie „Erlauben“ oder „Ablehnen“.",

		// account choice
		"Choose an account":   "Konto auswählen",
		"Continue as %s":      "Weiter als %s",
		"Use another account": "Anderes Konto verwenden",

		// RP-initiated logout
		"Sign out?":                       "Abmelden?",
		"You are signed in to %s as %s.":  "Sie sind bei %s als %s angemeldet.",
		"Stay signed in":                  "Angemeldet bleiben",
		"This sign-out link is not valid": "Dieser Abmeldelink ist ungültig",
		"The app sent a sign-out request that could not be verified.": "Die App hat eine Abmeldeanfrage gesendet, die nicht geprüft werden konnte.",
		"The app's client_id does not match the ID token.":            "Die client_id der App passt nicht zum ID-Token.",

		// account page
		"Apps with access":                   "Apps mit Zugriff",
		"allowed %s":                         "erlaubt am %s",
		"Remove access of %s":                "Zugriff von %s entfernen",
		"Remove access":                      "Zugriff entfernen",
		"No app has access to your account.": "Keine App hat Zugriff auf Ihr Konto.",
		"The app's access was removed. It was signed out and must ask again.": "Der Zugriff der App wurde entfernt. Sie wurde abgemeldet und muss erneut fragen.",
		"That app had no access any more.":                                    "Diese App hatte keinen Zugriff mehr.",
	})
}
