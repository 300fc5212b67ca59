// Package testcert makes the TLS certificates tests need: one self-signed
// certificate for 127.0.0.1 and localhost that is its own CA, with the pool
// that trusts it and its PEM file (what tls_ca_file names).
package testcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// CA is a self-signed server certificate that is its own CA.
type CA struct {
	// Cert is the certificate with its key, for a server.
	Cert tls.Certificate
	// Pool trusts Cert, for a client.
	Pool *x509.CertPool
	// File is Cert in PEM, in the test's temporary directory.
	File string
}

// Server returns a TLS configuration serving the certificate.
func (ca CA) Server() *tls.Config { return &tls.Config{Certificates: []tls.Certificate{ca.Cert}} }

// New makes a CA valid for an hour around now; name is its common name.
func New(t testing.TB, name string) CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
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
	file := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return CA{Cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, Pool: pool, File: file}
}
