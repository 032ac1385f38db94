// Package sessiontest is the conformance suite for session.Store: every
// backend (sqlitestore, mongostore) runs the same cases through Run, so the
// service can rely on identical semantics whichever store it is given.
//
// Besides what session.Store documents, the suite pins down: times come back
// in UTC to the millisecond, and zero times stay zero; nil and empty slices
// are interchangeable; TouchSession, RetireKey and DeleteKey report
// ErrNotFound for an unknown id; ListKeys omits keys whose ExpiresAt has
// passed; a record expires when its ExpiresAt is before now.
//
// A case is a function of a fresh store in one file's table of cases (see
// Run); the steps cases share, storing records and checking what the store
// holds afterwards, are in records.go.
//
// It imports only the session package, its testkit and the standard
// library, so backends can use it from their tests without pulling in each
// other's drivers.
package sessiontest
