package main

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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

// TestOutboxFlushAll: mail refused for now waits [smtp] retry_first before
// its next try; `outbox flush` leaves it waiting, `outbox flush -all` sends
// it at once.
func TestOutboxFlushAll(t *testing.T) {
	e := newEnvWith(t, "", "retry_first = \"5s\"\n")
	if line := e.ingest(filepath.Join("testdata", "new.eml")); line.Case != 1 {
		t.Fatalf("ingest = %+v, want case 1", line)
	}
	e.sink.Reject(451, 2) // the confirmation and the contacts' mail
	tried := time.Now()
	if out := e.must("", "outbox", "flush"); out != "sent 0, retrying 2, failed 0\n" {
		t.Fatalf("outbox flush while the server refuses: %q", out)
	}
	after := time.Now()
	for _, r := range e.outbox() {
		if r.Status != "queued" || r.Attempts != 1 || r.NextAttemptAt == nil ||
			r.NextAttemptAt.Before(tried.Add(5*time.Second).Truncate(time.Millisecond)) || r.NextAttemptAt.After(after.Add(5*time.Second)) {
			t.Errorf("after a 451: %+v, want queued, 1 attempt, next in retry_first (5s)", r)
		}
	}
	if out := e.must("", "outbox", "flush"); out != "sent 0, retrying 0, failed 0\n" {
		t.Errorf("outbox flush before the retry is due: %q, want nothing sent", out)
	}
	if out := e.must("", "outbox", "flush", "-all"); out != "made 2 due now; sent 2, retrying 0, failed 0\n" {
		t.Errorf("outbox flush -all: %q", out)
	}
	if n := len(e.sink.Messages()); n != 2 {
		t.Errorf("the SMTP server has %d mails, want 2", n)
	}
	if _, code := e.run("", "outbox", "list", "-all"); code != exitUsage {
		t.Errorf("outbox list -all: exit %d, want %d (usage)", code, exitUsage)
	}
}

// TestHeloReachesTheServer: [smtp] helo is the name in EHLO; without it,
// mailout's default, which always has a dot.
func TestHeloReachesTheServer(t *testing.T) {
	for _, tt := range []struct{ name, key, want string }{
		{"configured", "helo = \"mx1.example.net\"\n", "mx1.example.net"},
		{"default", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnvWith(t, "", tt.key)
			greeted := ehloCatcher(t, e)
			e.ingest(filepath.Join("testdata", "new.eml"))
			e.run("", "outbox", "flush") // the catcher refuses the mail: retrying
			var name string
			select {
			case name = <-greeted:
			case <-within(t).Done():
				t.Fatal("the sender never greeted the server")
			}
			if tt.want != "" && name != tt.want || !strings.Contains(name, ".") {
				t.Errorf("EHLO %q, want %q (a name with a dot)", name, tt.want)
			}
		})
	}
}

// ehloCatcher points e's [smtp] at a server that records the name of the
// first EHLO (or HELO) it gets and then says it is closing (421).
func ehloCatcher(t *testing.T, e *env) <-chan string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	text, err := os.ReadFile(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	text = []byte(strings.Replace(string(text), "port = "+strconv.Itoa(e.sink.Port()), "port = "+port, 1))
	if err := os.WriteFile(e.cfg, text, 0o600); err != nil {
		t.Fatal(err)
	}
	greeted := make(chan string, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		r := bufio.NewReader(conn)
		fmt.Fprint(conn, "220 catcher ESMTP\r\n")
		line, _ := r.ReadString('\n')
		verb, name, _ := strings.Cut(strings.TrimSpace(line), " ")
		if strings.EqualFold(verb, "EHLO") || strings.EqualFold(verb, "HELO") {
			greeted <- name
		} else {
			greeted <- "(no EHLO: " + line + ")"
		}
		fmt.Fprint(conn, "421 closing\r\n")
	}()
	return greeted
}
