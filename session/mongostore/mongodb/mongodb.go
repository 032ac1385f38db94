// Package mongodb holds the MongoDB steps both domains' stores
// (session/mongostore and accounts/mongostore) share. It knows no
// documents of either.
package mongodb

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// FindAll runs a find on coll and decodes every matching document as a D.
func FindAll[D any](ctx context.Context, coll *mongo.Collection, filter any, opts ...options.Lister[options.FindOptions]) ([]D, error) {
	cur, err := coll.Find(ctx, filter, opts...)
	if err != nil {
		return nil, err
	}
	var docs []D
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	return docs, nil
}

// Convert maps every document of docs to its model with conv.
func Convert[D, T any](docs []D, conv func(*D) T) []T {
	out := make([]T, len(docs))
	for i := range docs {
		out[i] = conv(&docs[i])
	}
	return out
}
