package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"

	"github.com/unilogin/unilogin/session"
)

// FlowCodec seals the browser flow cookie and link tickets with a key
// shared by every instance (session.Manager.SharedSecret).
type FlowCodec struct {
	sealer *session.Sealer
}

func NewFlowCodec(ctx context.Context, m *session.Manager, kek *session.Sealer) (*FlowCodec, error) {
	key, err := m.SharedSecret(ctx, kek, "flow-cookie")
	if err != nil {
		return nil, err
	}
	sealer, err := session.NewSealer(key)
	if err != nil {
		return nil, err
	}
	return &FlowCodec{sealer: sealer}, nil
}

func (f *FlowCodec) Seal(v any, purpose string) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(f.sealer.Seal(b, purpose))
}

func (f *FlowCodec) Open(s, purpose string, v any) error {
	if len(s) > 8<<10 {
		return errors.New("too long")
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	pt, err := f.sealer.Open(b, purpose)
	if err != nil {
		return err
	}
	return json.Unmarshal(pt, v)
}
