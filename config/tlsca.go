package config

import (
	"crypto/x509"
	"fmt"
	"os"
)

// LoadCAFile reads tls_ca_file: PEM certificates of the CAs trusted for a
// server's certificate, instead of the system roots. Validate reads it to
// check it; cmd/postdesk reads it again to connect.
func LoadCAFile(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("CA file %s holds no PEM certificate", path)
	}
	return pool, nil
}
