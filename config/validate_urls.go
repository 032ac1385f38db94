package config

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// url checks an upstream endpoint: https, or http on a loopback host.
func (v *validator) url(path, raw string) {
	if msg := webURLProblem(raw, isLoopback); msg != "" {
		v.add(path, "%s", msg)
	}
}

func (v *validator) notFor(path, key, value, owner string) {
	if value != "" {
		v.add(path+"."+key, "applies only to %s", owner)
	}
}

// webURLProblem describes what is wrong with raw as an absolute http(s) URL
// without user info, query or fragment; http is accepted only when
// httpOK(host). It returns "" when raw is fine.
func webURLProblem(raw string, httpOK func(host string) bool) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "not a valid URL: " + urlErr(err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "must be an absolute https URL"
	case u.Host == "" || u.Hostname() == "":
		return "must be an absolute URL with a host"
	case u.User != nil:
		return "must not contain user info"
	case u.RawQuery != "" || u.ForceQuery:
		return "must not have a query"
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "must not have a fragment"
	case u.Scheme == "http" && !httpOK(u.Hostname()):
		return "http is allowed only for a loopback host; use https"
	}
	return ""
}

// redirectURIProblem checks a client redirect URI against RFC 8252 and
// RFC 9700 §2.1: an absolute URI without fragment (RFC 6749 §3.1.2), https,
// http only on a loopback host (RFC 8252 §7.3), or a private-use scheme in
// reverse domain notation such as com.example.app:/cb (RFC 8252 §7.1).
// Redirect URIs are matched exactly, so wildcards are refused.
func redirectURIProblem(raw string) string {
	if raw == "" {
		return "must not be empty"
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "not a valid URI: " + urlErr(err)
	}
	switch {
	case u.Scheme == "":
		return "must be an absolute URI"
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "must not contain a fragment (RFC 6749 §3.1.2)"
	case strings.Contains(raw, "*"):
		return "must not contain wildcards (redirect URIs match exactly)"
	case u.Scheme == "https" || u.Scheme == "http":
		if u.Hostname() == "" {
			return "must have a host"
		}
		if u.User != nil {
			return "must not contain user info"
		}
		if u.Scheme == "http" && !isLoopback(u.Hostname()) {
			return "http is allowed only for loopback hosts (RFC 8252 §7.3); use https"
		}
	case !strings.Contains(u.Scheme, "."):
		return fmt.Sprintf("scheme %q is not allowed: use https, http on a loopback host, or a private-use scheme such as com.example.app (RFC 8252 §7.1)", u.Scheme)
	}
	return ""
}

// originProblem checks a CORS origin: scheme://host[:port], nothing more.
func originProblem(raw string) string {
	if raw == "*" {
		return "wildcard origins are not allowed; list each origin"
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "not a valid origin: " + urlErr(err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil ||
		u.Path != "" || u.RawQuery != "" || u.ForceQuery || strings.Contains(raw, "#") {
		return fmt.Sprintf("%q is not an origin: want scheme://host[:port] with no path, e.g. https://app.example.com", raw)
	}
	return ""
}

// urlErr is the reason of a url.Parse error without the URL it quotes.
func urlErr(err error) string {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err.Error()
	}
	return err.Error()
}

// isLocalHost is the issuer's exception to https: a server on this machine.
func isLocalHost(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// isLoopback is localhost or any loopback address (127.0.0.0/8, ::1).
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
