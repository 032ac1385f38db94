package session

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ClientCredentials issues an access token to a client for itself (RFC
// 6749 §4.4): sub and client_id are clientID, there is no session (no sid)
// and no refresh token. allowed are the permissions configured for the
// client; requested (space-separated) narrows them, empty meaning all of
// them. A requested value outside allowed, OpenID Connect scopes included,
// is ErrInvalidScope. The caller has authenticated the client and checked
// that it may use this grant. The token cannot be revoked: it is valid,
// and introspects as active, until it expires (AccessTTL).
func (m *Manager) ClientCredentials(ctx context.Context, clientID string, allowed []string, requested string) (*Pair, error) {
	if clientID == "" {
		return nil, fmt.Errorf("session: client credentials without a client")
	}
	var scope []string
	if strings.TrimSpace(requested) == "" {
		for _, p := range allowed {
			if !slices.Contains(scope, p) {
				scope = append(scope, p)
			}
		}
	} else {
		for _, p := range strings.Fields(requested) {
			if !slices.Contains(allowed, p) {
				return nil, fmt.Errorf("%w: %q is not among the client's scopes", ErrInvalidScope, truncate(p, 64))
			}
			if !slices.Contains(scope, p) {
				scope = append(scope, p)
			}
		}
	}
	key, err := m.keys.Signer(ctx)
	if err != nil {
		return nil, err
	}
	now := m.opts.Now().UTC()
	claims := AccessClaims{
		RegisteredClaims: m.registered(clientID, m.opts.Audience, now),
		AMR:              []string{},
		Roles:            []string{},
		Scope:            strings.Join(scope, " "),
		ClientID:         clientID,
	}
	claims.ID = newID()
	signed, err := key.sign(AccessTokenType, claims)
	if err != nil {
		return nil, fmt.Errorf("session: sign client token: %w", err)
	}
	return &Pair{AccessToken: signed, ExpiresIn: int64(m.opts.AccessTTL / time.Second), Scope: claims.Scope}, nil
}
