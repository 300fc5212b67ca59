package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Mail queued by another process while the daemon runs (DESIGN §10): the
// daemon watches the database and wakes its sender.

// TestWatchOutboxWakesTheSender runs the daemon's watcher in process and
// the command line as another connection: `case reply` wakes the sender,
// and nothing else does. No sender runs, so a wake-up can come from the
// watcher alone.
func TestWatchOutboxWakesTheSender(t *testing.T) {
	e := newEnv(t)
	if line := e.ingest(filepath.Join("testdata", "new.eml")); line.Case != 1 {
		t.Fatalf("ingest = %+v, want case 1", line)
	}
	cfg, err := LoadConfig(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	a, err := openApp(t.Context(), cfg, appOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	kicks := make(chan struct{}, 1)
	d := &daemonRun{app: a, log: slog.New(slog.DiscardHandler), kick: func() {
		select {
		case kicks <- struct{}{}:
		default:
		}
	}}
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.watchOutbox(ctx)
	}()
	defer func() { stop(); <-done }()
	waitKick := func(what string) {
		t.Helper()
		select {
		case <-kicks:
		case <-within(t).Done():
			t.Fatalf("%s: the sender was not woken within %v", what, waitLimit)
		}
	}

	// The confirmation and the contacts' mail were due when it started.
	waitKick("mail due at the start")
	if sent := e.flush(); len(sent) != 2 {
		t.Fatalf("outbox flush sent %d mails, want 2", len(sent))
	}
	// Nothing is due now: the flush's commits wake nobody.
	select {
	case <-kicks:
	default:
	}
	e.must("Please open port 443.\n", "case", "reply", "1", "-from", "agent@example.com", "-file", "-")
	waitKick("an answer queued by `case reply`")
	if sent := e.flush(); len(sent) != 1 || !slices.Equal(sent[0].To, []string{"alice@acme.example", "bob@acme.example", "carol@acme.example"}) {
		t.Errorf("the answer went to %v", envelopeRecipients(sent))
	}
}

// TestServeSendsAnswerQueuedByTheCommandLine: `postdesk case reply` while
// `postdesk serve` runs; the answer reaches the SMTP server without a
// kick from the command line (the time it took is logged, not asserted).
func TestServeSendsAnswerQueuedByTheCommandLine(t *testing.T) {
	e := newServeEnv(t)
	e.startDaemon()
	e.deliver(customerMail("port-1@acme.example", "Port closed"))
	if _, err := e.sink.Wait(within(t), 1); err != nil {
		t.Fatal(err)
	}
	queued := time.Now()
	e.must("Opened it.\n", "case", "reply", "1", "-from", "agent@example.com", "-file", "-")
	got, err := e.sink.Wait(within(t), 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("case reply → answer accepted by the SMTP server: %v (informative, not asserted)", time.Since(queued))
	if body := string(got[1].Data); !strings.Contains(body, "Opened it.") || !slices.Equal(got[1].To, []string{"alice@acme.example"}) {
		t.Errorf("second mail to %v is not the answer:\n%s", got[1].To, body)
	}
}
