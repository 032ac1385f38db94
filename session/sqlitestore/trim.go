package sqlitestore

import (
	"context"
	"errors"

	"github.com/unilogin/unilogin/session"
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
	if err != nil {
		return 0, wrap("trim user sessions", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, wrap("trim user sessions", err)
		}
		ids = append(ids, id)
	}
	err = rows.Err()
	rows.Close() // before DeleteSession: the pool may have one connection
	if err != nil {
		return 0, wrap("trim user sessions", err)
	}
	n := 0
	for _, id := range ids {
		switch err := s.DeleteSession(ctx, id); {
		case err == nil:
			n++
		case !errors.Is(err, session.ErrNotFound): // ended meanwhile: fine
			return n, err
		}
	}
	return n, nil
}
