// Package session owns what a sign-in produces: sessions (refresh token
// families), rotating refresh tokens, one-time authorization codes, signing
// keys with their JWKS, the JWT access tokens and OpenID Connect ID tokens
// signed with them, the scope rules, client-credentials tokens, token
// introspection and the prompt/max_age rules of the authorization request. It
// defines the Store interface that the storage backends (sqlitestore,
// mongostore) implement. It knows nothing of passwords, providers or HTTP.
package session
