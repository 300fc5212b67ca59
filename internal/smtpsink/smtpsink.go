// Package smtpsink is a real SMTP server (go-smtp) on a loopback port that
// records every message it accepts, and refuses on demand. Tests of several
// packages use it, and so does `postdesk demo`: it is not test-only.
//
// Start gives the plain sink. StartWith shapes it with Options: TLS
// (implicit or STARTTLS) and a Script whose hooks answer EHLO, MAIL FROM
// and DATA with a chosen Reply, hold a message back, or drop the
// connection (ErrDrop); Seen then tells what the server saw besides the
// messages it accepted. No go-smtp type appears in its API.
package smtpsink

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"strconv"
	"sync"

	"github.com/emersion/go-smtp"
)

// Received is one message the sink accepted.
type Received struct {
	From string   // the envelope sender (MAIL FROM)
	To   []string // the envelope recipients (RCPT TO)
	Data []byte   // the message exactly as received, CRLF line ends
	User string   // the name the client authenticated as; "" without AUTH
}

// The TLS modes of Options.TLS.
const (
	TLSImplicit = "implicit" // TLS from the first byte (RFC 8314)
	TLSStartTLS = "starttls" // plain text until STARTTLS (RFC 3207)
)

// Options shape a Sink. The zero value is what Start gives: plain text,
// AUTH PLAIN with any user name and password, every message accepted.
type Options struct {
	// TLS is TLSImplicit or TLSStartTLS, with TLSConfig holding the
	// certificate (testcert.CA.Server()); either way AUTH is then offered
	// only over TLS. "" is plain text, AUTH included (loopback only).
	TLS       string
	TLSConfig *tls.Config
	// Script answers the commands it has hooks for; the zero Script
	// accepts everything.
	Script Script
}

// Sink is an SMTP server on a loopback port that records every message it
// accepts.
type Sink struct {
	srv     *smtp.Server
	ln      net.Listener
	script  Script
	done    chan struct{} // closed when Serve has returned
	closing chan struct{} // closed when Close begins: releases held hooks

	mu       sync.Mutex
	msgs     []Received
	changed  chan struct{} // closed and replaced whenever msgs grows
	seen     Seen          // EHLO names, MAIL FROM count, every message read
	rejCode  int
	rejLeft  int
	conns    map[net.Conn]struct{}
	closed   bool
	closeErr error
}

// Start listens on 127.0.0.1:0 with github.com/emersion/go-smtp, no TLS,
// AllowInsecureAuth (AUTH PLAIN with any user name and password).
func Start() (*Sink, error) { return StartWith(Options{}) }

// StartWith listens on 127.0.0.1:0 like Start, shaped by o.
func StartWith(o Options) (*Sink, error) {
	if o.TLS != "" && o.TLS != TLSImplicit && o.TLS != TLSStartTLS {
		return nil, fmt.Errorf("smtpsink: unknown TLS mode %q", o.TLS)
	}
	if o.TLS != "" && o.TLSConfig == nil {
		return nil, errors.New("smtpsink: TLS without a TLSConfig")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("smtpsink: %w", err)
	}
	s := &Sink{script: o.Script, done: make(chan struct{}), closing: make(chan struct{}),
		changed: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	s.ln = &listener{Listener: ln, sink: s}
	s.srv = smtp.NewServer(smtp.BackendFunc(s.newSession))
	s.srv.Domain = "smtpsink.localhost"
	s.srv.AllowInsecureAuth = o.TLS == ""
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	serve := s.ln
	switch o.TLS {
	case TLSImplicit:
		// Outside the tracking listener, so that go-smtp sees a *tls.Conn.
		serve = tls.NewListener(s.ln, o.TLSConfig)
	case TLSStartTLS:
		s.srv.TLSConfig = o.TLSConfig
	}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(serve)
	}()
	return s, nil
}

// Addr is where the sink listens, "127.0.0.1:PORT".
func (s *Sink) Addr() string { return s.ln.Addr().String() }

// Host is the sink's IP address, "127.0.0.1".
func (s *Sink) Host() string {
	host, _, _ := net.SplitHostPort(s.Addr())
	return host
}

// Port is the sink's TCP port.
func (s *Sink) Port() int {
	_, port, _ := net.SplitHostPort(s.Addr())
	n, _ := strconv.Atoi(port)
	return n
}

// Messages returns a copy of what was received so far, oldest first.
func (s *Sink) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.copyLocked()
}

func (s *Sink) copyLocked() []Received {
	out := make([]Received, len(s.msgs))
	for i, m := range s.msgs {
		out[i] = Received{From: m.From, To: append([]string(nil), m.To...), Data: append([]byte(nil), m.Data...), User: m.User}
	}
	return out
}

// Wait blocks until n messages were received, and returns them all, or
// until ctx ends.
func (s *Sink) Wait(ctx context.Context, n int) ([]Received, error) {
	for {
		s.mu.Lock()
		if len(s.msgs) >= n {
			out := s.copyLocked()
			s.mu.Unlock()
			return out, nil
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return s.Messages(), fmt.Errorf("smtpsink: waiting for %d messages: %w", n, ctx.Err())
		}
	}
}

// Reject makes the server answer RCPT for the next n messages (mail
// transactions) with code (e.g. 451 or 550); every recipient of such a
// transaction is refused. Reject(0, 0) accepts again.
func (s *Sink) Reject(code int, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejCode, s.rejLeft = code, n
}

// Close stops the server and waits until every connection is closed and
// every goroutine of the sink has returned. A closed sink refuses
// connections, which is how tests play an SMTP server that is down.
func (s *Sink) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return s.closeErr
	}
	s.closed = true
	s.mu.Unlock()

	close(s.closing)    // held BeforeData hooks return
	err := s.ln.Close() // Serve returns, no new connections
	<-s.done
	s.mu.Lock()
	conns := make([]net.Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	// Shutdown waits for the connection goroutines, which end now that
	// their sockets are closed.
	if serr := s.srv.Shutdown(context.Background()); serr != nil && !errors.Is(serr, net.ErrClosed) && err == nil {
		err = serr
	}
	s.mu.Lock()
	s.closeErr = err
	s.mu.Unlock()
	return err
}

// deliver records an accepted message.
func (s *Sink) deliver(m Received) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	close(s.changed)
	s.changed = make(chan struct{})
}

// takeRejection reports the code to refuse the next transaction with, if any.
func (s *Sink) takeRejection() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rejLeft <= 0 {
		return 0
	}
	s.rejLeft--
	return s.rejCode
}

// listener tracks the connections it accepts so that Close can end them.
type listener struct {
	net.Listener
	sink *Sink
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.sink.mu.Lock()
	defer l.sink.mu.Unlock()
	if l.sink.closed {
		c.Close()
		return nil, net.ErrClosed
	}
	tc := &trackedConn{Conn: c, sink: l.sink}
	l.sink.conns[tc] = struct{}{}
	return tc, nil
}

type trackedConn struct {
	net.Conn
	sink *Sink
}

func (c *trackedConn) Close() error {
	c.sink.mu.Lock()
	delete(c.sink.conns, c)
	c.sink.mu.Unlock()
	return c.Conn.Close()
}
