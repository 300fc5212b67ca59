package memimap

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

const (
	testUser     = "u@example.com"
	testPassword = "pw"
)

// start starts a server shaped by o, closed at the test's end.
func start(t *testing.T, o Options) *Server {
	t.Helper()
	srv, err := StartWith(testUser, testPassword, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return srv
}

// dial connects without logging in.
func dial(t *testing.T, srv *Server) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(srv.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// login connects as the server's user, with INBOX selected.
func login(t *testing.T, srv *Server) *imapclient.Client {
	t.Helper()
	c := dial(t, srv)
	if err := c.Login(testUser, testPassword).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	return c
}

func imapCode(err error) imap.ResponseCode {
	if imapErr, ok := errors.AsType[*imap.Error](err); ok {
		return imapErr.Code
	}
	return ""
}

func TestFailCopy(t *testing.T) {
	srv := start(t, Options{FailCopy: "Processed"})
	c := login(t, srv)
	for _, box := range []string{"Processed", "Other"} {
		if err := c.Create(box, nil).Wait(); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.Append("INBOX", []byte("Subject: x\r\n\r\nx\r\n")); err != nil {
		t.Fatal(err)
	}
	if err := c.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	one := imap.SeqSetNum(1)
	t.Run("COPY into FailCopy is refused with CANNOT", func(t *testing.T) {
		if _, err := c.Copy(one, "Processed").Wait(); imapCode(err) != imap.ResponseCodeCannot {
			t.Errorf("COPY = %v, want NO [CANNOT]", err)
		}
	})
	t.Run("MOVE into FailCopy is refused with CANNOT", func(t *testing.T) {
		if _, err := c.Move(one, "Processed").Wait(); imapCode(err) != imap.ResponseCodeCannot {
			t.Errorf("MOVE = %v, want NO [CANNOT]", err)
		}
	})
	t.Run("COPY elsewhere works", func(t *testing.T) {
		if _, err := c.Copy(one, "Other").Wait(); err != nil {
			t.Fatal(err)
		}
		if n, err := srv.Count("Other"); err != nil || n != 1 {
			t.Errorf("Other holds %d, %v; want 1, nil", n, err)
		}
	})
}

func TestClosedAndTranscript(t *testing.T) {
	closed := make(chan string, 4)
	var transcript lockedBuffer
	srv := start(t, Options{Closed: closed, Transcript: &transcript})
	for _, tt := range []struct {
		name string
		c    func() *imapclient.Client
		want string
	}{
		{"a session that logged in reports its user", func() *imapclient.Client { return login(t, srv) }, testUser},
		{"a session that never logged in reports nobody", func() *imapclient.Client { return dial(t, srv) }, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c()
			if err := c.Logout().Wait(); err != nil {
				t.Fatal(err)
			}
			select {
			case user := <-closed:
				if user != tt.want {
					t.Errorf("closed session of %q, want %q", user, tt.want)
				}
			case <-time.After(10 * time.Second): // a bound on a wait, not a measurement
				t.Fatal("no closed session reported")
			}
		})
	}
	if tr := transcript.String(); !strings.Contains(tr, "LOGIN") || !strings.Contains(tr, "BYE") {
		t.Errorf("transcript lacks the LOGIN or the BYE:\n%s", tr)
	}
}

// xoauth2Client answers with a bearer token, then with an empty response to
// any challenge (not the "*" cancel the server wants).
type xoauth2Client struct{ user, token string }

func (x xoauth2Client) Start() (string, []byte, error) {
	return xoauth2, []byte("user=" + x.user + "\x01auth=Bearer " + x.token + "\x01\x01"), nil
}

func (x xoauth2Client) Next([]byte) ([]byte, error) { return nil, nil }

func TestXOAUTH2(t *testing.T) {
	srv := start(t, Options{XOAUTH2Token: "good"})
	tests := []struct {
		name  string
		token string
		ok    bool
	}{
		{"the token logs in", "good", true},
		{"another token is challenged, and an answer other than a cancel refused", "stale", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, srv)
			err := c.Authenticate(xoauth2Client{user: testUser, token: tt.token})
			if tt.ok != (err == nil) {
				t.Fatalf("AUTHENTICATE = %v, want ok %v", err, tt.ok)
			}
			if !tt.ok && !strings.Contains(err.Error(), "want a cancel") {
				t.Errorf("refusal %v does not ask for the cancel", err)
			}
		})
	}
	t.Run("without a token XOAUTH2 is not offered", func(t *testing.T) {
		c := dial(t, start(t, Options{}))
		caps, err := c.Capability().Wait()
		if err != nil {
			t.Fatal(err)
		}
		if caps.Has("AUTH=" + xoauth2) {
			t.Errorf("capabilities %v offer XOAUTH2", caps)
		}
	})
}

func TestStartWithRefusesBadTLS(t *testing.T) {
	for _, o := range []Options{{TLS: "ssl"}, {TLS: TLSImplicit}, {TLS: TLSStartTLS}} {
		if srv, err := StartWith(testUser, testPassword, o); err == nil {
			srv.Close()
			t.Errorf("StartWith(TLS %q, no config) succeeded", o.TLS)
		}
	}
}

// lockedBuffer is a bytes.Buffer read while sessions write to it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
