// Package mfa owns the second factors and passkeys of accounts: TOTP
// (RFC 6238) with single-use recovery codes, the QR code of an otpauth
// URI, and WebAuthn credentials (registration and discoverable sign-in).
// It keeps its data in an accounts.FactorStore and seals TOTP secrets with
// the key-encryption key through a Sealer; it imports no HTTP code, and
// the HTTP layer maps its sentinels to statuses.
package mfa
