package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/internal/testcert"
)

// testCA is a self-signed certificate for 127.0.0.1 that is its own CA
// (cmd/postdesk's tlsca_test.go has one that also serves it).
type testCA struct {
	file string // the certificate, PEM (what tls_ca_file names)
}

func newTestCA(t *testing.T) testCA {
	t.Helper()
	return testCA{file: testcert.New(t, "postdesk test CA").File}
}

func TestValidateTransport(t *testing.T) {
	ca := newTestCA(t)
	notPEM := filepath.Join(t.TempDir(), "ca.txt")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		change func(c *Config)
		key    string // the only key flagged; "" = valid
		msg    string
	}{
		{"mailbox login in clear text to a remote host", func(c *Config) { c.Mailboxes[0].TLS = "none" },
			"mailbox[0].tls", "clear text to imap.example.com"},
		{"mailbox token in clear text to a remote address", func(c *Config) {
			m := &c.Mailboxes[0]
			m.TLS, m.Host, m.PasswordFile, m.OAuth2TokenCommand = "none", "192.0.2.7", "", "imap-token"
		}, "mailbox[0].tls", "clear text to 192.0.2.7"},
		{"mailbox in clear text to 127.0.0.5", func(c *Config) { c.Mailboxes[0].TLS, c.Mailboxes[0].Host = "none", "127.0.0.5" }, "", ""},
		{"mailbox in clear text to ::1", func(c *Config) { c.Mailboxes[0].TLS, c.Mailboxes[0].Host = "none", "::1" }, "", ""},
		{"mailbox in clear text to [::1]", func(c *Config) { c.Mailboxes[0].TLS, c.Mailboxes[0].Host = "none", "[::1]" }, "", ""},
		{"mailbox in clear text to localhost", func(c *Config) { c.Mailboxes[0].TLS, c.Mailboxes[0].Host = "none", "LocalHost" }, "", ""},
		{"mailbox in clear text to a name that only starts like localhost", func(c *Config) {
			c.Mailboxes[0].TLS, c.Mailboxes[0].Host = "none", "localhost.evil.example"
		}, "mailbox[0].tls", "clear text"},
		{"smtp login in clear text to a remote host", func(c *Config) { c.SMTP.TLS = "none" }, "smtp.tls", "clear text to smtp.example.com"},
		{"smtp without login in clear text to a relay", func(c *Config) {
			c.SMTP.TLS, c.SMTP.Username, c.SMTP.PasswordFile = "none", "", ""
		}, "", ""},
		{"smtp login in clear text to loopback", func(c *Config) { c.SMTP.TLS, c.SMTP.Host = "none", "127.0.0.1" }, "", ""},
		{"mailbox CA file", func(c *Config) { c.Mailboxes[0].TLSCAFile = ca.file }, "", ""},
		{"smtp CA file", func(c *Config) { c.SMTP.TLSCAFile = ca.file }, "", ""},
		{"mailbox CA file missing", func(c *Config) { c.Mailboxes[0].TLSCAFile = ca.file + ".gone" }, "mailbox[0].tls_ca_file", "no such file"},
		{"smtp CA file without a certificate", func(c *Config) { c.SMTP.TLSCAFile = notPEM }, "smtp.tls_ca_file", "no PEM certificate"},
		{"CA file without TLS", func(c *Config) {
			c.SMTP.TLS, c.SMTP.Host, c.SMTP.TLSCAFile = "none", "localhost", ca.file
		}, "smtp.tls_ca_file", "no use"},
		{"text bytes zero", func(c *Config) { c.Limits.TextBytes = 0 }, "limits.text_bytes", "positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := exampleForTest(t)
			tt.change(c)
			err := c.Validate()
			if tt.key == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			errs := configErrors(t, err)
			if len(errs) != 1 || errs[0].Key != tt.key || !strings.Contains(errs[0].Error(), tt.msg) {
				t.Fatalf("Validate = %q, want one error at %s containing %q", err, tt.key, tt.msg)
			}
		})
	}
}

func TestLocate(t *testing.T) {
	doc := "[desk]\naddress = \"support@example.com\"\nagents = [\"a@example.com\", \"b\"]\n\n" +
		"[[mailbox]]\nname = \"one\"\n\n[[mailbox]]\nname = \"two\"\n  port = 0\n"
	tests := []struct {
		key       string
		line, col int
	}{
		{"desk.address", 2, 1},
		{"desk.agents[1]", 3, 1},          // an element: its array
		{"mailbox[1].port", 10, 3},        // the second [[mailbox]]
		{"mailbox[1].password", 8, 3},     // unset: its table's header
		{"desk.timezone", 1, 2},           // unset: [desk]
		{"sla.high", 0, 0},                // nowhere in the file
		{"plans.gold.max_severity", 0, 0}, // nowhere either
		{"mailbox[2].name", 0, 0},         // no third mailbox
	}
	for _, tt := range tests {
		ce := &ConfigError{Key: tt.key, Msg: tt.key + ": wrong"}
		locate([]byte(doc), ce)
		if ce.Line != tt.line || ce.Column != tt.col {
			t.Errorf("%s at %d:%d, want %d:%d", tt.key, ce.Line, ce.Column, tt.line, tt.col)
		}
	}
}
