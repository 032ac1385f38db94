package providers

import "golang.org/x/oauth2"

// Base is what every OAuth 2.0 provider implementation shares: its id,
// display name and AMR value, and the x/oauth2 client configuration with
// the redirect URL it was built with. Embed it to implement ID, Name and
// AMR.
type Base struct {
	id, name, amr string
	oauth         oauth2.Config
}

// NewBase returns the Base of a provider.
func NewBase(id, name, amr string, oauth oauth2.Config) Base {
	return Base{id: id, name: name, amr: amr, oauth: oauth}
}

// ID implements Provider.
func (b *Base) ID() string { return b.id }

// Name implements Provider.
func (b *Base) Name() string { return b.name }

// AMR implements Provider.
func (b *Base) AMR() string { return b.amr }

// OAuth2 is the client configuration for req: the configured one, with
// req.RedirectURL when the request names one.
func (b *Base) OAuth2(req AuthRequest) *oauth2.Config {
	c := b.oauth
	if req.RedirectURL != "" {
		c.RedirectURL = req.RedirectURL
	}
	return &c
}
