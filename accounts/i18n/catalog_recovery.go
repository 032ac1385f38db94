package i18n

import "golang.org/x/text/language"

// German for the e-mail flows' pages: forgot password, the pages of the
// mailed links, and the account page's e-mail and deletion sections.
func init() {
	add(language.German, map[string]string{
		// sign-in and sign-up
		"Forgot password?":  "Passwort vergessen?",
		"Sign up with %s":   "Mit %s registrieren",
		"Sign-up is closed": "Die Registrierung ist geschlossen",
		"This service does not create new accounts. Ask your administrator for one.": "Dieser Dienst legt keine neuen Konten an. Bitten Sie Ihre Administration um eines.",
		"The email address %s.": "Die E-Mail-Adresse %s.",
		"The name %s.":          "Der Name %s.",
		"The password %s.":      "Das Passwort %s.",

		// forgot password
		"Reset your password": "Passwort zurücksetzen",
		"Enter the email address of your account. We will send it a link to choose a new password.": "Geben Sie die E-Mail-Adresse Ihres Kontos ein. Wir senden einen Link, mit dem Sie ein neues Passwort wählen.",
		"Enter the email address of your account.":                                                  "Geben Sie die E-Mail-Adresse Ihres Kontos ein.",
		"Send reset link":  "Link senden",
		"Remembered it?":   "Doch wieder eingefallen?",
		"Check your email": "Sehen Sie in Ihr Postfach",
		"If an account uses %s, we have sent it a link to choose a new password. The link works for a short time only; if nothing arrives, check the spam folder or ask again.": "Wenn ein Konto %s verwendet, haben wir ihm einen Link geschickt, mit dem Sie ein neues Passwort wählen. Der Link gilt nur kurze Zeit; kommt nichts an, sehen Sie im Spam-Ordner nach oder fragen Sie erneut.",

		// the link pages
		"Confirm your email address":                                              "Bestätigen Sie Ihre E-Mail-Adresse",
		"Press the button to confirm that this email address is yours.":           "Drücken Sie die Schaltfläche, um zu bestätigen, dass diese E-Mail-Adresse Ihnen gehört.",
		"Confirm email address":                                                   "E-Mail-Adresse bestätigen",
		"Saving the new password signs out every session of your account.":        "Das Speichern des neuen Passworts meldet alle Sitzungen Ihres Kontos ab.",
		"Save new password":                                                       "Neues Passwort speichern",
		"Confirm your new email address":                                          "Bestätigen Sie Ihre neue E-Mail-Adresse",
		"Press the button to make this email address the one of your account.":    "Drücken Sie die Schaltfläche, um diese E-Mail-Adresse zu der Ihres Kontos zu machen.",
		"Use this email address":                                                  "Diese E-Mail-Adresse verwenden",
		"This link does not work":                                                 "Dieser Link funktioniert nicht",
		"This link is invalid, has already been used or has expired.":             "Dieser Link ist ungültig, wurde schon verwendet oder ist abgelaufen.",
		"Ask for a new link":                                                      "Neuen Link anfordern",
		"Go to your account":                                                      "Zu Ihrem Konto",
		"Email address verified":                                                  "E-Mail-Adresse bestätigt",
		"Thank you: %s is verified.":                                              "Danke: %s ist bestätigt.",
		"This address is taken":                                                   "Diese Adresse ist vergeben",
		"Another account uses this email address now, so it cannot become yours.": "Ein anderes Konto verwendet diese E-Mail-Adresse inzwischen, daher kann sie nicht Ihre werden.",
		"Email address changed":                                                   "E-Mail-Adresse geändert",
		"Your email address is now %s.":                                           "Ihre E-Mail-Adresse ist jetzt %s.",
		"Password changed":                                                        "Passwort geändert",
		"Your new password is set, and every session of your account was signed out. Sign in with the new password.": "Ihr neues Passwort ist gesetzt, und alle Sitzungen Ihres Kontos wurden abgemeldet. Melden Sie sich mit dem neuen Passwort an.",

		// account page
		"%s is verified.": "%s ist bestätigt.",
		"%s is not verified yet. Open the link we sent you, or ask for a new one.": "%s ist noch nicht bestätigt. Öffnen Sie den Link, den wir Ihnen geschickt haben, oder fordern Sie einen neuen an.",
		"Send verification email": "Bestätigungs-E-Mail senden",
		"We sent you a new verification link. Open it to verify your email address.": "Wir haben Ihnen einen neuen Bestätigungslink geschickt. Öffnen Sie ihn, um Ihre E-Mail-Adresse zu bestätigen.",
		"New email address": "Neue E-Mail-Adresse",
		"We send a link to the new address; the change takes effect when you open it. The current address gets a notice.": "Wir senden einen Link an die neue Adresse; die Änderung gilt, sobald Sie ihn öffnen. Die bisherige Adresse erhält einen Hinweis.",
		"Change email address":                     "E-Mail-Adresse ändern",
		"Enter the new email address.":             "Geben Sie die neue E-Mail-Adresse ein.",
		"Another account uses this email address.": "Ein anderes Konto verwendet diese E-Mail-Adresse.",
		"We sent a link to %s. Your address changes when you open it; until then you keep signing in with the current one.": "Wir haben einen Link an %s geschickt. Ihre Adresse ändert sich, sobald Sie ihn öffnen; bis dahin melden Sie sich weiter mit der bisherigen an.",
		"For your security, sign in again (less than 5 minutes ago) before you change your email address.":                  "Melden Sie sich zu Ihrer Sicherheit erneut an (vor weniger als 5 Minuten), bevor Sie Ihre E-Mail-Adresse ändern.",
		"Delete your account": "Konto löschen",
		"This deletes your account with its sign-in methods and sessions. It cannot be undone.": "Damit löschen Sie Ihr Konto mit seinen Anmeldemethoden und Sitzungen. Das lässt sich nicht rückgängig machen.",
		"Delete my account": "Mein Konto löschen",
		"For your security, sign in again (less than 5 minutes ago) before you delete your account.": "Melden Sie sich zu Ihrer Sicherheit erneut an (vor weniger als 5 Minuten), bevor Sie Ihr Konto löschen.",
		"Account deleted": "Konto gelöscht",
		"Your account and everything linked to it were deleted.": "Ihr Konto und alles, was damit verknüpft war, wurden gelöscht.",
		"Authenticator code": "Code aus der Authenticator-App",
		"Passkey":            "Passkey",
	})
}
