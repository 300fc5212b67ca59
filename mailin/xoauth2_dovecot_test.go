package mailin

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"

	"github.com/postdesk/postdesk/internal/dovecot"
)

// TestDovecotXOAUTH2 logs in to a real Dovecot whose oauth2 passdb asks an
// introspection endpoint of the test (RFC 7662) about each token. A refused
// token gets Dovecot's error challenge, which the poller cancels with "*":
// go-imap alone would answer "=", which Dovecot calls invalid base64.
func TestDovecotXOAUTH2(t *testing.T) {
	const good = "good-token"
	introspect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodPost && r.PostFormValue("token") == good {
			w.Write([]byte(`{"active": true, "username": "` + testUser + `"}`))
			return
		}
		w.Write([]byte(`{"active": false}`))
	}))
	t.Cleanup(introspect.Close)
	dv := dovecot.StartTestWith(t, map[string]string{testUser: testPassword},
		dovecot.Options{OAuth2IntrospectionURL: introspect.URL + "/introspect"})

	tests := []struct {
		name, token string
		refused     bool
	}{
		{"a valid token logs in", good, false},
		{"a refused token is cancelled, with Dovecot's status in the error", "stale-token", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			deliver(t, dv, testMail("a@acme.example", "one", "x"))
			wire := startProxy(t, dv.Addr())
			d := newRecordingDesk()
			p := newTestPoller(t, wire.addr(), d, 0, func(o *MailboxOptions) {
				o.Password, o.Token = "", func(context.Context) (string, error) { return tt.token, nil }
			})
			n, err := p.PollOnce(ctx)
			if !tt.refused {
				if err != nil || n != 1 {
					t.Fatalf("PollOnce = %d, %v; want 1, nil", n, err)
				}
				return
			}
			refusal, ok := errors.AsType[*XOAUTH2Error](err)
			if !ok || refusal.Status == "" {
				t.Fatalf("PollOnce error = %v, want an XOAUTH2Error with Dovecot's status", err)
			}
			if imapErr, ok := errors.AsType[*imap.Error](err); ok {
				t.Errorf("PollOnce error holds the server's %v, want the refusal alone", imapErr)
			}
			if !strings.Contains(err.Error(), "mailbox support") || strings.Contains(err.Error(), tt.token) {
				t.Errorf("error %q does not name the mailbox, or shows the token", err)
			}
			sent, got := wire.sent.String(), wire.got.String()
			if !strings.Contains(sent, "\r\n*\r\n") {
				t.Errorf("the poller sent no cancel line:\n%s", sent)
			}
			if !strings.Contains(got, " BAD ") || strings.Contains(got, "base64") {
				t.Errorf("Dovecot did not answer the cancel with BAD, or complained of base64:\n%s", got)
			}
			checkEqual(t, "desk got", d.ids(), nil)
		})
	}
}
