// Package accountstest owns the conformance suite for accounts.Store: the
// behaviour every storage backend must show, including the atomicity that
// the accounts service relies on (of N concurrent claims of one e-mail or
// one external identity exactly one wins) and keyset pagination that stays
// exact while users are added. Each backend's tests call Run with a factory
// for fresh, empty stores. It is built on the standard testing package
// alone (no assertion framework); user ids are UUIDv7 strings from
// github.com/google/uuid, as the service generates them.
package accountstest
