package server

import (
	"net"
	"time"

	"github.com/unilogin/unilogin/accounts/mfa"
	"github.com/unilogin/unilogin/config"
	"github.com/unilogin/unilogin/session"
)

// openMFA builds the second-factor service over the (timed) stores: TOTP
// secrets sealed with the key-encryption key, failed codes counted in the
// shared rate counters, passkeys for the issuer's host as relying party.
// WebAuthn needs a domain: with an IP address as the issuer's host
// passkeys are off (docs/security.md), the rest works.
func openMFA(cfg *config.Config, st *stores, sealer *session.Sealer, now func() time.Time) (*mfa.Service, error) {
	product := cfg.Branding.Effective().ProductName
	rp, err := mfa.RelyingParty(cfg.Issuer, product)
	if err != nil {
		return nil, err
	}
	if net.ParseIP(rp.RPID) != nil {
		rp = nil
	}
	return mfa.New(mfa.Options{
		Issuer:   product,
		Users:    st.accounts,
		Factors:  st.accounts,
		Sealer:   sealer,
		Audit:    st.accounts,
		Rate:     st.sessions,
		WebAuthn: rp,
		Now:      now,
	})
}
