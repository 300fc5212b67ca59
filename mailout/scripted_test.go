package mailout

import (
	"context"
	"io"
	"log"
	"net"
	"strconv"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/postdesk/postdesk/store"
)

// script is what a scripted server does besides accepting mail. Each hook
// is called from the server's connection goroutine; nil means accept.
type script struct {
	// helo answers EHLO or HELO with the name the client gave.
	helo func(name string) error
	// mail answers the n-th MAIL FROM (counted from 1 over all
	// connections).
	mail func(n int) error
	// beforeData runs when the n-th DATA begins, before the server reads
	// the message; done is closed when the test ends.
	beforeData func(n int, done <-chan struct{})
	// afterData answers the n-th message once the server has read it; c
	// is the connection (to drop it).
	afterData func(n int, c *smtp.Conn) error
}

// scripted is a real SMTP server (go-smtp) on a loopback port that records
// what it sees and does what its script says.
type scripted struct {
	sc   script
	srv  *smtp.Server
	ln   net.Listener
	done chan struct{} // closed when the test ends: releases blocked hooks

	mu       sync.Mutex
	helos    []string // every EHLO/HELO name
	mails    int      // MAIL FROM commands
	data     [][]byte // every message read, whatever the answer
	accepted [][]byte // the messages answered with 250
}

func startScripted(t *testing.T, sc script) *scripted {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &scripted{sc: sc, ln: ln, done: make(chan struct{})}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		s.mu.Lock()
		s.helos = append(s.helos, c.Hostname())
		s.mu.Unlock()
		if sc.helo != nil {
			if err := sc.helo(c.Hostname()); err != nil {
				return nil, err
			}
		}
		return &scriptedSession{s: s, c: c}, nil
	}))
	s.srv.Domain = "scripted.localhost"
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = s.srv.Serve(ln)
	}()
	t.Cleanup(func() {
		close(s.done)
		s.srv.Close()
		<-served
	})
	return s
}

// to points the options at the server, in plain text.
func (s *scripted) to(o *Options) {
	host, port, _ := net.SplitHostPort(s.ln.Addr().String())
	o.Host, o.TLS = host, TLSNone
	o.Port, _ = strconv.Atoi(port)
}

// seen reports what the server saw so far.
func (s *scripted) seen() (helos []string, mails int, data, accepted [][]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.helos...), s.mails, append([][]byte(nil), s.data...),
		append([][]byte(nil), s.accepted...)
}

type scriptedSession struct {
	s *scripted
	c *smtp.Conn
}

func (ss *scriptedSession) Mail(string, *smtp.MailOptions) error {
	ss.s.mu.Lock()
	ss.s.mails++
	n := ss.s.mails
	ss.s.mu.Unlock()
	if ss.s.sc.mail != nil {
		return ss.s.sc.mail(n)
	}
	return nil
}

func (ss *scriptedSession) Rcpt(string, *smtp.RcptOptions) error { return nil }

func (ss *scriptedSession) Data(r io.Reader) error {
	ss.s.mu.Lock()
	n := len(ss.s.data) + 1
	ss.s.data = append(ss.s.data, nil) // the n-th message's place
	ss.s.mu.Unlock()
	if ss.s.sc.beforeData != nil {
		ss.s.sc.beforeData(n, ss.s.done)
	}
	body, err := io.ReadAll(r)
	ss.s.mu.Lock()
	ss.s.data[n-1] = body
	ss.s.mu.Unlock()
	if err != nil {
		return err
	}
	if ss.s.sc.afterData != nil {
		if err := ss.s.sc.afterData(n, ss.c); err != nil {
			return err
		}
	}
	ss.s.mu.Lock()
	ss.s.accepted = append(ss.s.accepted, body)
	ss.s.mu.Unlock()
	return nil
}

func (ss *scriptedSession) Reset()        {}
func (ss *scriptedSession) Logout() error { return nil }

// flushed is what a Flush run in a goroutine returned.
type flushed struct {
	st  Stats
	err error
}

// flushAsync runs s.Flush(ctx) in a goroutine; its result arrives on the
// channel.
func flushAsync(s *Sender, ctx context.Context) <-chan flushed {
	ch := make(chan flushed, 1)
	go func() {
		st, err := s.Flush(ctx)
		ch <- flushed{st, err}
	}()
	return ch
}

// await returns the next value of ch; it fails the test when none comes
// within waitCtx (a guard against hanging, not a timing assertion).
func await[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-waitCtx(t).Done():
		t.Fatalf("%s: nothing came", what)
	}
	panic("unreachable")
}

// queuedUnclaimed fails the test unless row id is queued, unclaimed and
// was tried attempts times.
func queuedUnclaimed(t *testing.T, db *store.DB, id int64, attempts int) {
	t.Helper()
	r := row(t, db, id)
	if r.Status != store.OutboxQueued || r.ClaimedBy != "" || r.Attempts != attempts {
		t.Errorf("row %d: %s, claimed by %q, %d attempts; want queued, unclaimed, %d attempts",
			id, r.Status, r.ClaimedBy, r.Attempts, attempts)
	}
}
