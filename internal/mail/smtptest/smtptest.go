// Package smtptest is a tiny SMTP server for tests: it accepts every
// message (optionally after STARTTLS and AUTH PLAIN) and keeps it.
package smtptest

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Mail is one received message.
type Mail struct {
	From, To string
	Data     string // headers and body, CRLF line ends
	TLS      bool   // sent after STARTTLS
	User     string // AUTH PLAIN user, "" without
}

// Server is a running test SMTP server.
type Server struct {
	Addr string
	// TLS, when set, is offered with STARTTLS.
	TLS   *tls.Config
	roots *x509.CertPool
	mu    sync.Mutex
	fail  int
	mails []Mail
	ln    net.Listener
}

// Start serves on a loopback port until the test ends; withTLS offers
// STARTTLS with a certificate for 127.0.0.1 (ClientTLS trusts it).
func Start(t testing.TB, withTLS bool) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: ln.Addr().String(), ln: ln}
	if withTLS {
		s.TLS, s.roots = certificate(t)
	}
	t.Cleanup(func() { ln.Close() })
	go s.serve()
	return s
}

// ClientTLS is a client configuration that trusts the server's certificate.
func (s *Server) ClientTLS() *tls.Config {
	return &tls.Config{RootCAs: s.roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

// certificate makes a self-signed certificate for 127.0.0.1.
func certificate(t testing.TB) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smtptest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}

// FailNext makes the server refuse the next n messages.
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = n
}

// Mails returns what the server received.
func (s *Server) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

func (s *Server) serve() {
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		go s.session(conn)
	}
}

func (s *Server) session(conn net.Conn) {
	defer func() { conn.Close() }()
	r, w := bufio.NewReader(conn), bufio.NewWriter(conn)
	reply := func(line string) { w.WriteString(line + "\r\n"); w.Flush() }
	var m Mail
	reply("220 smtptest ready")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			w.WriteString("250-smtptest\r\n")
			if s.TLS != nil && !m.TLS {
				w.WriteString("250-STARTTLS\r\n")
			}
			reply("250 AUTH PLAIN")
		case "STARTTLS":
			reply("220 go ahead")
			tc := tls.Server(conn, s.TLS)
			if tc.Handshake() != nil {
				return
			}
			conn, m.TLS = tc, true
			r, w = bufio.NewReader(conn), bufio.NewWriter(conn)
		case "AUTH":
			mech, payload, _ := strings.Cut(arg, " ")
			raw, err := base64.StdEncoding.DecodeString(payload)
			parts := strings.Split(string(raw), "\x00")
			if !strings.EqualFold(mech, "PLAIN") || err != nil || len(parts) != 3 {
				reply("535 authentication failed")
				continue
			}
			m.User = parts[1]
			reply("235 ok")
		case "MAIL":
			m.From = strings.Trim(strings.TrimPrefix(arg, "FROM:"), "<> ")
			reply("250 ok")
		case "RCPT":
			m.To = strings.Trim(strings.TrimPrefix(arg, "TO:"), "<> ")
			reply("250 ok")
		case "DATA":
			reply("354 end with .")
			var data strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(strings.TrimPrefix(l, "."))
			}
			m.Data = data.String()
			s.mu.Lock()
			refuse := s.fail > 0
			if refuse {
				s.fail--
			} else {
				s.mails = append(s.mails, m)
			}
			s.mu.Unlock()
			if refuse {
				reply("451 try again later")
			} else {
				reply("250 queued")
			}
		case "RSET":
			reply("250 ok")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 not implemented")
		}
	}
}
