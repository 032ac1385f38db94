// Package mongostore is the MongoDB session.Store, for deployments that set
// MONGODB_URI. It uses no multi-document transactions, so that it also runs
// on MongoDB-compatible servers (FerretDB v1, used by its tests).
//
// Every atomic step of session.Store is one of the two operations that are
// atomic on both servers: an insert into the unique _id index (Create*,
// Claim, GetOrCreateSecret) or a deleteOne by _id whose DeletedCount says
// who won (ConsumeCode). Hence every collection is keyed by _id, which is
// also the only index FerretDB v1 uses. Expiry is checked in code on every
// read and expired documents are removed by DeleteExpired, not by TTL
// indexes (FerretDB has none).
package mongostore
