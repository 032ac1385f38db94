package accounts

import "context"

// ClientAddress returns the client address WithClientAddress put in ctx,
// or "" (for audit records of self-service actions).
func ClientAddress(ctx context.Context) string {
	addr, _ := ctx.Value(clientAddressKey{}).(string)
	return addr
}
