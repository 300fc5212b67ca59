package mailin

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/postdesk/postdesk/internal/testcert"
)

// testContext bounds a test that waits on the poller; reaching the deadline
// is a failure, never a timing assertion.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// oversized records the calls of MailboxOptions.OnOversize.
type oversized struct {
	mu    sync.Mutex
	calls [][2]int64 // uid, size
}

func (o *oversized) hook(_ context.Context, uid uint32, size int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, [2]int64{int64(uid), size})
}

func TestPollOnceMovesHandledMail(t *testing.T) {
	big := testMail("big@acme.example", "core dump", padded(4000, "dump"))
	tests := []struct {
		name     string
		mails    [][]byte
		setup    func(d *recordingDesk)
		maxBytes int64
		// handled is what each PollOnce in turn returns.
		handled                      []int
		desk                         []string // Message-IDs the desk got, in order
		deskUIDs                     []uint32
		inbox, processed, quarantine []string
		oversize                     [][2]int64
	}{{
		name: "three mails are handled in UID order and moved to Processed",
		mails: [][]byte{
			testMail("a@acme.example", "one", "first"),
			testMail("b@acme.example", "two", "second"),
			testMail("c@acme.example", "three", "third"),
		},
		handled:   []int{3, 0},
		desk:      []string{"a@acme.example", "b@acme.example", "c@acme.example"},
		deskUIDs:  []uint32{1, 2, 3},
		processed: []string{"a@acme.example", "b@acme.example", "c@acme.example"},
	}, {
		name:       "a mail the desk quarantines goes to Quarantine",
		mails:      [][]byte{testMail("q@acme.example", "spam?", "x"), testMail("ok@acme.example", "hi", "y")},
		setup:      func(d *recordingDesk) { d.quarantine["q@acme.example"] = true },
		handled:    []int{2},
		desk:       []string{"q@acme.example", "ok@acme.example"},
		deskUIDs:   []uint32{1, 2},
		processed:  []string{"ok@acme.example"},
		quarantine: []string{"q@acme.example"},
	}, {
		name:       "a mail over the size limit goes to Quarantine without reaching the desk",
		mails:      [][]byte{big, testMail("small@acme.example", "hi", "short")},
		maxBytes:   2000,
		handled:    []int{2},
		desk:       []string{"small@acme.example"},
		deskUIDs:   []uint32{2},
		processed:  []string{"small@acme.example"},
		quarantine: []string{"big@acme.example"},
		oversize:   [][2]int64{{1, int64(len(big))}},
	}, {
		name:       "a mail the desk fails on stays for MaxAttempts polls, then goes to Quarantine",
		mails:      [][]byte{testMail("bad@acme.example", "boom", "x"), testMail("good@acme.example", "hi", "y")},
		setup:      func(d *recordingDesk) { d.fail["bad@acme.example"] = true },
		handled:    []int{1, 0, 1, 0},
		desk:       []string{"good@acme.example"},
		deskUIDs:   []uint32{2},
		processed:  []string{"good@acme.example"},
		quarantine: []string{"bad@acme.example"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			s := startServer(t, serverConfig{})
			s.appendMail(t, "INBOX", tt.mails...)
			d := newRecordingDesk()
			if tt.setup != nil {
				tt.setup(d)
			}
			var over oversized
			p := newTestPoller(t, s.addr, d, tt.maxBytes, func(o *MailboxOptions) { o.OnOversize = over.hook })
			for i, want := range tt.handled {
				n, err := p.PollOnce(ctx)
				if err != nil || n != want {
					t.Fatalf("poll %d = %d, %v; want %d, nil", i+1, n, err, want)
				}
			}
			checkEqual(t, "desk got", d.ids(), tt.desk)
			checkEqual(t, "desk UIDs", d.uids(), tt.deskUIDs)
			checkEqual(t, "INBOX", s.ids(t, "INBOX"), tt.inbox)
			checkEqual(t, "Processed", s.ids(t, "Processed"), tt.processed)
			checkEqual(t, "Quarantine", s.ids(t, "Quarantine"), tt.quarantine)
			checkEqual(t, "OnOversize calls", over.calls, tt.oversize)
			if p.LastSuccess().IsZero() {
				t.Error("LastSuccess is zero after successful polls")
			}
		})
	}
}

func TestPollOnceConnects(t *testing.T) {
	tests := []struct {
		name      string
		serverTLS string
		edit      func(o *MailboxOptions, s *testServer)
		// ok checks PollOnce's error; nil means it must succeed.
		ok func(err error) bool
	}{
		{name: "plain text", edit: func(o *MailboxOptions, _ *testServer) { o.TLS = "none" }},
		{name: "implicit TLS is the default", serverTLS: "implicit",
			edit: func(o *MailboxOptions, s *testServer) { o.TLS, o.TLSConfig = "", &tls.Config{RootCAs: s.roots} }},
		{name: "STARTTLS", serverTLS: "starttls",
			edit: func(o *MailboxOptions, s *testServer) { o.TLS, o.TLSConfig = "starttls", &tls.Config{RootCAs: s.roots} }},
		{name: "implicit TLS checks the certificate against Addr's host", serverTLS: "implicit",
			edit: func(o *MailboxOptions, _ *testServer) { o.TLS = "implicit" },
			ok: func(err error) bool {
				var certErr *tls.CertificateVerificationError
				return errors.As(err, &certErr)
			}},
		{name: "STARTTLS checks the certificate against Addr's host", serverTLS: "starttls",
			edit: func(o *MailboxOptions, _ *testServer) { o.TLS = "starttls" },
			ok: func(err error) bool {
				var certErr *tls.CertificateVerificationError
				return errors.As(err, &certErr)
			}},
		{name: "STARTTLS to a server without it is refused",
			edit: func(o *MailboxOptions, _ *testServer) { o.TLS = "starttls" },
			ok:   func(err error) bool { return err != nil && strings.Contains(err.Error(), "starttls") }},
		{name: "plain text to a server that wants TLS is refused", serverTLS: "starttls",
			edit: func(o *MailboxOptions, _ *testServer) { o.TLS = "none" },
			ok:   func(err error) bool { return imapCode(err) == imap.ResponseCodePrivacyRequired }},
		{name: "a wrong password is refused and not shown", edit: func(o *MailboxOptions, _ *testServer) {
			o.TLS, o.Password = "none", "wrong-password"
		}, ok: func(err error) bool {
			return imapCode(err) == imap.ResponseCodeAuthenticationFailed && !strings.Contains(err.Error(), "wrong-password")
		}},
		{name: "an unknown TLS mode is an error", edit: func(o *MailboxOptions, _ *testServer) { o.TLS = "ssl" },
			ok: func(err error) bool { return err != nil && strings.Contains(err.Error(), `"ssl"`) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			s := startServer(t, serverConfig{tls: tt.serverTLS})
			s.appendMail(t, "INBOX", testMail("a@acme.example", "one", "x"))
			d := newRecordingDesk()
			p := newTestPoller(t, s.addr, d, 0, func(o *MailboxOptions) { tt.edit(o, s) })
			n, err := p.PollOnce(ctx)
			if tt.ok == nil {
				if err != nil || n != 1 {
					t.Fatalf("PollOnce = %d, %v; want 1, nil", n, err)
				}
				checkEqual(t, "Processed", s.ids(t, "Processed"), []string{"a@acme.example"})
				return
			}
			if !tt.ok(err) {
				t.Fatalf("PollOnce error = %v, not the one expected", err)
			}
			checkEqual(t, "desk got", d.ids(), nil)
			checkEqual(t, "INBOX", s.ids(t, "INBOX"), []string{"a@acme.example"})
		})
	}
}

// testCertificate makes a self-signed certificate for 127.0.0.1.
func testCertificate(t *testing.T) (*x509.CertPool, *tls.Config) {
	t.Helper()
	ca := testcert.New(t, "postdesk test IMAP")
	return ca.Pool, ca.Server()
}

func TestPollOnceCountsAttemptsPerUIDVALIDITY(t *testing.T) {
	ctx := testContext(t)
	s := startServer(t, serverConfig{})
	bad := testMail("bad@acme.example", "boom", "x")
	s.appendMail(t, "INBOX", bad)
	d := newRecordingDesk()
	d.fail["bad@acme.example"] = true
	p := newTestPoller(t, s.addr, d, 0, func(o *MailboxOptions) { o.MaxAttempts = 2 })
	if _, err := p.PollOnce(ctx); err != nil {
		t.Fatal(err)
	}
	// A recreated INBOX has a new UIDVALIDITY; the mail gets UID 1 again.
	c := s.client(t)
	if err := c.Delete("INBOX").Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Create("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	s.appendMail(t, "INBOX", bad)
	if _, err := p.PollOnce(ctx); err != nil {
		t.Fatal(err)
	}
	checkEqual(t, "INBOX after one failure under the new UIDVALIDITY", s.ids(t, "INBOX"), []string{"bad@acme.example"})
	checkEqual(t, "Quarantine", s.ids(t, "Quarantine"), nil)
}

// imapCode is the response code of the server's NO or BAD in err.
func imapCode(err error) imap.ResponseCode {
	var imapErr *imap.Error
	if errors.As(err, &imapErr) {
		return imapErr.Code
	}
	return ""
}

func TestPollOnceLeavesFailedMailUntilMaxAttempts(t *testing.T) {
	ctx := testContext(t)
	s := startServer(t, serverConfig{})
	s.appendMail(t, "INBOX", testMail("bad@acme.example", "boom", "x"))
	d := newRecordingDesk()
	d.fail["bad@acme.example"] = true
	p := newTestPoller(t, s.addr, d, 0, func(o *MailboxOptions) { o.MaxAttempts = 3 })
	steps := []struct {
		name              string
		inbox, quarantine []string
	}{
		{"first failure leaves it in INBOX", []string{"bad@acme.example"}, nil},
		{"second failure leaves it in INBOX", []string{"bad@acme.example"}, nil},
		{"third failure moves it to Quarantine", nil, []string{"bad@acme.example"}},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			if _, err := p.PollOnce(ctx); err != nil {
				t.Fatal(err)
			}
			checkEqual(t, "INBOX", s.ids(t, "INBOX"), step.inbox)
			checkEqual(t, "Quarantine", s.ids(t, "Quarantine"), step.quarantine)
			checkEqual(t, "Processed", s.ids(t, "Processed"), nil)
		})
	}
}

func TestPollOnceAfterConnectionDroppedMidFetchHandlesEachMailOnce(t *testing.T) {
	ctx := testContext(t)
	s := startServer(t, serverConfig{})
	px := startProxy(t, s.addr)
	const marker = "CUT-HERE-0123456789"
	// Each mail is over half the limit, so each is fetched on its own and
	// the first is handled before the second one's fetch is cut.
	s.appendMail(t, "INBOX",
		testMail("m1@acme.example", "one", padded(600, "first")),
		testMail("m2@acme.example", "two", padded(300, "second")+marker+padded(300, "second")),
		testMail("m3@acme.example", "three", padded(600, "third")))
	d := newRecordingDesk()
	p := newTestPoller(t, px.addr(), d, 1000, nil)

	px.cutAt(marker)
	n, err := p.PollOnce(ctx)
	if err == nil {
		t.Fatalf("poll through a cut connection = %d, nil; want an error", n)
	}
	if px.cutCount() != 1 {
		t.Fatalf("proxy cut %d times, want 1", px.cutCount())
	}
	checkEqual(t, "desk got before the cut", d.ids(), []string{"m1@acme.example"})
	checkEqual(t, "INBOX after the cut", s.ids(t, "INBOX"), []string{"m2@acme.example", "m3@acme.example"})

	px.cutAt("")
	n, err = p.PollOnce(ctx)
	if err != nil || n != 2 {
		t.Fatalf("poll after reconnect = %d, %v; want 2, nil", n, err)
	}
	all := []string{"m1@acme.example", "m2@acme.example", "m3@acme.example"}
	checkEqual(t, "desk got", d.ids(), all)
	checkEqual(t, "INBOX", s.ids(t, "INBOX"), nil)
	checkEqual(t, "Processed", s.ids(t, "Processed"), all)
}

func TestPollerRunHandlesNewMail(t *testing.T) {
	tests := []struct {
		name   string
		noIdle bool
		// interval is the poll interval: with IDLE, an hour, so only the
		// server's EXISTS can wake the poller.
		interval time.Duration
	}{
		{"IDLE wakes on new mail", false, time.Hour},
		{"without IDLE the poll interval finds new mail", true, time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			s := startServer(t, serverConfig{})
			d := newRecordingDesk()
			p := newTestPoller(t, s.addr, d, 0, func(o *MailboxOptions) { o.PollInterval = tt.interval })
			p.noIdle = tt.noIdle
			waits := watchWaits(p)
			run := startRun(t, ctx, p)

			waitFor(t, ctx, waits, func(w waitCount) bool { return w.waits >= 1 })
			s.appendMail(t, "INBOX", testMail("new@acme.example", "help", "please"))
			waitFor(t, ctx, d.received, func(id string) bool { return id == "new@acme.example" })
			waitFor(t, ctx, waits, func(w waitCount) bool { return w.handled == 1 })

			if err := run.stop(); err != nil {
				t.Fatalf("Run = %v, want nil after cancel", err)
			}
			checkEqual(t, "desk got", d.ids(), []string{"new@acme.example"})
			checkEqual(t, "Processed", s.ids(t, "Processed"), []string{"new@acme.example"})
			if p.LastSuccess().IsZero() {
				t.Error("LastSuccess is zero")
			}
		})
	}
}

func TestPollerRunReconnectsAfterDrop(t *testing.T) {
	ctx := testContext(t)
	s := startServer(t, serverConfig{})
	px := startProxy(t, s.addr)
	d := newRecordingDesk()
	p := newTestPoller(t, px.addr(), d, 0, func(o *MailboxOptions) { o.PollInterval = time.Hour })
	p.retryMin = time.Millisecond
	waits := watchWaits(p)
	run := startRun(t, ctx, p)

	waitFor(t, ctx, waits, func(w waitCount) bool { return w.waits >= 1 })
	px.dropAll()
	// Only a new connection can IDLE a second time.
	waitFor(t, ctx, waits, func(w waitCount) bool { return w.waits >= 2 })
	s.appendMail(t, "INBOX", testMail("after@acme.example", "back?", "hello"))
	waitFor(t, ctx, d.received, func(id string) bool { return id == "after@acme.example" })
	waitFor(t, ctx, waits, func(w waitCount) bool { return w.handled == 1 })
	if err := run.stop(); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	checkEqual(t, "desk got", d.ids(), []string{"after@acme.example"})
	checkEqual(t, "Processed", s.ids(t, "Processed"), []string{"after@acme.example"})
}

// waitCount is how often Run started to wait and how many mails it handled
// before, in all.
type waitCount struct{ waits, handled int }

// watchWaits reports each wait of p's Run on the returned channel, which
// holds the latest count.
func watchWaits(p *Poller) <-chan waitCount {
	ch := make(chan waitCount, 1)
	var total waitCount // touched only by Run's goroutine
	p.onWait = func(handled int) {
		total.waits++
		total.handled += handled
		sendLatest(ch, total)
	}
	return ch
}

func TestIMAPGroupBySize(t *testing.T) {
	tests := []struct {
		name  string
		msgs  []sized
		limit int64
		want  [][]sized
	}{
		{"nothing gives no groups", nil, 100, nil},
		{"small mails share a group", []sized{{1, 10}, {2, 20}}, 100, [][]sized{{{1, 10}, {2, 20}}}},
		{"a group holds at most the limit", []sized{{1, 60}, {2, 60}, {3, 40}}, 100,
			[][]sized{{{1, 60}}, {{2, 60}, {3, 40}}}},
		{"an oversize mail is alone and keeps its place", []sized{{1, 10}, {2, 500}, {3, 10}}, 100,
			[][]sized{{{1, 10}}, {{2, 500}}, {{3, 10}}}},
		{"a mail of exactly the limit is not oversize", []sized{{1, 100}}, 100, [][]sized{{{1, 100}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkEqual(t, "groups", groupBySize(tt.msgs, tt.limit), tt.want)
		})
	}
}

func TestIMAPBackoff(t *testing.T) {
	tests := []struct {
		name     string
		attempt  int
		min, max time.Duration
	}{
		{"first retry within a second", 1, 500 * time.Millisecond, time.Second},
		{"doubles each time", 4, 4 * time.Second, 8 * time.Second},
		{"capped at five minutes", 30, retryMax / 2, retryMax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 100 {
				if d := backoff(time.Second, tt.attempt); d < tt.min || d > tt.max {
					t.Fatalf("backoff(1s, %d) = %v, want in [%v, %v]", tt.attempt, d, tt.min, tt.max)
				}
			}
		})
	}
}

// running is a Run in a goroutine the test owns.
type running struct {
	cancel context.CancelFunc
	done   chan error
}

func startRun(t *testing.T, ctx context.Context, p *Poller) *running {
	ctx, cancel := context.WithCancel(ctx)
	r := &running{cancel: cancel, done: make(chan error, 1)}
	go func() {
		defer recoverTest(t)
		r.done <- p.Run(ctx)
	}()
	t.Cleanup(func() { r.stop() })
	return r
}

// stop cancels Run and waits for it.
func (r *running) stop() error {
	r.cancel()
	err, ok := <-r.done
	if ok {
		close(r.done)
	}
	return err
}

// sendLatest puts v in ch (capacity 1), replacing an unread value.
func sendLatest[T any](ch chan T, v T) {
	for {
		select {
		case ch <- v:
			return
		default:
		}
		select {
		case <-ch:
		default:
		}
	}
}

// waitFor reads ch until ok accepts a value or ctx ends.
func waitFor[T any](t *testing.T, ctx context.Context, ch <-chan T, ok func(T) bool) T {
	t.Helper()
	for {
		select {
		case v := <-ch:
			if ok(v) {
				return v
			}
		case <-ctx.Done():
			t.Fatalf("gave up waiting: %v", ctx.Err())
		}
	}
}

func checkEqual[T any](t *testing.T, what string, got, want []T) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}
