package config

import "testing"

// Effective applies the rules Validate reports: what reaches the hosted
// pages' HTML and CSS is a safe colour and logo URL, whatever was loaded.
func TestBrandingEffective(t *testing.T) {
	def := Default().Branding
	for _, tc := range []struct{ in, want Branding }{
		{Branding{}, def},
		{Branding{ProductName: "Acme", AccentColor: "#0a7d5a", LogoURL: "/logo.svg"}, Branding{ProductName: "Acme", AccentColor: "#0a7d5a", LogoURL: "/logo.svg"}},
		{Branding{ProductName: "  ", AccentColor: "red; } body { x: y", LogoURL: "javascript:alert(1)"}, def},
		{Branding{ProductName: "Acme", AccentColor: "#abc", LogoURL: "//evil.example/logo.png"}, Branding{ProductName: "Acme", AccentColor: "#abc"}},
		{Branding{ProductName: "Acme", AccentColor: "#abc", LogoURL: "https://cdn.example/l.png"}, Branding{ProductName: "Acme", AccentColor: "#abc", LogoURL: "https://cdn.example/l.png"}},
	} {
		if got := tc.in.Effective(); got != tc.want {
			t.Errorf("%+v.Effective() = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}
