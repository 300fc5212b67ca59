package mailout

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/internal/smtpsink"
	"github.com/postdesk/postdesk/store"
)

// claim plays a sender that claims every due row as node at now and then
// dies without sending any.
func claim(t *testing.T, db *store.DB, node string, now time.Time) []*store.OutboxItem {
	t.Helper()
	items, err := db.ClaimOutbox(context.Background(), node, now, claimLease, batch)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// runUntil runs s.Run until the sink has n mails, then stops it.
func runUntil(t *testing.T, s *Sender, wait func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	err := wait(waitCtx(t))
	cancel()
	if rerr := await(t, done, "Run's return"); rerr != nil {
		t.Errorf("Run = %v", rerr)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestRestartTakesBackItsClaims: a sender with the Node of one that died
// holding claims sends their mail at once, without waiting for the lease
// (the clock does not move), once each.
func TestRestartTakesBackItsClaims(t *testing.T) {
	db := openDB(t)
	sink := startSink(t)
	c := newCase(t, db, "en")
	for range 3 {
		enqueue(t, db, confirmation(c))
	}
	if n := len(claim(t, db, "serve@mx1.example.com", t0)); n != 3 {
		t.Fatalf("the dead sender claimed %d rows, want 3", n)
	}
	s, _ := newSender(t, db, sink, func(o *Options) { o.Node = "serve@mx1.example.com" })

	runUntil(t, s, func(ctx context.Context) error { _, err := sink.Wait(ctx, 3); return err })

	if n := len(sink.Messages()); n != 3 {
		t.Errorf("the server got %d mails, want 3", n)
	}
	rows, _ := db.Outbox(context.Background(), c)
	for _, r := range rows {
		if r.Status != store.OutboxSent || r.Attempts != 1 {
			t.Errorf("row %d: %s after %d attempts, want sent once", r.ID, r.Status, r.Attempts)
		}
	}
}

// TestAnotherNodesClaimsLapse: claims of another node are left alone, by
// Run's start too, until their lease ends; then they are taken over.
func TestAnotherNodesClaimsLapse(t *testing.T) {
	db := openDB(t)
	sink := startSink(t)
	c := newCase(t, db, "en")
	for range 3 {
		enqueue(t, db, confirmation(c))
	}
	theirs := claim(t, db, "serve@mx2.example.com", t0)
	mine := enqueue(t, db, confirmation(c))
	claim(t, db, "serve@mx1.example.com", t0)
	s, clk := newSender(t, db, sink, func(o *Options) { o.Node = "serve@mx1.example.com" })

	runUntil(t, s, func(ctx context.Context) error { _, err := sink.Wait(ctx, 1); return err })
	if r := row(t, db, mine.ID); r.Status != store.OutboxSent {
		t.Errorf("own claimed row: %s, want sent", r.Status)
	}
	for _, it := range theirs {
		if r := row(t, db, it.ID); r.Status != store.OutboxQueued || r.ClaimedBy != "serve@mx2.example.com" {
			t.Errorf("row %d: %s, claimed by %q; want left to the other node", it.ID, r.Status, r.ClaimedBy)
		}
	}

	clk.Advance(claimLease - time.Millisecond)
	flush(t, s, Stats{})
	clk.Advance(time.Millisecond)
	flush(t, s, Stats{Sent: 3})
	if n := len(sink.Messages()); n != 4 {
		t.Errorf("the server got %d mails, want 4", n)
	}
}

// TestSlowBatchKeepsItsClaims: a sender whose mails take longer than the
// lease renews its claim as it goes, so another node does not take the
// rows it has still to send.
func TestSlowBatchKeepsItsClaims(t *testing.T) {
	db := openDB(t)
	entered, release := make(chan int, 2), make(chan struct{}, 2)
	srv := startScripted(t, smtpsink.Script{BeforeData: func(n int, done <-chan struct{}) {
		entered <- n
		select {
		case <-release:
		case <-done:
		}
	}})
	slow, clk := newSender(t, db, srv, func(o *Options) { o.Node = "serve@mx1.example.com" })
	other, otherClk := newSender(t, db, srv, func(o *Options) { o.Node = "serve@mx2.example.com" })
	c := newCase(t, db, "en")
	enqueue(t, db, confirmation(c))
	second := enqueue(t, db, confirmation(c))

	res := flushAsync(slow, context.Background())
	await(t, entered, "DATA of the first mail")
	clk.Advance(50 * time.Second)
	release <- struct{}{}
	await(t, entered, "DATA of the second mail")
	if r := row(t, db, second.ID); r.ClaimedBy != "serve@mx1.example.com" || !r.ClaimedUntil.Equal(t0.Add(50*time.Second+claimLease)) {
		t.Errorf("second row claimed by %q until %v, want renewed until %v", r.ClaimedBy, r.ClaimedUntil, t0.Add(50*time.Second+claimLease))
	}
	// Past the first lease, inside the renewed one.
	clk.Advance(30 * time.Second)
	otherClk.Advance(80 * time.Second)
	flush(t, other, Stats{})
	release <- struct{}{}
	if got := await(t, res, "the slow Flush"); got.err != nil || got.st != (Stats{Sent: 2}) {
		t.Errorf("slow Flush = %+v, %v; want 2 sent", got.st, got.err)
	}
	if _, mails, _, _ := seen(srv); mails != 2 {
		t.Errorf("the server saw %d transactions, want 2", mails)
	}
}

// TestHelo: EHLO names a fully qualified host, which a server refusing
// other names (as Postfix's reject_non_fqdn_helo_hostname does) accepts.
func TestHelo(t *testing.T) {
	fqdnOnly := func(name string) error {
		if !strings.Contains(name, ".") {
			return &smtpsink.Reply{Code: 504, Enhanced: [3]int{5, 5, 2},
				Message: "<" + name + ">: Helo command rejected: need fully-qualified hostname"}
		}
		return nil
	}
	host, _ := os.Hostname()
	tests := []struct {
		name  string
		helo  string
		want  string // the name the server saw
		stats Stats
	}{
		{"the default is the host name if qualified, else the desk's domain", "", defaultHelo(host, desk), Stats{Sent: 1}},
		{"a configured name is used", "mx1.example.net", "mx1.example.net", Stats{Sent: 1}},
		{"a short name is refused and the mail waits", "mx1", "mx1", Stats{Retried: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openDB(t)
			srv := startScripted(t, smtpsink.Script{Helo: fqdnOnly})
			s, _ := newSender(t, db, srv, func(o *Options) { o.Helo = tt.helo })
			it := enqueue(t, db, confirmation(newCase(t, db, "en")))

			flush(t, s, tt.stats)

			helos, _, _, accepted := seen(srv)
			if len(helos) == 0 || helos[0] != tt.want {
				t.Errorf("the server saw EHLO %q, want %q", helos, tt.want)
			}
			if tt.stats.Sent == 1 && len(accepted) != 1 {
				t.Errorf("the server accepted %d mails, want 1", len(accepted))
			}
			if tt.stats.Retried == 1 {
				if r := row(t, db, it.ID); !strings.Contains(r.LastError, "need fully-qualified hostname") {
					t.Errorf("row error %q, want the server's refusal", r.LastError)
				}
			}
		})
	}
}

func TestDefaultHelo(t *testing.T) {
	tests := []struct{ host, from, want string }{
		{"mx1.example.net", desk, "mx1.example.net"},
		{"mx1.example.net.", desk, "mx1.example.net"},
		{"vm", desk, "example.com"},
		{"", "help@support.example.org", "support.example.org"},
	}
	for _, tt := range tests {
		t.Run(tt.host+" sending as "+tt.from+" says "+tt.want, func(t *testing.T) {
			if got := defaultHelo(tt.host, tt.from); got != tt.want {
				t.Errorf("defaultHelo(%q, %q) = %q", tt.host, tt.from, got)
			}
		})
	}
}
