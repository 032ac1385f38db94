package api

import "testing"

// mongoBackend is filled in when the FerretDB harness is shared.
func mongoBackend() backend { return sqliteBackend() }

var _ = testing.Short
