package i18n

import "golang.org/x/text/language"

// German for the second factors and passkeys on the hosted pages (the
// code step of the sign-in, the authenticator app and passkeys on the
// account page, confirming that it is you).
func init() {
	add(language.German, map[string]string{
		// the code step of the sign-in
		"Two-step sign-in":                 "Anmeldung in zwei Schritten",
		"Code from your authenticator app": "Code aus Ihrer Authenticator-App",
		"Open the app on your phone and enter the 6-digit code it shows for this account.": "Öffnen Sie die App auf Ihrem Telefon und geben Sie den 6-stelligen Code ein, den sie für dieses Konto anzeigt.",
		"Verify":                               "Bestätigen",
		"Lost your phone? Use a recovery code": "Telefon verloren? Wiederherstellungscode verwenden",
		"Recovery code":                        "Wiederherstellungscode",
		"Each recovery code works once.":       "Jeder Wiederherstellungscode funktioniert einmal.",
		"Use recovery code":                    "Wiederherstellungscode verwenden",
		"Start again":                          "Neu beginnen",
		"Your sign-in took too long or was already completed. Sign in again.":   "Ihre Anmeldung hat zu lange gedauert oder ist bereits abgeschlossen. Melden Sie sich erneut an.",
		"Too many wrong codes. Sign in again.":                                  "Zu viele falsche Codes. Melden Sie sich erneut an.",
		"Enter the 6-digit code from your authenticator app.":                   "Geben Sie den 6-stelligen Code aus Ihrer Authenticator-App ein.",
		"That code is not right or was already used. Enter the current code.":   "Dieser Code ist falsch oder wurde bereits verwendet. Geben Sie den aktuellen Code ein.",
		"Enter one of your recovery codes.":                                     "Geben Sie einen Ihrer Wiederherstellungscodes ein.",
		"That recovery code is not right or was already used.":                  "Dieser Wiederherstellungscode ist falsch oder wurde bereits verwendet.",
		"Too many wrong codes for this account. Wait a little, then try again.": "Zu viele falsche Codes für dieses Konto. Warten Sie ein wenig und versuchen Sie es dann erneut.",

		// passkey sign-in
		"Sign in with a passkey": "Mit einem Passkey anmelden",
		"The passkey could not be used. Try again, or sign in another way.": "Der Passkey konnte nicht verwendet werden. Versuchen Sie es erneut oder melden Sie sich anders an.",
		"That passkey was not accepted. Try again, or sign in another way.": "Dieser Passkey wurde nicht akzeptiert. Versuchen Sie es erneut oder melden Sie sich anders an.",
		"The passkey request took too long or was already used. Try again.": "Die Passkey-Anfrage hat zu lange gedauert oder wurde bereits verwendet. Versuchen Sie es erneut.",

		// the authenticator app on the account page
		"Your recovery codes": "Ihre Wiederherstellungscodes",
		"Keep these somewhere safe. Each one signs you in once if you lose your phone. They are shown only now.": "Bewahren Sie diese sicher auf. Jeder meldet Sie einmal an, falls Sie Ihr Telefon verlieren. Sie werden nur jetzt angezeigt.",
		"Set up an authenticator app":                                           "Authenticator-App einrichten",
		"Scan this QR code with an authenticator app, or type the key into it.": "Scannen Sie diesen QR-Code mit einer Authenticator-App oder geben Sie den Schlüssel dort ein.",
		"QR code of the key for your authenticator app":                         "QR-Code des Schlüssels für Ihre Authenticator-App",
		"Key:":                                   "Schlüssel:",
		"Code shown by the app":                  "Von der App angezeigter Code",
		"Turn on":                                "Einschalten",
		"Authenticator app":                      "Authenticator-App",
		"on":                                     "an",
		"%d recovery codes left":                 "%d Wiederherstellungscodes übrig",
		"Make new recovery codes":                "Neue Wiederherstellungscodes erstellen",
		"Code from your app, or a recovery code": "Code aus Ihrer App oder ein Wiederherstellungscode",
		"Turn off the authenticator app":         "Authenticator-App ausschalten",
		"Ask for a code from an authenticator app on your phone after your password.":                          "Nach dem Passwort einen Code aus einer Authenticator-App auf Ihrem Telefon abfragen.",
		"Two-step sign-in is on. Save your recovery codes now: they are shown only once.":                      "Die Anmeldung in zwei Schritten ist eingeschaltet. Speichern Sie jetzt Ihre Wiederherstellungscodes: Sie werden nur einmal angezeigt.",
		"New recovery codes were made; the old ones no longer work. Save these now: they are shown only once.": "Neue Wiederherstellungscodes wurden erstellt; die alten funktionieren nicht mehr. Speichern Sie diese jetzt: Sie werden nur einmal angezeigt.",
		"The authenticator app was removed. Signing in needs only your password again.":                        "Die Authenticator-App wurde entfernt. Zum Anmelden genügt wieder Ihr Passwort.",
		"That code is not right. Enter the code your app shows now (check that your phone's clock is right).":  "Dieser Code ist falsch. Geben Sie den Code ein, den Ihre App jetzt anzeigt (prüfen Sie, ob die Uhr Ihres Telefons stimmt).",
		"The setup was not finished in time. Start again.":                                                     "Die Einrichtung wurde nicht rechtzeitig abgeschlossen. Beginnen Sie neu.",
		"An authenticator app is already set up. Remove it first to set up another.":                           "Es ist bereits eine Authenticator-App eingerichtet. Entfernen Sie sie zuerst, um eine andere einzurichten.",
		"That code is not right or was already used.":                                                          "Dieser Code ist falsch oder wurde bereits verwendet.",
		"Two-step sign-in is not enabled on this server.":                                                      "Die Anmeldung in zwei Schritten ist auf diesem Server nicht eingeschaltet.",
		"Not available": "Nicht verfügbar",

		// passkeys on the account page
		"Passkeys": "Passkeys",
		"A passkey signs you in with your device's fingerprint, face or PIN, without a password.": "Ein Passkey meldet Sie mit Fingerabdruck, Gesicht oder PIN Ihres Geräts an, ohne Passwort.",
		"added %s":          "hinzugefügt am %s",
		"last used %s":      "zuletzt verwendet am %s",
		"Remove passkey %s": "Passkey %s entfernen",
		"Remove":            "Entfernen",
		"Your browser did not create a passkey. Try again.":   "Ihr Browser hat keinen Passkey erstellt. Versuchen Sie es erneut.",
		"Name of this passkey":                                "Name dieses Passkeys",
		"For example the device it is on.":                    "Zum Beispiel das Gerät, auf dem er liegt.",
		"Create passkey":                                      "Passkey erstellen",
		"Creating a passkey needs JavaScript.":                "Zum Erstellen eines Passkeys wird JavaScript benötigt.",
		"Add a passkey":                                       "Passkey hinzufügen",
		"Remove a passkey":                                    "Passkey entfernen",
		"The passkey was added. You can now sign in with it.": "Der Passkey wurde hinzugefügt. Sie können sich jetzt damit anmelden.",
		"The passkey was removed.":                            "Der Passkey wurde entfernt.",
		"The passkey could not be registered. Try again.":     "Der Passkey konnte nicht registriert werden. Versuchen Sie es erneut.",
		"This passkey is registered already.":                 "Dieser Passkey ist bereits registriert.",
		"That passkey is not registered to your account.":     "Dieser Passkey ist nicht für Ihr Konto registriert.",
		"Give the passkey a name of at most 100 characters.":  "Geben Sie dem Passkey einen Namen mit höchstens 100 Zeichen.",
		"Passkeys are not enabled on this server.":            "Passkeys sind auf diesem Server nicht eingeschaltet.",
		"This passkey is the only way left to sign in to your account, so it cannot be removed. Set a password, link a provider or add another passkey first.": "Dieser Passkey ist die einzige verbleibende Möglichkeit, sich bei Ihrem Konto anzumelden, und kann daher nicht entfernt werden. Legen Sie zuerst ein Passwort fest, verknüpfen Sie einen Anbieter oder fügen Sie einen weiteren Passkey hinzu.",

		// confirming that it is you
		"Confirm that it is you to continue.":              "Bestätigen Sie, dass Sie es sind, um fortzufahren.",
		"Or a code from your authenticator app":            "Oder ein Code aus Ihrer Authenticator-App",
		"Continue":                                         "Weiter",
		"The passkey could not be used. Try again.":        "Der Passkey konnte nicht verwendet werden. Versuchen Sie es erneut.",
		"Confirm with a passkey":                           "Mit einem Passkey bestätigen",
		"For your security, confirm that it is you first.": "Bestätigen Sie zu Ihrer Sicherheit zuerst, dass Sie es sind.",
		"The password is incorrect.":                       "Das Passwort ist falsch.",
		"Thank you. For the next 5 minutes you can change your sign-in methods without confirming again.": "Danke. In den nächsten 5 Minuten können Sie Ihre Anmeldemethoden ändern, ohne erneut zu bestätigen.",
	})
}
