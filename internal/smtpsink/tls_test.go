package smtpsink

import (
	"crypto/tls"
	"net/smtp"
	"slices"
	"testing"

	"github.com/postdesk/postdesk/internal/testcert"
)

// sendTLS dials s as mode says, checks that AUTH is offered over TLS only,
// and sends msg as user desk.
func sendTLS(t *testing.T, s *Sink, mode string, ca testcert.CA) {
	t.Helper()
	cfg := &tls.Config{RootCAs: ca.Pool, ServerName: s.Host()}
	var c *smtp.Client
	if mode == TLSImplicit {
		conn, err := tls.Dial("tcp", s.Addr(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if c, err = smtp.NewClient(conn, s.Host()); err != nil {
			t.Fatal(err)
		}
	} else {
		var err error
		if c, err = smtp.Dial(s.Addr()); err != nil {
			t.Fatal(err)
		}
		if ok, _ := c.Extension("AUTH"); ok {
			t.Error("AUTH offered before STARTTLS")
		}
		if err := c.StartTLS(cfg); err != nil {
			t.Fatal(err)
		}
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		t.Error("STARTTLS offered over TLS")
	}
	steps := []func() error{
		func() error { return c.Auth(smtp.PlainAuth("", "desk", "secret", s.Host())) },
		func() error { return c.Mail("desk@example.com") },
		func() error { return c.Rcpt("a@acme.example") },
		func() error {
			w, err := c.Data()
			if err != nil {
				return err
			}
			if _, err := w.Write([]byte(msg)); err != nil {
				return err
			}
			return w.Close()
		},
		c.Quit,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSinkServesTLS(t *testing.T) {
	ca := testcert.New(t, "smtpsink test")
	for _, mode := range []string{TLSImplicit, TLSStartTLS} {
		t.Run(mode+" takes mail and AUTH over TLS only", func(t *testing.T) {
			s := startWith(t, Options{TLS: mode, TLSConfig: ca.Server()})
			sendTLS(t, s, mode, ca)
			got := s.Messages()
			if len(got) != 1 || got[0].User != "desk" || string(got[0].Data) != msg {
				t.Errorf("Messages = %+v, want the message from user desk", got)
			}
			want := []string{"localhost"} // net/smtp's EHLO name
			if mode == TLSStartTLS {
				want = append(want, "localhost") // a new session after STARTTLS
			}
			if helos := s.Seen().Helos; !slices.Equal(helos, want) {
				t.Errorf("Seen.Helos = %q, want %q", helos, want)
			}
		})
	}
}

func TestStartWithRefusesBadTLSOptions(t *testing.T) {
	tests := []struct {
		name string
		o    Options
	}{
		{"an unknown mode", Options{TLS: "ssl", TLSConfig: &tls.Config{}}},
		{"TLS without a configuration", Options{TLS: TLSStartTLS}},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			s, err := StartWith(tt.o)
			if err == nil {
				s.Close()
				t.Fatal("StartWith accepted it")
			}
		})
	}
}
