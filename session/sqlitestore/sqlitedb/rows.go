package sqlitedb

import "database/sql"

// Scanner is what a row decoder reads from: a *sql.Row or *sql.Rows.
type Scanner interface{ Scan(dest ...any) error }

// Collect decodes every row of a query with scan and closes the rows. It
// takes the query's two results as they are, so a caller writes
//
//	rows, err := db.QueryContext(ctx, query, args...)
//	users, err := sqlitedb.Collect(rows, err, scanUser)
//
// and wraps the one error it returns.
func Collect[T any](rows *sql.Rows, err error, scan func(Scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
