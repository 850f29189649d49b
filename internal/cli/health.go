package cli

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/relkey/relkey/internal/config"
)

// health asks the relkey serving on RELKEY_LISTEN whether it is ready
// (GET /v1/health), for container health checks that have no curl: exit 0
// when it answers 200, 1 otherwise.
func health(cmd Command, cfg config.Config) int {
	flags := flag.NewFlagSet("health", flag.ContinueOnError)
	flags.SetOutput(cmd.Stderr)
	timeout := flags.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := flags.Parse(cmd.Args[1:]); err != nil {
		return exitUsage
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(cmd.Stderr, "relkey health: unexpected argument %q\n", flags.Arg(0))
		return exitUsage
	}
	client := &http.Client{Timeout: *timeout}
	scheme := "http"
	if cfg.TLS != nil {
		scheme = "https"
		client.Transport = &http.Transport{TLSClientConfig: pinnedTLS(cfg.TLS)}
	}
	url := scheme + "://" + loopbackAddress(cfg.Listen) + "/v1/health"
	resp, err := client.Get(url)
	if err != nil {
		return fail(cmd, fmt.Errorf("health: %w", err))
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fail(cmd, fmt.Errorf("health: %s answered %s", url, resp.Status))
	}
	fmt.Fprintf(cmd.Stdout, "ready: %s answered %s\n", url, resp.Status)
	return exitOK
}

// loopbackAddress is where this host reaches a server listening on listen:
// a wildcard host (0.0.0.0, ::, none) is reached on the loopback.
func loopbackAddress(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	return net.JoinHostPort(host, port)
}

// pinnedTLS trusts exactly the server's own certificate: the probe dials an
// address the certificate need not name, so the name check is replaced by
// comparing the certificate presented with the one configured.
func pinnedTLS(own *tls.Certificate) *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, // replaced by VerifyPeerCertificate below
		VerifyPeerCertificate: func(rawCerts [][]byte, _ [][]*x509.Certificate) error {
			if len(rawCerts) == 0 || len(own.Certificate) == 0 || !bytes.Equal(rawCerts[0], own.Certificate[0]) {
				return errors.New("the server's certificate is not RELKEY_TLS_CERT")
			}
			return nil
		},
	}
}
