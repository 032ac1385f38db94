package i18n

import "golang.org/x/text/language"

// German for the e-mails of the account flows (accounts/mail).
func init() {
	add(language.German, map[string]string{
		"If the button does not work, open this address:": "Falls die Schaltfläche nicht funktioniert, öffnen Sie diese Adresse:",

		"1 second":                               "1 Sekunde",
		"%d seconds":                             "%d Sekunden",
		"1 minute":                               "1 Minute",
		"%d minutes":                             "%d Minuten",
		"1 hour":                                 "1 Stunde",
		"%d hours":                               "%d Stunden",
		"%d days":                                "%d Tage",
		"The link works once and expires in %s.": "Der Link funktioniert einmal und läuft in %s ab.",

		"Verify your e-mail address for %s":                              "Bestätigen Sie Ihre E-Mail-Adresse für %s",
		"Please confirm that this address belongs to your %s account.":   "Bitte bestätigen Sie, dass diese Adresse zu Ihrem %s-Konto gehört.",
		"Verify e-mail address":                                          "E-Mail-Adresse bestätigen",
		"If you did not create an account, you can ignore this message.": "Falls Sie kein Konto angelegt haben, können Sie diese Nachricht ignorieren.",

		"Reset your %s password": "Setzen Sie Ihr %s-Passwort zurück",
		"Someone asked to reset the password of the %s account with this address.": "Jemand hat angefordert, das Passwort des %s-Kontos mit dieser Adresse zurückzusetzen.",
		"Choose a new password": "Neues Passwort wählen",
		"If you did not ask for this, ignore this message: your password stays as it is.": "Falls Sie das nicht angefordert haben, ignorieren Sie diese Nachricht: Ihr Passwort bleibt unverändert.",

		"Confirm your new e-mail address for %s":                                   "Bestätigen Sie Ihre neue E-Mail-Adresse für %s",
		"Please confirm that your %s account should use this address from now on.": "Bitte bestätigen Sie, dass Ihr %s-Konto ab jetzt diese Adresse verwenden soll.",
		"Confirm new address": "Neue Adresse bestätigen",
		"The link works once and expires in %s. Until then the account keeps its old address.": "Der Link funktioniert einmal und läuft in %s ab. Bis dahin behält das Konto seine alte Adresse.",
		"If you did not ask for this, you can ignore this message.":                            "Falls Sie das nicht angefordert haben, können Sie diese Nachricht ignorieren.",

		"Your %s e-mail address is being changed": "Die E-Mail-Adresse Ihres %s-Kontos wird geändert",
		"Someone signed in to your %s account asked to move it to another e-mail address. The change happens only when the link sent to the new address is opened.": "Jemand, der bei Ihrem %s-Konto angemeldet ist, hat angefordert, es auf eine andere E-Mail-Adresse umzustellen. Die Änderung erfolgt erst, wenn der an die neue Adresse gesendete Link geöffnet wird.",
		"If this was not you, sign in and change your password.": "Falls Sie das nicht waren, melden Sie sich an und ändern Sie Ihr Passwort.",

		"Your %s password was changed":                                                              "Das Passwort Ihres %s-Kontos wurde geändert",
		"The password of your %s account was just changed.":                                         "Das Passwort Ihres %s-Kontos wurde soeben geändert.",
		"If this was not you, reset your password at once and check the account's sign-in methods.": "Falls Sie das nicht waren, setzen Sie Ihr Passwort sofort zurück und prüfen Sie die Anmeldemethoden des Kontos.",
	})
}
