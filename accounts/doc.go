// Package accounts owns local users: their e-mail addresses, password hashes,
// roles and linked external identities. It defines the Store interface that
// the storage backends (sqlitestore, mongostore) implement and the Service
// that the HTTP layer calls. It performs no HTTP and knows nothing of tokens.
package accounts
