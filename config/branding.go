package config

import (
	"strings"
)

// safeLogoURL: empty, an https URL, or a path on this server.
func safeLogoURL(u string) bool {
	return u == "" || strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//")
}

// Effective is b as the hosted pages show it: the default product name and
// accent colour for empty (or, without Validate, invalid) ones and no logo
// for an unsafe URL, by the rules Validate reports. Nothing else reaches
// the pages' HTML and CSS.
func (b Branding) Effective() Branding {
	if strings.TrimSpace(b.ProductName) == "" {
		b.ProductName = Default().Branding.ProductName
	}
	if !accentRE.MatchString(b.AccentColor) {
		b.AccentColor = Default().Branding.AccentColor
	}
	if !safeLogoURL(b.LogoURL) {
		b.LogoURL = ""
	}
	return b
}
