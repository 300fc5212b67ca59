package main

import (
	"context"
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/postdesk/postdesk/config"
	"github.com/postdesk/postdesk/internal/memimap"
	"github.com/postdesk/postdesk/internal/smtpsink"
	"github.com/postdesk/postdesk/mailin"

	"github.com/postdesk/postdesk/internal/testcert"
)

// tls_ca_file makes the IMAP intake and the SMTP sender trust a private CA:
// without it, its certificate is refused.
func TestTLSCAFile(t *testing.T) {
	ca := newTestCA(t)
	imapSrv, err := memimap.StartWith("support@example.com", "imap-password",
		memimap.Options{TLS: memimap.TLSImplicit, TLSConfig: ca.server})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { imapSrv.Close() })
	sink, err := smtpsink.StartWith(smtpsink.Options{TLS: smtpsink.TLSImplicit, TLSConfig: ca.server})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	imapPort, smtpPort := imapSrv.Port(), sink.Port()
	raw, err := os.ReadFile("testdata/new.eml")
	if err != nil {
		t.Fatal(err)
	}
	if err := imapSrv.Append("INBOX", raw); err != nil {
		t.Fatal(err)
	}

	for _, trusted := range []bool{false, true} {
		name := "without tls_ca_file the certificate is refused"
		if trusted {
			name = "with tls_ca_file mail is read and sent"
		}
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			dir := t.TempDir()
			cfg := config.DefaultConfig()
			cfg.Desk.Address = "support@example.com"
			cfg.Desk.Database, cfg.Desk.SecretFile = filepath.Join(dir, "postdesk.db"), filepath.Join(dir, "postdesk.key")
			cfg.SMTP.Host, cfg.SMTP.Port, cfg.SMTP.TLS = "127.0.0.1", smtpPort, "implicit"
			mb := config.MailboxConfig{Name: "support", Host: "127.0.0.1", Port: imapPort, TLS: "implicit",
				Username: "support@example.com", Password: "imap-password", Folder: "INBOX",
				Processed: "Processed", Quarantine: "Quarantine", CaseType: "technical",
				PollInterval: config.Duration{Duration: time.Minute}} // the [[mailbox]] defaults
			if trusted {
				cfg.SMTP.TLSCAFile, mb.TLSCAFile = ca.file, ca.file
			}
			cfg.Mailboxes = []config.MailboxConfig{mb}
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			a, err := openApp(ctx, cfg, appOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			p, err := a.poller(cfg.Mailboxes[0])
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			n, err := p.PollOnce(ctx)
			if !trusted {
				if _, ok := errors.AsType[*tls.CertificateVerificationError](err); !ok {
					t.Fatalf("PollOnce = %d, %v; want the certificate refused", n, err)
				}
				// The mail, taken another way, queues a confirmation
				// the sender cannot send either.
				in, err := a.intake("")
				if err != nil {
					t.Fatal(err)
				}
				if _, err := in.Process(ctx, raw, mailin.Source{}); err != nil {
					t.Fatal(err)
				}
				if st, err := a.sender.Flush(ctx); err != nil || st.Sent != 0 || st.Retried == 0 {
					t.Fatalf("Flush = %+v, %v; want every mail retried later", st, err)
				}
				return
			}
			if err != nil || n != 1 {
				t.Fatalf("PollOnce = %d, %v; want 1, nil", n, err)
			}
			st, err := a.sender.Flush(ctx)
			if err != nil || st.Sent == 0 || st.Retried != 0 {
				t.Fatalf("Flush = %+v, %v; want the confirmation sent", st, err)
			}
			if len(sink.Messages()) == 0 {
				t.Error("the SMTP server received nothing")
			}
		})
	}
}

// testCA is a self-signed certificate for 127.0.0.1 that is its own CA
// (config's transport_test.go has one for Validate, without the server).
type testCA struct {
	file   string      // the certificate, PEM (what tls_ca_file names)
	server *tls.Config // serves it
}

func newTestCA(t *testing.T) testCA {
	t.Helper()
	ca := testcert.New(t, "postdesk test CA")
	return testCA{file: ca.File, server: ca.Server()}
}
