package httpapi

import (
	"net"

	"github.com/labstack/echo/v4"
)

// clientIP is how c.RealIP() finds the client: the socket's address, or,
// from a trusted proxy, the nearest X-Forwarded-For address that is not one
// of the trusted proxies. Nothing is trusted by default, loopback and
// private networks included.
func clientIP(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	options := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		options = append(options, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(options...)
}
