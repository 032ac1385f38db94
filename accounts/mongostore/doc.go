// Package mongostore implements accounts.Store on MongoDB with the v2 Go
// driver. It owns the collections users, user_emails (one document per
// claimed e-mail, keyed by the normalized address) and identities (keyed by
// provider + "|" + subject) in the database it is given, and their indexes.
// It needs no multi-document transactions: every step that must be atomic is
// a unique-key insert or a deleteOne checked by its count, the only
// conditional writes that are atomic on FerretDB v1 as well, and every hot
// lookup filters on _id, the only filter FerretDB v1 serves from an index.
// Steps that span documents are ordered and compensated so that a crash
// leaves nothing that a later call cannot clean up.
package mongostore
