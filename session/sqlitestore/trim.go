package sqlitestore

import (
	"context"

	"github.com/unilogin/unilogin/session"
	"github.com/unilogin/unilogin/session/sqlitestore/sqlitedb"
)

// TrimUserSessions reads the ids of the user's sessions beyond the newest
// max (other than keepID), then ends each with DeleteSession, which also
// deletes its refresh tokens.
func (s *Store) TrimUserSessions(ctx context.Context, userID, keepID string, max int) (int, error) {
	if max < 0 {
		max = 0
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM sessions WHERE user_id = ? AND id != ?
		ORDER BY created_at DESC, id DESC LIMIT -1 OFFSET ?`, userID, keepID, max)
	// Collect closes the rows before DeleteSession: the pool may have one
	// connection.
	ids, err := sqlitedb.Collect(rows, err, func(r sqlitedb.Scanner) (id string, err error) {
		err = r.Scan(&id)
		return id, err
	})
	if err != nil {
		return 0, wrap("trim user sessions", err)
	}
	return session.DeleteEach(ctx, s.DeleteSession, ids)
}
