package mailin

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/postdesk/postdesk/desk"
	"github.com/postdesk/postdesk/internal/memimap"
)

const (
	testUser     = "support@example.com"
	testPassword = "imap-secret"
)

// serverConfig shapes a test IMAP server (memimap.Options, in the tests'
// words).
type serverConfig struct {
	// caps is what the server advertises; nil means IMAP4rev1 + IMAP4rev2,
	// which implies MOVE, UIDPLUS and IDLE.
	caps imap.CapSet
	// failCopy is a folder that COPY and MOVE refuse to write to.
	failCopy string
	// token, when set, is the one bearer token AUTHENTICATE XOAUTH2 accepts.
	token string
	// tls is "implicit" (TLS from the first byte) or "starttls"; either way
	// the server then refuses to authenticate without TLS. "" is plain text.
	tls string
}

// testServer is memimap on a loopback port, as testUser.
type testServer struct {
	addr string
	// roots trusts the server's certificate, issued to 127.0.0.1.
	roots  *x509.CertPool
	tls    string      // as serverConfig.tls
	closed chan string // the user of each session that ended ("" before login)
	// transcript is what every session read and wrote.
	transcript *lockedBuffer
}

// startServer starts memimap shaped by cfg, stopped at the test's end; the
// transcript is logged if the test failed.
func startServer(t *testing.T, cfg serverConfig) *testServer {
	t.Helper()
	if cfg.caps == nil {
		cfg.caps = imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}}
	}
	s := &testServer{tls: cfg.tls, closed: make(chan string, 64), transcript: &lockedBuffer{}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server transcript:\n%s", s.transcript)
		}
	})
	o := memimap.Options{Caps: cfg.caps, FailCopy: cfg.failCopy, XOAUTH2Token: cfg.token,
		TLS: cfg.tls, Transcript: s.transcript, Closed: s.closed}
	if cfg.tls != "" {
		s.roots, o.TLSConfig = testCertificate(t)
	}
	srv, err := memimap.StartWith(testUser, testPassword, o)
	if err != nil {
		t.Fatal(err)
	}
	s.addr = srv.Addr()
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("imap server: %v", err)
		}
	})
	return s
}

// client is a second, independent IMAP client for the test's own checks.
func (s *testServer) client(t *testing.T) *imapclient.Client {
	t.Helper()
	var c *imapclient.Client
	var err error
	opts := &imapclient.Options{TLSConfig: &tls.Config{RootCAs: s.roots}}
	switch s.tls {
	case "implicit":
		c, err = imapclient.DialTLS(s.addr, opts)
	case "starttls":
		c, err = imapclient.DialStartTLS(s.addr, opts)
	default:
		c, err = imapclient.DialInsecure(s.addr, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(testUser, testPassword).Wait(); err != nil {
		t.Fatal(err)
	}
	return c
}

// appendMail adds messages to folder.
func (s *testServer) appendMail(t *testing.T, folder string, raws ...[]byte) {
	t.Helper()
	c := s.client(t)
	defer c.Logout()
	for _, raw := range raws {
		cmd := c.Append(folder, int64(len(raw)), nil)
		if _, err := cmd.Write(raw); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := cmd.Wait(); err != nil {
			t.Fatal(err)
		}
	}
}

// stored is a message as another client sees it.
type stored struct {
	id    string // Message-ID without angle brackets
	seen  bool
	flags []imap.Flag
}

// folder lists the messages of folder in UID order, without changing them.
func (s *testServer) folder(t *testing.T, name string) []stored {
	t.Helper()
	c := s.client(t)
	defer c.Logout()
	data, err := c.Select(name, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		t.Fatalf("examine %s: %v", name, err)
	}
	if data.NumMessages == 0 {
		return nil
	}
	msgs, err := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, Envelope: true, Flags: true}).Collect()
	if err != nil {
		t.Fatalf("fetch %s: %v", name, err)
	}
	slices.SortFunc(msgs, func(a, b *imapclient.FetchMessageBuffer) int { return int(a.UID) - int(b.UID) })
	out := make([]stored, len(msgs))
	for i, m := range msgs {
		out[i] = stored{id: m.Envelope.MessageID, seen: slices.Contains(m.Flags, imap.FlagSeen), flags: m.Flags}
	}
	return out
}

// ids lists the Message-IDs of folder in UID order.
func (s *testServer) ids(t *testing.T, folder string) []string {
	t.Helper()
	var ids []string
	for _, m := range s.folder(t, folder) {
		ids = append(ids, m.id)
	}
	return ids
}

// testMail is a small valid message; id is its Message-ID.
func testMail(id, subject, body string) []byte {
	return []byte("From: Alice <alice@acme.example>\r\n" +
		"To: support@example.com\r\n" +
		"Subject: " + subject + "\r\n" +
		"Date: Mon, 02 Jan 2006 15:04:05 +0000\r\n" +
		"Message-ID: <" + id + ">\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"\r\n" + body + "\r\n")
}

// recordingDesk is a Receiver that keeps what it was given and decides like
// a tiny desk: every mail opens a new case, except those it is told to
// quarantine or to fail on.
type recordingDesk struct {
	mu         sync.Mutex
	got        []desk.Inbound
	fail       map[string]bool // Message-IDs whose Receive returns an error
	quarantine map[string]bool // Message-IDs the desk quarantines
	received   chan string     // each received Message-ID; buffered
	big        []desk.Inbound  // what TooLarge was given
	down       bool            // Receive fails with desk.ErrUnavailable
}

var _ Receiver = (*recordingDesk)(nil)

var errDeskDown = errors.New("desk: database unavailable")

func newRecordingDesk() *recordingDesk {
	return &recordingDesk{fail: map[string]bool{}, quarantine: map[string]bool{}, received: make(chan string, 64)}
}

func (d *recordingDesk) Receive(ctx context.Context, in *desk.Inbound) (desk.Result, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fail[in.MessageID] {
		return desk.Result{}, errDeskDown
	}
	if d.down {
		return desk.Result{}, fmt.Errorf("%w: disk I/O error", desk.ErrUnavailable)
	}
	d.got = append(d.got, *in)
	select {
	case d.received <- in.MessageID:
	default:
	}
	if d.quarantine[in.MessageID] {
		return desk.Result{Outcome: desk.Quarantined, Reason: "test says so"}, nil
	}
	return desk.Result{Outcome: desk.NewCase, Case: int64(len(d.got))}, nil
}

func (d *recordingDesk) Rehearse(ctx context.Context, in *desk.Inbound) (desk.Result, error) {
	return desk.Result{Outcome: desk.NewCase}, nil
}

func (d *recordingDesk) Quarantine(ctx context.Context, raw []byte, mailbox string, uid uint32, reason string) (desk.Result, error) {
	return d.Receive(ctx, &desk.Inbound{Raw: raw, Mailbox: mailbox, UID: uid, MessageID: "quarantined:" + reason})
}

func (d *recordingDesk) TooLarge(ctx context.Context, in *desk.Inbound, size, limit int64) (desk.Result, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.big = append(d.big, *in)
	return desk.Result{Outcome: desk.Quarantined, Reason: fmt.Sprintf("%d bytes", size)}, nil
}

// ids lists the Message-IDs received, in order.
func (d *recordingDesk) ids() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var ids []string
	for _, in := range d.got {
		ids = append(ids, in.MessageID)
	}
	return ids
}

// uids lists the UIDs received, in order.
func (d *recordingDesk) uids() []uint32 {
	d.mu.Lock()
	defer d.mu.Unlock()
	var uids []uint32
	for _, in := range d.got {
		uids = append(uids, in.UID)
	}
	return uids
}

// newTestPoller polls s (or addr when set) as testUser into d.
func newTestPoller(t *testing.T, addr string, d Receiver, maxBytes int64, edit func(*MailboxOptions)) *Poller {
	t.Helper()
	o := MailboxOptions{
		Name: "support", Addr: addr, TLS: "none", Username: testUser, Password: testPassword,
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if edit != nil {
		edit(&o)
	}
	p := NewPoller(o, &Intake{Desk: d, MaxBytes: maxBytes})
	t.Cleanup(func() { p.Close() })
	return p
}

// recoverTest reports a panic in a test goroutine as a test error.
func recoverTest(t *testing.T) {
	if v := recover(); v != nil {
		t.Errorf("panic in test goroutine: %v", v)
	}
}

// padded is body text of about n bytes.
func padded(n int, word string) string {
	var b strings.Builder
	for b.Len() < n {
		fmt.Fprintf(&b, "%s line %d\r\n", word, b.Len())
	}
	return b.String()
}

// lockedBuffer is a bytes.Buffer for several goroutines.
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
