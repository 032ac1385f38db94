// Package accounts owns local users: their e-mail addresses, password hashes,
// roles, linked external identities and consents to third-party clients. It
// defines the Store interface that the storage backends (sqlitestore,
// mongostore) implement and the Service that the HTTP layer calls. It
// performs no HTTP and knows nothing of tokens.
package accounts
