package mailin

import (
	"context"
	"crypto/tls"
	"errors"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
)

func TestXOAUTH2ClientStart(t *testing.T) {
	tests := []struct {
		name, user, token string
		want              string
		err               error
	}{
		{"initial response carries user and bearer token", "support@example.com", "ya29.token",
			"user=support@example.com\x01auth=Bearer ya29.token\x01\x01", nil},
		{"a ^A in the token is refused", "support@example.com", "bad\x01token", "", errXOAUTH2Separator},
		{"a ^A in the username is refused", "a\x01b", "token", "", errXOAUTH2Separator},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mech, ir, err := (&xoauth2Client{username: tt.user, token: tt.token}).Start()
			if !errors.Is(err, tt.err) {
				t.Fatalf("Start error = %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if mech != XOAUTH2 || string(ir) != tt.want {
				t.Errorf("Start = %q, %q; want %q, %q", mech, ir, XOAUTH2, tt.want)
			}
		})
	}
}

func TestXOAUTH2ClientReturnsErrorChallenge(t *testing.T) {
	tests := []struct {
		name      string
		challenge string
		status    string
	}{
		{"JSON error is recorded", `{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}`, "401"},
		{"unreadable challenge is recorded as such", `not json`, "unreadable challenge of 8 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &xoauth2Client{username: "u", token: "secret-token"}
			resp, err := c.Next([]byte(tt.challenge))
			refusal, ok := errors.AsType[*XOAUTH2Error](err)
			if resp != nil || !ok || refusal.Status != tt.status {
				t.Fatalf("Next = %q, %v; want no response and an XOAUTH2Error with status %q", resp, err, tt.status)
			}
			if strings.Contains(refusal.Error(), "secret-token") {
				t.Errorf("refusal %q shows the token", refusal)
			}
		})
	}
}

func TestXOAUTH2Poller(t *testing.T) {
	const good = "good-token"
	tests := []struct {
		name   string
		tls    string // the server's and the poller's; "" = none
		token  string
		status string // the refusal's status; "" when login succeeds
	}{
		{"a valid token logs in", "", good, ""},
		{"a refused token is cancelled and fails with the server's status", "", "stale-token", "401"},
		{"a refused token is cancelled under STARTTLS", "starttls", "stale-token", "401"},
		{"a refused token is cancelled under implicit TLS", "implicit", "stale-token", "401"},
		{"a valid token logs in under STARTTLS", "starttls", good, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			s := startServer(t, serverConfig{token: good, tls: tt.tls})
			s.appendMail(t, "INBOX", testMail("a@acme.example", "one", "x"))
			waitFor(t, ctx, s.closed, func(user string) bool { return user == testUser }) // appendMail's session
			d := newRecordingDesk()
			p := newTestPoller(t, s.addr, d, 0, func(o *MailboxOptions) {
				o.Password, o.Token = "", func(context.Context) (string, error) { return tt.token, nil }
				if tt.tls != "" {
					o.TLS, o.TLSConfig = tt.tls, &tls.Config{RootCAs: s.roots}
				}
			})
			n, err := p.PollOnce(ctx)
			if tt.status == "" {
				if err != nil || n != 1 {
					t.Fatalf("PollOnce = %d, %v; want 1, nil", n, err)
				}
				return
			}
			refusal, ok := errors.AsType[*XOAUTH2Error](err)
			if !ok || refusal.Status != tt.status {
				t.Fatalf("PollOnce error = %v, want an XOAUTH2Error with status %s", err, tt.status)
			}
			// The cancel worked: the NOOP after it was answered OK.
			if imapErr, ok := errors.AsType[*imap.Error](err); ok {
				t.Errorf("PollOnce error holds the server's %v, want the refusal alone", imapErr)
			}
			if !strings.Contains(err.Error(), "mailbox support") || strings.Contains(err.Error(), "stale-token") {
				t.Errorf("error %q does not name the mailbox, or shows the token", err)
			}
			// The poller hangs up after the failed exchange: the server
			// ends the session, which never logged in.
			if user := waitFor(t, ctx, s.closed, func(string) bool { return true }); user != "" {
				t.Errorf("closed session belonged to %q, want a session that never logged in", user)
			}
			if tr := s.transcript.String(); !strings.Contains(tr, "\r\n*\r\n") || !strings.Contains(tr, "BAD AUTHENTICATE cancelled") {
				t.Errorf("the server saw no cancel answered BAD:\n%s", tr)
			}
			checkEqual(t, "desk got", d.ids(), nil)
		})
	}
}
