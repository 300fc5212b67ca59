package mailout

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/postdesk/postdesk/internal/testcert"
)

// selfSigned makes a certificate for 127.0.0.1 that is its own CA, and
// the pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	ca := testcert.New(t, "postdesk test SMTP")
	return ca.Cert, ca.Pool
}

// tlsServer is go-smtp on a loopback port with TLS, implicit or STARTTLS,
// counting the messages it accepts.
type tlsServer struct {
	port int
	got  chan []byte
}

func startTLSServer(t *testing.T, mode string, cert tls.Certificate) *tlsServer {
	t.Helper()
	s := &tlsServer{got: make(chan []byte, 16)}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return tlsSession{s.got}, nil }))
	srv.Domain = "localhost"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if mode == TLSImplicit {
		ln = tls.NewListener(ln, cfg)
	} else {
		srv.TLSConfig = cfg
	}
	s.port = ln.Addr().(*net.TCPAddr).Port
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return s
}

type tlsSession struct{ got chan<- []byte }

func (tlsSession) Mail(string, *smtp.MailOptions) error { return nil }
func (tlsSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (tlsSession) Reset()                               {}
func (tlsSession) Logout() error                        { return nil }
func (s tlsSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err == nil {
		s.got <- b
	}
	return err
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
				srv := startTLSServer(t, mode, cert)
				s, _ := newSender(t, db, nil, func(o *Options) {
					o.TLS, o.Port = mode, srv.port
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
				if got := <-srv.got; len(got) == 0 {
					t.Error("the server got an empty message")
				}
			})
		}
	}
}
