package cli

import (
	"net"
	"sync"
)

// perIPListener closes connections beyond max per remote address, except
// from trusted proxies (which carry many clients).
type perIPListener struct {
	net.Listener
	max     int
	trusted []*net.IPNet
	mu      sync.Mutex
	open    map[string]int
}

// limitPerIP closes the connections of an address beyond max held open at
// once (max 0: no limit) as they arrive.
func limitPerIP(l net.Listener, max int, trusted []*net.IPNet) net.Listener {
	if max == 0 {
		return l
	}
	return &perIPListener{Listener: l, max: max, trusted: trusted, open: map[string]int{}}
}

func (l *perIPListener) Accept() (net.Conn, error) {
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		host, _, _ := net.SplitHostPort(conn.RemoteAddr().String())
		if l.isTrusted(host) {
			return conn, nil
		}
		l.mu.Lock()
		if l.open[host] >= l.max {
			l.mu.Unlock()
			conn.Close()
			continue
		}
		l.open[host]++
		l.mu.Unlock()
		return &countedConn{Conn: conn, release: func() { l.release(host) }}, nil
	}
}

func (l *perIPListener) isTrusted(host string) bool {
	ip := net.ParseIP(host)
	for _, n := range l.trusted {
		if ip != nil && n.Contains(ip) {
			return true
		}
	}
	return false
}

func (l *perIPListener) release(host string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[host]--; l.open[host] <= 0 {
		delete(l.open, host)
	}
}

type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}
