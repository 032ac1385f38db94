// Package session owns what a sign-in produces: sessions (refresh token
// families), rotating refresh tokens, one-time authorization codes, signing
// keys with their JWKS, and the JWT access tokens signed with them. It
// defines the Store interface that the storage backends (sqlitestore,
// mongostore) implement. It knows nothing of passwords, providers or HTTP.
package session
