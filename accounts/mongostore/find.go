package mongostore

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/session/mongostore/mongodb"
)

// The lookups the store's files share.

func byID(id any) bson.D          { return bson.D{{Key: "_id", Value: id}} }
func byUser(userID string) bson.D { return bson.D{{Key: "user_id", Value: userID}} }

// findOne decodes the first document of coll that filter matches. found is
// false, with no error, when none matches; callers turn that into
// accounts.ErrNotFound, a sentinel of their own, or a step of a protocol.
func findOne[T any](ctx context.Context, coll *mongo.Collection, filter any, opts ...options.Lister[options.FindOneOptions]) (doc T, found bool, err error) {
	err = coll.FindOne(ctx, filter, opts...).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return doc, false, nil
	}
	return doc, err == nil, err
}

// exists reports whether a document of coll matches filter; it reads only
// the _id.
func exists(ctx context.Context, coll *mongo.Collection, filter any) (bool, error) {
	err := coll.FindOne(ctx, filter, options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	return err == nil, err
}

// deleted is the answer of a store method to the outcome of its delete: a
// wrapped error, accounts.ErrNotFound when nothing was deleted, or nil.
func deleted(res *mongo.DeleteResult, err error, op string) error {
	if err != nil {
		return fmt.Errorf("mongostore: %s: %w", op, err)
	}
	if res.DeletedCount == 0 {
		return accounts.ErrNotFound
	}
	return nil
}

// page returns the first limit documents of coll that filter matches, by
// _id ascending (order 1) or descending (-1): one page of a keyset
// pagination on _id. Nothing when limit is zero or less; op names the list
// in errors.
func page[T any](ctx context.Context, coll *mongo.Collection, op string, filter bson.D, order, limit int) ([]T, error) {
	if limit <= 0 {
		return nil, nil
	}
	docs, err := mongodb.FindAll[T](ctx, coll, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: order}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("mongostore: %s: %w", op, err)
	}
	return docs, nil
}
