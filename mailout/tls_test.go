package mailout

import (
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/internal/smtpsink"
	"github.com/postdesk/postdesk/internal/testcert"
)

// selfSigned makes a certificate for 127.0.0.1 that is its own CA, and
// the pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	ca := testcert.New(t, "postdesk test SMTP")
	return ca.Cert, ca.Pool
}

// startTLSSink starts a sink with TLS as mode (TLSImplicit or
// TLSStartTLS) says, serving cert.
func startTLSSink(t *testing.T, mode string, cert tls.Certificate) *smtpsink.Sink {
	t.Helper()
	o := smtpsink.Options{TLS: smtpsink.TLSStartTLS, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}
	if mode == TLSImplicit {
		o.TLS = smtpsink.TLSImplicit
	}
	return startSinkWith(t, o)
}

// A server whose certificate comes from a private CA is trusted with
// Options.RootCAs (tls_ca_file) and refused without it.
func TestFlushTrustsRootCAs(t *testing.T) {
	cert, pool := selfSigned(t)
	for _, mode := range []string{TLSImplicit, TLSStartTLS} {
		for _, trusted := range []bool{false, true} {
			name := mode + " without RootCAs is refused"
			if trusted {
				name = mode + " with RootCAs is sent"
			}
			t.Run(name, func(t *testing.T) {
				db := openDB(t)
				srv := startTLSSink(t, mode, cert)
				s, _ := newSender(t, db, srv, func(o *Options) {
					o.TLS = mode
					if trusted {
						o.RootCAs = pool
					}
				})
				it := enqueue(t, db, confirmation(newCase(t, db, "en")))
				if !trusted {
					flush(t, s, Stats{Retried: 1})
					if r := row(t, db, it.ID); !strings.Contains(r.LastError, "certificate") {
						t.Errorf("row error %q, want the certificate refused", r.LastError)
					}
					return
				}
				flush(t, s, Stats{Sent: 1})
				got, err := srv.Wait(waitCtx(t), 1)
				if err != nil {
					t.Fatal(err)
				}
				if len(got[0].Data) == 0 {
					t.Error("the server got an empty message")
				}
			})
		}
	}
}
