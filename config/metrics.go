package config

import (
	"net"
	"strconv"
)

// MinMetricsTokenLength keeps the metrics token out of guessing range.
const MinMetricsTokenLength = 16

// metrics checks the metrics listener and token.
func (v *validator) metrics(m Metrics, httpAddr string) {
	if m.Addr != "" {
		if _, port, err := net.SplitHostPort(m.Addr); err != nil {
			v.add("metrics.addr", "must be host:port (e.g. 127.0.0.1:9100)")
		} else if n, err := strconv.ParseUint(port, 10, 16); err != nil {
			v.add("metrics.addr", "port must be a number from 0 to 65535")
		} else if n != 0 && m.Addr == httpAddr {
			v.add("metrics.addr", "must differ from http.addr (leave it empty to serve /metrics there)")
		}
	}
	if m.Pprof && m.Addr == "" {
		v.add("metrics.pprof", "needs metrics.addr: profiles are served only on the separate metrics listener")
	}
	if m.Token != "" && len(m.Token) < MinMetricsTokenLength {
		v.add("metrics.token", "must be at least %d characters", MinMetricsTokenLength)
	}
	for _, r := range m.Token {
		if r <= ' ' || r == 0x7f {
			v.add("metrics.token", "must not contain spaces or control characters")
			break
		}
	}
}
