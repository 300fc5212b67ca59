package mailin

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/postdesk/postdesk/desk"
)

// observed records what a Poller tells its Observer.
type observed struct {
	mu         sync.Mutex
	processed  []string // "mailbox outcome" per call
	negative   int      // Processed calls with a negative duration
	reconnects []string // the mailbox of each call
	panics     []string // the where of each Panicked call
}

var _ Observer = (*observed)(nil)

func (o *observed) Processed(mailbox string, outcome desk.Outcome, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.processed = append(o.processed, mailbox+" "+string(outcome))
	if d < 0 {
		o.negative++
	}
}

func (o *observed) Reconnected(mailbox string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.reconnects = append(o.reconnects, mailbox)
}

func (o *observed) Panicked(where string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.panics = append(o.panics, where)
}

func (o *observed) panicked() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.panics...)
}

func (o *observed) snapshot() (processed, reconnects []string, negative int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.processed...), append([]string(nil), o.reconnects...), o.negative
}

func TestObserverProcessed(t *testing.T) {
	big := testMail("big@acme.example", "core dump", padded(4000, "dump"))
	tests := []struct {
		name        string
		mails       [][]byte
		setup       func(d *recordingDesk)
		maxAttempts int
		polls       int
		want        []string
	}{{
		name:  "each handled mail is reported with the desk's outcome",
		mails: [][]byte{testMail("a@acme.example", "one", "x"), testMail("q@acme.example", "two", "y")},
		setup: func(d *recordingDesk) { d.quarantine["q@acme.example"] = true },
		polls: 1,
		want:  []string{"support new_case", "support quarantined"},
	}, {
		name:  "mail over the size limit is reported as quarantined",
		mails: [][]byte{big},
		polls: 1,
		want:  []string{"support quarantined"},
	}, {
		name:        "a failed attempt is not reported; the move to Quarantine after the last one is",
		mails:       [][]byte{testMail("bad@acme.example", "boom", "x")},
		setup:       func(d *recordingDesk) { d.fail["bad@acme.example"] = true },
		maxAttempts: 2,
		polls:       2,
		want:        []string{"support quarantined"},
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
			obs := &observed{}
			p := newTestPoller(t, s.addr, d, 2000, func(o *MailboxOptions) {
				o.Observer, o.MaxAttempts = obs, tt.maxAttempts
			})
			for i := range tt.polls {
				if _, err := p.PollOnce(ctx); err != nil {
					t.Fatalf("poll %d: %v", i+1, err)
				}
				if got, _, _ := obs.snapshot(); i < tt.polls-1 && len(got) != 0 {
					t.Fatalf("after poll %d the observer got %v, want nothing yet", i+1, got)
				}
			}
			processed, reconnects, negative := obs.snapshot()
			checkEqual(t, "Processed calls", processed, tt.want)
			checkEqual(t, "Reconnected calls", reconnects, nil)
			if negative != 0 {
				t.Errorf("%d Processed calls with a negative duration", negative)
			}
		})
	}
}

// panickingDesk is a recordingDesk whose Receive panics for one Message-ID.
type panickingDesk struct {
	*recordingDesk
	boom string
}

func (d *panickingDesk) Receive(ctx context.Context, in *desk.Inbound) (desk.Result, error) {
	if in.MessageID == d.boom {
		panic("injected: desk fault on " + in.MessageID)
	}
	return d.recordingDesk.Receive(ctx, in)
}

func TestObserverPanicked(t *testing.T) {
	ctx := testContext(t)
	s := startServer(t, serverConfig{})
	s.appendMail(t, "INBOX", testMail("ok@acme.example", "fine", "x"), testMail("boom@acme.example", "boom", "y"))
	obs := &observed{}
	d := &panickingDesk{recordingDesk: newRecordingDesk(), boom: "boom@acme.example"}
	p := newTestPoller(t, s.addr, d, 0, func(o *MailboxOptions) { o.Observer, o.MaxAttempts = obs, 2 })
	for i := range 2 {
		if _, err := p.PollOnce(ctx); err != nil {
			t.Fatalf("poll %d: %v", i+1, err)
		}
		checkEqual(t, fmt.Sprintf("Panicked calls after poll %d", i+1), obs.panicked(),
			slices.Repeat([]string{PanicRecord}, i+1))
	}
	processed, _, _ := obs.snapshot()
	checkEqual(t, "Processed calls", processed, []string{"support new_case", "support quarantined"})
}

func TestObserverReconnected(t *testing.T) {
	ctx := testContext(t)
	s := startServer(t, serverConfig{})
	px := startProxy(t, s.addr)
	obs := &observed{}
	p := newTestPoller(t, px.addr(), newRecordingDesk(), 0, func(o *MailboxOptions) {
		o.PollInterval, o.Observer = time.Hour, obs
	})
	p.retryMin = time.Millisecond
	waits := watchWaits(p)
	run := startRun(t, ctx, p)

	waitFor(t, ctx, waits, func(w waitCount) bool { return w.waits >= 1 })
	if _, reconnects, _ := obs.snapshot(); len(reconnects) != 0 {
		t.Fatalf("Reconnected calls after the first login = %v, want none", reconnects)
	}
	px.dropAll()
	// Only a new connection can IDLE a second time.
	waitFor(t, ctx, waits, func(w waitCount) bool { return w.waits >= 2 })
	if err := run.stop(); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	_, reconnects, _ := obs.snapshot()
	checkEqual(t, "Reconnected calls", reconnects, []string{"support"})
}

func TestObserverReconnectedAfterFailedConnect(t *testing.T) {
	ctx := testContext(t)
	s := startServer(t, serverConfig{})
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusing := closed.Addr().String() // nobody listens there once closed
	closed.Close()
	obs := &observed{}
	p := newTestPoller(t, s.addr, newRecordingDesk(), 0, func(o *MailboxOptions) { o.Observer = obs })
	const (
		none = iota
		logout
		drop
	)
	steps := []struct {
		name     string
		before   int // none, logout (Close) or drop (the connection breaks)
		addr     string
		password string
		wantErr  bool
		want     []string
	}{
		{"the first login is no reconnect", none, s.addr, testPassword, false, nil},
		{"a poll on the open connection is none either", none, s.addr, testPassword, false, nil},
		{"a login after Close is none", logout, s.addr, testPassword, false, nil},
		{"a refused connection is none", logout, refusing, testPassword, true, nil},
		{"the login after it is one", none, s.addr, testPassword, false, []string{"support"}},
		{"a refused login after Close is none", logout, s.addr, "wrong-password", true, []string{"support"}},
		{"the login after that is one", none, s.addr, testPassword, false, []string{"support", "support"}},
		{"a login after the connection dropped is one", drop, s.addr, testPassword, false,
			[]string{"support", "support", "support"}},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			switch step.before {
			case logout:
				p.Close()
			case drop:
				p.mu.Lock()
				p.conn.c.Close()
				<-p.conn.c.Closed()
				p.mu.Unlock()
			}
			p.mu.Lock()
			p.o.Addr, p.o.Password = step.addr, step.password
			p.mu.Unlock()
			if _, err := p.PollOnce(ctx); (err != nil) != step.wantErr {
				t.Fatalf("PollOnce = %v, want error %v", err, step.wantErr)
			}
			_, reconnects, _ := obs.snapshot()
			checkEqual(t, "Reconnected calls", reconnects, step.want)
		})
	}
}

func TestObserverReconnectedAfterCutMidFetch(t *testing.T) {
	ctx := testContext(t)
	s := startServer(t, serverConfig{})
	px := startProxy(t, s.addr)
	const marker = "CUT-HERE-0123456789"
	s.appendMail(t, "INBOX", testMail("cut@acme.example", "one", padded(300, "x")+marker+padded(300, "y")))
	obs := &observed{}
	p := newTestPoller(t, px.addr(), newRecordingDesk(), 0, func(o *MailboxOptions) { o.Observer = obs })

	px.cutAt(marker)
	if _, err := p.PollOnce(ctx); err == nil {
		t.Fatal("poll through a cut connection = nil error")
	}
	px.cutAt("")
	if n, err := p.PollOnce(ctx); err != nil || n != 1 {
		t.Fatalf("poll after the cut = %d, %v; want 1, nil", n, err)
	}
	processed, reconnects, _ := obs.snapshot()
	checkEqual(t, "Reconnected calls", reconnects, []string{"support"})
	checkEqual(t, "Processed calls", processed, []string{"support new_case"})
}
